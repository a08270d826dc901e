"""depth/losses.py: each term against an independent computation (scikit-image SSIM, hand L1, smoothness)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter
from skimage.metrics import structural_similarity

from depth.losses import DepthLoss, l1_term, smoothness_term, ssim_map, ssim_term
from depth.metrics import ssim_map_np


def _smooth(rng, shape=(40, 52), lo=0.8, hi=3.0):
    field = gaussian_filter(rng.standard_normal(shape), 3)
    field = (field - field.min()) / (field.max() - field.min())
    return (lo + (hi - lo) * field).astype(np.float32)


def _b(x):
    return x[None, :, :, None]


def test_ssim_matches_scikit_image():
    rng = np.random.default_rng(0)
    gt = _smooth(rng)
    pred = (gt + 0.08 * rng.standard_normal(gt.shape)).astype(np.float32)
    data_range = 5.8
    expect = structural_similarity(gt.astype(np.float64), pred.astype(np.float64), data_range=data_range, win_size=7)
    mask = np.ones_like(gt)
    s, win = ssim_map(_b(pred), _b(gt), _b(mask), data_range)
    assert float(np.mean(np.asarray(s))) == pytest.approx(expect, abs=2e-5)
    assert float(ssim_term(_b(gt), _b(pred), _b(mask), data_range)) == pytest.approx(1 - expect, abs=2e-5)
    assert float(np.nanmean(ssim_map_np(gt, pred, data_range))) == pytest.approx(expect, abs=1e-9)


def test_ssim_ignores_invalid_pixels():
    rng = np.random.default_rng(1)
    gt = _smooth(rng)
    pred = gt * 1.05
    gt_holes = gt.copy()
    gt_holes[10:20, 10:30] = 0
    mask = (gt_holes > 0).astype(np.float32)
    a = float(ssim_term(_b(gt_holes), _b(pred), _b(mask), 5.0))
    garbage = pred.copy()
    garbage[10:20, 10:30] = 100.0  # whatever the prediction says on invalid pixels
    b = float(ssim_term(_b(gt_holes), _b(garbage), _b(mask), 5.0))
    assert a == pytest.approx(b, abs=1e-7)
    assert 0 < a < 0.1


def test_l1_by_hand():
    gt = np.array([[1.0, 2.0], [0.0, 4.0]], np.float32)
    pred = np.array([[1.5, 1.0], [9.0, 4.0]], np.float32)
    mask = (gt > 0).astype(np.float32)
    assert float(l1_term(_b(gt), _b(pred), _b(mask))) == pytest.approx((0.5 + 1.0 + 0.0) / 3)


def test_smoothness_zero_on_constant_and_edge_aware():
    image = np.zeros((1, 20, 20, 3), np.float32)
    mask = np.ones((1, 20, 20, 1), np.float32)
    flat = np.full((1, 20, 20, 1), 2.0, np.float32)
    assert float(smoothness_term(flat, image, mask)) == pytest.approx(0.0, abs=1e-7)
    step = flat.copy()
    step[:, :, 10:] = 3.0
    plain = float(smoothness_term(step, image, mask))
    assert plain > 0
    edged = image.copy()
    edged[:, :, 10:] = 1.0  # the depth step sits on an image edge: it costs less
    assert float(smoothness_term(step, edged, mask)) < plain * 0.5
    # the same relative step at another scale costs the same (depth is divided by its mean)
    assert float(smoothness_term(step * 3, image, mask)) == pytest.approx(plain, rel=1e-5)


def test_depth_loss_is_the_weighted_sum():
    rng = np.random.default_rng(2)
    gt = _smooth(rng)
    gt[:5, :5] = 0
    pred = gt * 0.9 + 0.3
    image = rng.random((40, 52, 3)).astype(np.float32)
    y_true = np.concatenate([_b(gt), image[None]], axis=-1)
    mask = _b((gt > 0).astype(np.float32))
    parts = (float(ssim_term(_b(gt), _b(pred), mask, 4.0)), float(l1_term(_b(gt), _b(pred), mask)),
             float(smoothness_term(_b(pred), image[None], mask)))
    loss = DepthLoss(4.0, weight_ssim=0.5, weight_l1=2.0, weight_smooth=0.25)
    assert float(loss(y_true, _b(pred))) == pytest.approx(0.5 * parts[0] + 2.0 * parts[1] + 0.25 * parts[2], rel=1e-5)
    assert DepthLoss.from_config(loss.get_config()).get_config() == loss.get_config()


def test_all_invalid_target_gives_a_finite_zero_loss():
    y_true = np.zeros((1, 16, 16, 4), np.float32)
    pred = np.full((1, 16, 16, 1), 2.0, np.float32)
    value = float(DepthLoss(5.0)(y_true, pred))
    assert np.isfinite(value) and value == 0.0


def test_ssim_term_counts_only_windows_wholly_on_valid_pixels():
    """Against a brute-force loop over every 7 x 7 window: windows touching an invalid pixel are left out."""
    rng = np.random.default_rng(3)
    gt = _smooth(rng, (20, 24))
    pred = (gt + 0.1 * rng.standard_normal(gt.shape)).astype(np.float32)
    mask = np.ones_like(gt)
    mask[5:8, 6:9] = 0
    mask[14, 3] = 0
    data_range = 5.8
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    values, partial = [], 0
    for y in range(gt.shape[0] - 6):
        for x in range(gt.shape[1] - 6):
            if not mask[y : y + 7, x : x + 7].all():
                partial += 1
                continue
            a, b = gt[y : y + 7, x : x + 7].ravel().astype(np.float64), pred[y : y + 7, x : x + 7].ravel().astype(np.float64)
            cov = np.cov(a, b)  # sample covariance, as scikit-image
            ma, mb = a.mean(), b.mean()
            values.append(((2 * ma * mb + c1) * (2 * cov[0, 1] + c2)) / ((ma * ma + mb * mb + c1) * (cov[0, 0] + cov[1, 1] + c2)))
    assert partial > 50 and len(values) > 50  # both kinds of window are there
    got = float(ssim_term(_b(np.where(mask > 0, gt, 0)), _b(pred), _b(mask), data_range))
    assert got == pytest.approx(1 - np.mean(values), abs=1e-5)
