"""A second look at the corners at inference: the mirrored picture, and a window cut around the corners found.

The corner model reads the whole picture resized to its input (256 x 192). A box that fills a fifth of the frame
then spans a few heat-map cells, and a pixel of error costs much of its IoU. After the first reading, a window around
the corners (their bounding box grown by `zoom_margin` on each side, with the picture's aspect ratio, moved inside the
picture) is cut from the picture at its own resolution and scaled to the model's input, and read again: the box is
larger there. With `flip`, every reading is averaged with the reading of the mirrored picture, corner by corner.

Everything here is in normalised picture coordinates (x / width, y / height, pixel edges: a pixel's centre is at
(i + 0.5) / width), where a window is (left, top, share of the picture's side): a point u in the window is
left + u * share in the picture, in x and in y alike.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from configs import CornerRefineConfig
from data.corners import canonical_order, match_order

PLAIN = CornerRefineConfig(flip=False, zoom_passes=0)  # one reading of the whole picture, as the model was trained

Reader = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray | None]]  # (B, h, w, 3) -> (B, K, 2) normalised, (B, K) or None


def zoom_window(corners: np.ndarray, margin: float, max_zoom: float) -> tuple[float, float, float]:
    """(left, top, share): the corners' (K, 2, normalised) bounding box grown by `margin` of its size on each side,
    squared to the picture's aspect ratio, at least 1 / max_zoom of the picture and at most all of it, shifted
    to lie inside the picture."""
    lo, hi = corners.min(axis=0), corners.max(axis=0)
    share = float(np.clip(max(*((hi - lo) * (1 + 2 * margin)), 1.0 / max_zoom), 1.0 / max_zoom, 1.0))
    left, top = np.clip((lo + hi) / 2 - share / 2, 0.0, 1.0 - share)
    return float(left), float(top), share


def cut_window(img: np.ndarray, window: tuple[float, float, float], width: int, height: int) -> np.ndarray:
    """The window of the picture at (width, height): area-filtered when it shrinks, bilinear when it enlarges."""
    left, top, share = window
    shrink = img.shape[1] * share / width
    if shrink > 1.0:  # bring the picture to the window's output scale first: a bilinear warp would alias
        img = cv2.resize(img, (max(1, round(img.shape[1] / shrink)), max(1, round(img.shape[0] / shrink))), interpolation=cv2.INTER_AREA)
    sw, sh = img.shape[1], img.shape[0]
    # output pixel (i, j) -> picture pixel coordinates (x = X - 0.5 for the edge coordinate X)
    m = np.array([[sw * share / width, 0.0, sw * left + sw * share * 0.5 / width - 0.5],
                  [0.0, sh * share / height, sh * top + sh * share * 0.5 / height - 0.5]])
    return cv2.warpAffine(img, m, (width, height), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)


def from_window(points: np.ndarray, window: tuple[float, float, float]) -> np.ndarray:
    """Normalised window coordinates -> normalised picture coordinates."""
    left, top, share = window
    return np.asarray(points, np.float64) * share + np.array([left, top])


def read_both_ways(read: Reader, x: np.ndarray, flip: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """A batch read once (with `flip`: the batch and its mirror in one call): (B, K, 2) normalised corners, clockwise,
    with `flip` the mean of the two readings corner by corner; and the batch's own reading as the reader gave it,
    with its confidences."""
    both, confidence = read(np.concatenate([x, x[:, :, ::-1]]) if flip else x)
    plain = np.asarray(both[: len(x)], np.float64)
    confidence = None if confidence is None else confidence[: len(x)]
    corners = np.stack([canonical_order(p) for p in plain])
    if flip:
        mirrored = np.array(both[len(x) :], np.float64)
        mirrored[..., 0] = 1.0 - mirrored[..., 0]
        corners = np.stack([(p + match_order(p, m)) / 2 for p, m in zip(corners, mirrored, strict=True)])
    return corners, plain, confidence


def refine(read: Reader, images: list[np.ndarray], x: np.ndarray, cfg: CornerRefineConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Corners after `cfg`'s looks: (B, K, 2) normalised; with the first reading of the whole pictures and its
    confidences (B, K) (None from a regressor), as read_both_ways gives them. `x`: the pictures at the model's
    input; `images`: the same at their own size, where the windows are cut. Fewer than 3 corners span no window:
    they are read once."""
    corners, first, confidence = read_both_ways(read, x, cfg.flip)
    if first.shape[1] < 3:
        return first, first, confidence
    height, width = x.shape[1:3]
    for _ in range(cfg.zoom_passes):
        windows = [zoom_window(c, cfg.zoom_margin, cfg.max_zoom) for c in corners]
        crops = np.stack([cut_window(img, w, width, height) for img, w in zip(images, windows, strict=True)]).astype(x.dtype)
        seen = read_both_ways(read, crops, cfg.flip)[0]
        corners = np.stack([from_window(s, w) for s, w in zip(seen, windows, strict=True)])
    return corners, first, confidence
