"""keypoints/augment.py: the points follow the pixels (4 painted dots found again), corners stay canonical."""

from __future__ import annotations

import numpy as np
import pytest

from configs import KeypointsAugmentConfig
from keypoints.augment import augment, build_transform
from tests.reference import screen_clockwise

COLOURS = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0]], np.uint8)


def _dots(h=120, w=160):
    img = np.full((h, w, 3), 40, np.uint8)
    pts = np.array([[40.0, 30.0], [120.0, 35.0], [115.0, 90.0], [35.0, 85.0]])
    for p, c in zip(pts, COLOURS, strict=True):
        y, x = int(p[1]), int(p[0])
        img[y - 2 : y + 3, x - 2 : x + 3] = c  # 5 x 5 dot centred on an integer pixel
    return img, pts


def _find(img: np.ndarray, colour: np.ndarray) -> np.ndarray | None:
    dist = np.abs(img.astype(int) - colour.astype(int)).sum(-1)
    weight = np.clip(1 - dist / 250.0, 0, None) ** 2
    if weight.sum() < 2:
        return None
    ys, xs = np.mgrid[0 : img.shape[0], 0 : img.shape[1]]
    return np.array([(xs * weight).sum() / weight.sum(), (ys * weight).sum() / weight.sum()])


def _flipped(pts: np.ndarray, horizontal: float, vertical: float, w=160, h=120) -> np.ndarray:
    """`_dots`' points mirrored left-right and / or upside down (pixel centres at integers), in their given order."""
    out = np.asarray(pts, np.float64).copy()
    if horizontal:
        out[:, 0] = w - 1 - out[:, 0]
    if vertical:
        out[:, 1] = h - 1 - out[:, 1]
    return out


@pytest.mark.parametrize("seed", range(12))
def test_points_follow_the_pixels(seed):
    geometric = KeypointsAugmentConfig(colour_p=0.0, blur_p=0.0, noise_p=0.0, rotate_deg=30, perspective=0.05)
    img, pts = _dots()
    out, moved = augment(build_transform(geometric, seed=seed), img, pts)
    for colour in COLOURS:
        found = _find(out, colour)
        if found is None:
            continue  # pushed out of the frame
        nearest = np.linalg.norm(moved - found, axis=1).min()
        assert nearest < 1.5, (seed, colour, found, moved)


def test_points_leaving_the_frame_are_kept_and_order_is_canonical():
    cfg = KeypointsAugmentConfig(scale=(1.9, 2.0), translate=0.0, rotate_deg=0, perspective=0, hflip_p=0.5, vflip_p=0.5)
    img, pts = _dots()
    outside = 0
    for seed in range(10):
        _, moved = augment(build_transform(cfg, seed=seed), img, pts)
        assert moved.shape == (4, 2)
        assert np.allclose(moved, screen_clockwise(moved))
        outside += int(((moved < 0) | (moved > [159, 119])).any())
    assert outside > 0


def test_flips_are_re_sorted():
    img, pts = _dots()
    for flips in ((1.0, 0.0), (0.0, 1.0), (1.0, 1.0)):
        cfg = KeypointsAugmentConfig(hflip_p=flips[0], vflip_p=flips[1], rotate_deg=0, scale=(1.0, 1.0), translate=0.0,
                                     perspective=0.0, colour_p=0, blur_p=0, noise_p=0)
        _, moved = augment(build_transform(cfg, seed=0), img, pts)
        assert np.allclose(moved, screen_clockwise(_flipped(pts, *flips)), atol=1e-4)
        assert moved[0].sum() == min(moved.sum(1))


def test_share_augmented():
    img, pts = _dots()
    never = build_transform(KeypointsAugmentConfig(p=0.0), seed=0)
    for _ in range(10):
        out, moved = augment(never, img, pts)
        np.testing.assert_array_equal(out, img)
        np.testing.assert_allclose(moved, pts)
    half = build_transform(KeypointsAugmentConfig(p=0.5), seed=0)
    changed = sum(not np.array_equal(augment(half, img, pts)[0], img) for _ in range(200))
    assert 70 <= changed <= 130  # about half (binomial sd 7)
