"""Depth metrics (shared/conventions.md, section 5): abs_rel, sq_rel, rmse, rmse_log, delta1-3 and ssim,
over valid ground-truth pixels only; NumPy for evaluation, Keras functions for training curves."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops
from scipy.ndimage import uniform_filter

from depth.losses import SSIM_K1, SSIM_K2, SSIM_WINDOW, split_target
from depth.model import PACKAGE

METRIC_NAMES = ("abs_rel", "sq_rel", "rmse", "rmse_log", "delta1", "delta2", "delta3", "ssim")


def valid_pixels(gt: np.ndarray, pred: np.ndarray | None = None) -> np.ndarray:
    ok = np.isfinite(gt) & (gt > 0)
    if pred is not None:
        ok &= np.isfinite(pred) & (pred > 0)
    return ok


def ssim_map_np(gt: np.ndarray, pred: np.ndarray, data_range: float, window: int = SSIM_WINDOW) -> np.ndarray:
    """Per-pixel SSIM of two depth maps (H, W): each pixel's centred window; NaN where the window is not all valid.

    Uniform window with sample covariance, as scikit-image's structural_similarity computes it.
    """
    ok = valid_pixels(gt, pred).astype(np.float64)
    x = np.where(ok > 0, gt, 0).astype(np.float64)
    y = np.where(ok > 0, pred, 0).astype(np.float64)
    n = window * window

    def f(a):
        return uniform_filter(a, size=window, mode="constant")

    full = f(ok) > 1 - 0.5 / n
    mx, my = f(x), f(y)
    norm = n / (n - 1)
    vx = norm * (f(x * x) - mx * mx)
    vy = norm * (f(y * y) - my * my)
    vxy = norm * (f(x * y) - mx * my)
    c1, c2 = (SSIM_K1 * data_range) ** 2, (SSIM_K2 * data_range) ** 2
    s = ((2 * mx * my + c1) * (2 * vxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    half = window // 2
    full[:half] = full[-half:] = False
    full[:, :half] = full[:, -half:] = False
    return np.where(full, s, np.nan)


def depth_metrics(gt: np.ndarray, pred: np.ndarray, data_range: float | None = None) -> dict[str, float]:
    """Standard monocular-depth metrics over pixels valid in both maps; NaN values when none are valid.

    Args:
      gt, pred: (H, W) metres. data_range: SSIM's dynamic range (default: the ground truth's max - min).
    """
    ok = valid_pixels(gt, pred)
    if not ok.any():
        return {name: float("nan") for name in METRIC_NAMES}
    g, p = gt[ok].astype(np.float64), pred[ok].astype(np.float64)
    ratio = np.maximum(p / g, g / p)
    out = {
        "abs_rel": float(np.mean(np.abs(p - g) / g)),
        "sq_rel": float(np.mean((p - g) ** 2 / g)),
        "rmse": float(np.sqrt(np.mean((p - g) ** 2))),
        "rmse_log": float(np.sqrt(np.mean((np.log(p) - np.log(g)) ** 2))),
        "delta1": float(np.mean(ratio < 1.25)),
        "delta2": float(np.mean(ratio < 1.25**2)),
        "delta3": float(np.mean(ratio < 1.25**3)),
    }
    rng = data_range if data_range is not None else max(float(g.max() - g.min()), 1e-6)
    s = ssim_map_np(gt, pred, rng)
    out["ssim"] = float(np.nanmean(s)) if np.isfinite(s).any() else float("nan")
    return out


def median_scaled(gt: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """pred scaled by median(gt) / median(pred) over valid pixels: the usual scale-aligned evaluation."""
    ok = valid_pixels(gt, pred)
    if not ok.any():
        return pred
    return pred * (np.median(gt[ok]) / np.median(pred[ok]))


# Keras training curves (the target carries the image in channels 1-3; see depth/data.py)
@keras.saving.register_keras_serializable(package=PACKAGE)
def abs_rel(y_true, y_pred):
    gt, _, mask = split_target(y_true)
    return ops.sum(ops.abs(y_pred - gt) / ops.maximum(gt, 1e-6) * mask) / ops.maximum(ops.sum(mask), 1.0)


@keras.saving.register_keras_serializable(package=PACKAGE)
def delta1(y_true, y_pred):
    gt, _, mask = split_target(y_true)
    ratio = ops.maximum(y_pred / ops.maximum(gt, 1e-6), gt / ops.maximum(y_pred, 1e-6))
    return ops.sum(ops.cast(ratio < 1.25, mask.dtype) * mask) / ops.maximum(ops.sum(mask), 1.0)
