"""Camera intrinsics K (pixels, pixel centres at integers): from a field of view, from EXIF, and after a resize."""

from __future__ import annotations

import math
import os

import numpy as np


def intrinsics_from_fov(width: int, height: int, fov_deg: float) -> np.ndarray:
    """K of a centred pinhole camera whose horizontal field of view is fov_deg."""
    f = 0.5 * width / math.tan(math.radians(fov_deg) / 2)
    return np.array([[f, 0, (width - 1) / 2], [0, f, (height - 1) / 2], [0, 0, 1]], np.float64)


def intrinsics_from_exif(path: str | os.PathLike, width: int, height: int) -> np.ndarray | None:
    """K from EXIF FocalLengthIn35mmFilm (36 mm wide frame), or None when the photo does not say."""
    from PIL import Image

    try:
        with Image.open(path) as img:
            exif = img.getexif().get_ifd(0x8769)  # the Exif sub-IFD holds the focal length
    except OSError:
        return None
    f35 = exif.get(0xA405)  # FocalLengthIn35mmFilm
    if not f35:
        return None
    f = float(f35) / 36.0 * max(width, height)
    return np.array([[f, 0, (width - 1) / 2], [0, f, (height - 1) / 2], [0, 0, 1]], np.float64)


def rescale_intrinsics(K: np.ndarray, from_wh: tuple[int, int], to_wh: tuple[int, int]) -> np.ndarray:
    """K for the image resized from from_wh to to_wh (pixel centres at integers: x' = (x + 0.5) s - 0.5)."""
    sx, sy = to_wh[0] / from_wh[0], to_wh[1] / from_wh[1]
    K = np.asarray(K, np.float64).copy()
    K[0, 0] *= sx
    K[1, 1] *= sy
    K[0, 2] = (K[0, 2] + 0.5) * sx - 0.5
    K[1, 2] = (K[1, 2] + 0.5) * sy - 0.5
    return K
