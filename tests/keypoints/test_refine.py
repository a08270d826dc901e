"""The corners' second looks (keypoints/refine.py): windows, their cutting and mapping back, the mirrored reading.

A reader that finds four blurred dots by their intensity-weighted centroids stands in for the model: it is exact up to
the filters, so any half-pixel slip in the window's coordinates (several picture pixels after the zoom) shows."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from configs import ConfigError, CornerRefineConfig, KeypointsConfig, apply_overrides, validate
from data.corners import match_order
from keypoints.refine import PLAIN, cut_window, from_window, refine, zoom_window

TRUTH = np.array([[100.3, 80.7], [300.2, 95.1], [290.6, 250.4], [110.9, 230.2]])  # picture pixels, clockwise


def _dots(h: int, w: int, points: np.ndarray, sigma: float) -> np.ndarray:
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    img = sum(np.exp(-((xs - x) ** 2 + (ys - y) ** 2) / (2 * sigma**2)) for x, y in points)
    return np.repeat((np.clip(img, 0, 1) * 255)[..., None], 3, axis=2).astype(np.float32)


def _read_dots(x: np.ndarray) -> tuple[np.ndarray, None]:
    """(B, h, w, 3) -> (B, 4, 2) the dots' weighted centroids, normalised ((i + 0.5) / w), in the order found."""
    out = []
    for img in x:
        grey = img[..., 0].astype(np.float64)
        n, labels = cv2.connectedComponents((grey > 0.5).astype(np.uint8))
        assert n - 1 == 4, "the reader needs the 4 dots apart"
        ys, xs = np.mgrid[0 : grey.shape[0], 0 : grey.shape[1]] + 0.5
        found = []
        for k in range(1, n):
            wgt = grey * (labels == k)
            found.append([(wgt * xs).sum() / wgt.sum() / grey.shape[1], (wgt * ys).sum() / wgt.sum() / grey.shape[0]])
        out.append(found[::-1])  # not clockwise: refine must not rely on the reader's order
    return np.array(out), None


def _run(img: np.ndarray, cfg: CornerRefineConfig, size=(64, 48)) -> np.ndarray:
    x = cv2.resize(img, size, interpolation=cv2.INTER_AREA)[None]
    got = refine(_read_dots, [img], x, cfg)[0][0]
    return got * np.array([img.shape[1], img.shape[0]]) - 0.5  # normalised -> picture pixels


def test_zoom_window_grows_the_box_keeps_the_aspect_and_stays_inside():
    box = np.array([[0.4, 0.45], [0.6, 0.45], [0.6, 0.55], [0.4, 0.55]])
    assert zoom_window(box, 0.5, 4.0) == pytest.approx((0.3, 0.3, 0.4))  # the wider side (0.2 * 2) sets the share
    assert zoom_window(box + [0.35, 0.0], 0.5, 4.0) == pytest.approx((0.6, 0.3, 0.4))  # moved left to fit
    assert zoom_window(box * 0.01, 0.5, 4.0) == pytest.approx((0.0, 0.0, 0.25))  # at least 1 / max_zoom, from the corner
    assert zoom_window(np.array([[0.0, 0.0], [1.0, 1.0]]), 0.3, 4.0) == pytest.approx((0.0, 0.0, 1.0))


def test_a_window_cut_and_mapped_back_puts_points_where_they_were():
    img = _dots(480, 640, TRUTH, 6.0)
    for window in ((0.1, 0.1, 0.5), (0.12, 0.13, 0.47), (0.0, 0.0, 1.0)):  # shrunk (area filter) in all three
        crop = cut_window(img, window, 64, 48)
        assert crop.shape == (48, 64, 3)
        seen, _ = _read_dots(crop[None])
        back = from_window(seen[0], window) * [640, 480] - 0.5
        assert np.abs(np.sort(back, axis=0) - np.sort(TRUTH, axis=0)).max() < 0.35
    small = _dots(96, 128, TRUTH / 5, 1.2)  # enlarged (bilinear): a window of a fifth of a small picture
    window = (0.1, 0.1, 0.55)
    seen, _ = _read_dots(cut_window(small, window, 128, 96)[None])
    back = from_window(seen[0], window) * [128, 96] - 0.5
    assert np.abs(np.sort(back, axis=0) - np.sort(TRUTH / 5, axis=0)).max() < 0.05


def test_match_order_undoes_a_mirror_and_a_shifted_start():
    ref = np.array([[0.1, 0.1], [0.8, 0.15], [0.75, 0.9], [0.12, 0.8]])
    mirrored_back = ref[[2, 1, 0, 3]] + 0.01  # counter-clockwise from another corner, as a mirror's reading returns
    assert np.allclose(match_order(ref, mirrored_back), ref + 0.01)


@pytest.mark.parametrize("cfg", [PLAIN, CornerRefineConfig(), CornerRefineConfig(flip=False, zoom_passes=2, zoom_margin=0.2)])
def test_refined_corners_land_on_the_dots(cfg):
    got = _run(_dots(480, 640, TRUTH, 6.0), cfg)
    assert np.abs(got - TRUTH).max() < 0.35  # clockwise, the reader's order undone


def test_the_zoom_reads_a_small_box_finer_than_the_whole_picture():
    small = TRUTH * 0.35 + [200, 150]  # a box 70 px across in a 640 x 480 picture; the reader sees it at 64 x 48
    img = _dots(480, 640, small, 1.0)
    rounding = lambda x: np.round(x * 8) / 8  # noqa: E731  (a reader that reads to an eighth of its pixel, like a heat map's cells)
    reader = lambda x: (rounding(_read_dots(x)[0] * [x.shape[2], x.shape[1]]) / [x.shape[2], x.shape[1]], None)  # noqa: E731
    x = cv2.resize(img, (64, 48), interpolation=cv2.INTER_AREA)[None]
    errors = {}
    for name, cfg in (("plain", PLAIN), ("zoom", CornerRefineConfig(flip=False))):
        got = refine(reader, [img], x, cfg)[0][0] * [640, 480] - 0.5
        errors[name] = float(np.abs(got - small).mean())
    assert errors["zoom"] < errors["plain"] / 2, errors


def test_refine_settings_are_checked():
    cfg = KeypointsConfig()
    apply_overrides(cfg, ["refine.zoom_passes=2", "refine.flip=false"])
    assert cfg.refine.zoom_passes == 2 and cfg.refine.flip is False
    for bad in ("refine.zoom_passes=4", "refine.zoom_margin=-0.1", "refine.max_zoom=0.5"):
        with pytest.raises(ConfigError, match=bad.split("=")[0]):
            validate(apply_overrides(KeypointsConfig(), [bad]))
