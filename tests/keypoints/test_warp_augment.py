"""keypoints/warp_augment.py (augment.engine=opencv): the points follow the pixels, flips are re-sorted exactly,
the draws repeat from the same generator, and the ranges match the albumentations transform's."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from configs import KeypointsAugmentConfig
from keypoints.augment import augment, build_transform
from keypoints.warp_augment import WarpAugment
from tests.keypoints.test_augment import COLOURS, _dots, _find, _flipped
from tests.reference import screen_clockwise
from training.colour_jitter import apply_colour_np

GEOMETRIC = {"colour_p": 0.0, "blur_p": 0.0, "noise_p": 0.0}
STILL = {"rotate_deg": 0.0, "scale": (1.0, 1.0), "translate": 0.0, "perspective": 0.0, "hflip_p": 0.0, "vflip_p": 0.0}


@pytest.mark.parametrize("seed", range(12))
def test_points_follow_the_pixels(seed):
    warp = WarpAugment(KeypointsAugmentConfig(rotate_deg=30, perspective=0.08, vflip_p=0.5, **GEOMETRIC))
    img, pts = _dots()
    out, moved = warp(img, pts, np.random.default_rng(seed))
    assert out.dtype == np.uint8 and out.shape == img.shape
    assert np.allclose(moved, screen_clockwise(moved))
    found_any = False
    for colour in COLOURS:
        found = _find(out, colour)
        if found is None:
            continue  # pushed out of the frame
        found_any = True
        assert np.linalg.norm(moved - found, axis=1).min() < 1.0, (seed, colour, found, moved)
    assert found_any


def test_flips_are_re_sorted_exactly():
    img, pts = _dots()
    for flips in ((1.0, 0.0), (0.0, 1.0), (1.0, 1.0)):
        cfg = KeypointsAugmentConfig(**{**STILL, **GEOMETRIC, "hflip_p": flips[0], "vflip_p": flips[1]})
        out, moved = WarpAugment(cfg)(img, pts, np.random.default_rng(0))
        assert np.allclose(moved, screen_clockwise(_flipped(pts, *flips)), atol=1e-9)
        assert moved[0].sum() == min(moved.sum(1))
        flipped = img[:, ::-1] if flips[0] else img
        flipped = flipped[::-1] if flips[1] else flipped
        np.testing.assert_array_equal(out, flipped)  # an exact pixel permutation


def test_same_generator_same_draws_also_on_threads():
    warp = WarpAugment(KeypointsAugmentConfig(colour_p=1.0, blur_p=0.5, noise_p=1.0))
    img, pts = _dots()
    one = [warp(img, pts, np.random.default_rng(s)) for s in range(8)]
    with ThreadPoolExecutor(4) as pool:
        many = list(pool.map(lambda s: warp(img, pts, np.random.default_rng(s)), range(8)))
    for (a, pa), (b, pb) in zip(one, many, strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(pa, pb)
    assert not np.array_equal(one[0][0], one[1][0])


def test_share_augmented():
    img, pts = _dots()
    never = WarpAugment(KeypointsAugmentConfig(p=0.0))
    out, moved = never(img, pts, np.random.default_rng(0))
    np.testing.assert_array_equal(out, img)
    np.testing.assert_allclose(moved, pts)
    half, rng = WarpAugment(KeypointsAugmentConfig(p=0.5)), np.random.default_rng(1)
    changed = sum(not np.array_equal(half(img, pts, rng)[0], img) for _ in range(200))
    assert 70 <= changed <= 130  # about half (binomial sd 7)


def test_geometry_draws_match_albumentations():
    """The corners move as far, in the mean and the spread, as under the albumentations transform of the same
    settings (each 400 draws; independent implementations of the same ranges)."""
    cfg = KeypointsAugmentConfig(**GEOMETRIC)
    img, pts = _dots()
    rng = np.random.default_rng(3)
    warp = WarpAugment(cfg)
    ours = [np.linalg.norm(warp(img, pts, rng)[1] - screen_clockwise(pts), axis=1).mean() for _ in range(400)]
    transform = build_transform(cfg, seed=3)
    theirs = [np.linalg.norm(augment(transform, img, pts)[1] - screen_clockwise(pts), axis=1).mean() for _ in range(400)]
    # corners that stay in order: the moves of the same corner (flips re-sort, so compare the sorted distances)
    assert np.mean(ours) == pytest.approx(np.mean(theirs), rel=0.15)
    assert np.median(ours) == pytest.approx(np.median(theirs), rel=0.2)


def test_colour_matches_the_float_jitter_and_noise_has_its_range():
    rng = np.random.default_rng(0)
    img = rng.integers(20, 235, (40, 50, 3)).astype(np.uint8)
    cfg = KeypointsAugmentConfig(**{**STILL, "colour_p": 1.0, "blur_p": 0.0, "noise_p": 0.0})
    out, _ = WarpAugment(cfg)(img, np.zeros((4, 2)) + [[0, 0], [9, 0], [9, 9], [0, 9]], np.random.default_rng(5))
    # the same draws, in the order WarpAugment makes them, through the float jitter of every other loader
    draws = np.random.default_rng(5)
    draws.random(), draws.random(), draws.random()  # p, hflip, vflip
    draws.uniform(-0.0, 0.0), draws.uniform(1.0, 1.0), draws.uniform(-0.0, 0.0, 2), draws.random()  # rotate, scale, translate, colour_p
    angle = draws.uniform(-0.04, 0.04) * 2 * np.pi
    shift, contrast, saturation = draws.uniform(-0.25, 0.25), draws.uniform(0.75, 1.25), draws.uniform(0.75, 1.25)
    ref = apply_colour_np(img[None].astype(np.float32), np.array([shift]), np.array([contrast]), np.array([saturation]),
                          np.array([angle]), 255.0)[0]
    assert np.abs(out.astype(float) - ref).max() <= 1.0  # one grey level: the rounding of OpenCV's uint8 arithmetic
    assert not np.array_equal(out, img)
    grey = np.full((120, 160, 3), 128, np.uint8)
    noisy = WarpAugment(KeypointsAugmentConfig(**{**STILL, "colour_p": 0.0, "blur_p": 0.0, "noise_p": 1.0}))
    stds = [np.std(noisy(grey, np.zeros((4, 2)), np.random.default_rng(s))[0].astype(float) - 128) for s in range(6)]
    assert all(0.01 * 255 * 0.9 <= s <= 0.05 * 255 * 1.1 for s in stds) and np.ptp(stds) > 0.5
    channels = noisy(grey, np.zeros((4, 2)), np.random.default_rng(0))[0].astype(float).reshape(-1, 3).std(0)
    assert channels.min() > 0.8 * channels.max()  # every channel, not the first alone
