"""depth/metrics.py against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from depth.metrics import abs_rel, delta1, depth_metrics, median_scaled


def _gt():
    return np.random.default_rng(0).uniform(0.5, 4.0, (30, 40)).astype(np.float64)


def test_ten_percent_too_far():
    gt = _gt()
    m = depth_metrics(gt, 1.1 * gt)
    assert m["abs_rel"] == pytest.approx(0.1)
    assert m["sq_rel"] == pytest.approx(0.01 * gt.mean())
    assert m["rmse"] == pytest.approx(0.1 * math.sqrt((gt**2).mean()))
    assert m["rmse_log"] == pytest.approx(math.log(1.1))
    assert m["delta1"] == m["delta2"] == m["delta3"] == 1.0


def test_delta_thresholds():
    gt = _gt()
    m = depth_metrics(gt, 1.3 * gt)
    assert m["delta1"] == 0.0 and m["delta2"] == 1.0
    half = gt.copy()
    half[:, :20] *= 1.3
    assert depth_metrics(gt, half)["delta1"] == pytest.approx(0.5)


def test_invalid_pixels_are_left_out():
    gt = _gt()
    pred = 1.1 * gt
    gt_holes = gt.copy()
    gt_holes[:10] = 0
    gt_holes[10, 0] = np.nan
    pred[:10] = 1000.0
    assert depth_metrics(gt_holes, pred)["abs_rel"] == pytest.approx(0.1)
    assert math.isnan(depth_metrics(np.zeros((4, 4)), np.ones((4, 4)))["abs_rel"])


def test_identical_maps_have_ssim_one_and_median_scaling():
    gt = _gt()
    assert depth_metrics(gt, gt)["ssim"] == pytest.approx(1.0)
    assert np.allclose(median_scaled(gt, 2.5 * gt), gt)


def test_keras_curves_match_numpy():
    gt = _gt().astype(np.float32)
    gt[:3] = 0
    pred = (gt * 1.2 + 0.05).astype(np.float32)
    pred[gt == 0] = 7
    y_true = np.concatenate([gt[None, :, :, None], np.zeros((1, 30, 40, 3), np.float32)], -1)
    ref = depth_metrics(gt, pred)
    assert float(abs_rel(y_true, pred[None, :, :, None])) == pytest.approx(ref["abs_rel"], rel=1e-5)
    assert float(delta1(y_true, pred[None, :, :, None])) == pytest.approx(ref["delta1"], rel=1e-5)
