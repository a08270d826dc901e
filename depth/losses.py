"""The depth loss: weight_ssim * (1 - SSIM) + weight_l1 * L1 + weight_smooth * edge-aware smoothness.

Every term counts valid pixels only (ground truth > 0): SSIM over 7 x 7 windows that lie wholly on
valid pixels, L1 over valid pixels, smoothness over pairs of neighbouring valid pixels. SSIM's
dynamic range is the depth range the model can output (max_depth - min_depth), not an image size.
The smoothness term works on depth divided by its mean, so it does not shrink for near scenes.
"""

from __future__ import annotations

import keras
from keras import ops

from depth.model import PACKAGE

SSIM_WINDOW = 7
SSIM_K1, SSIM_K2 = 0.01, 0.03


def _box_mean(x, k: int):
    return ops.average_pool(x, pool_size=k, strides=1, padding="valid")


def ssim_map(x, y, mask, data_range: float, window: int = SSIM_WINDOW):
    """SSIM of each fully valid window (uniform window, sample covariance, as scikit-image computes it).

    Args:
      x, y: (B, H, W, 1) depth maps; mask: (B, H, W, 1) 1 where valid.
    Returns:
      (ssim, window_mask), each (B, H - window + 1, W - window + 1, 1); window_mask is 1 where the
      whole window is valid.
    """
    x = x * mask
    y = y * mask
    n = window * window
    win_mask = ops.cast(_box_mean(mask, window) > 1.0 - 0.5 / n, x.dtype)
    mx, my = _box_mean(x, window), _box_mean(y, window)
    cov_norm = n / (n - 1.0)
    vx = cov_norm * (_box_mean(x * x, window) - mx * mx)
    vy = cov_norm * (_box_mean(y * y, window) - my * my)
    vxy = cov_norm * (_box_mean(x * y, window) - mx * my)
    c1, c2 = (SSIM_K1 * data_range) ** 2, (SSIM_K2 * data_range) ** 2
    s = ((2 * mx * my + c1) * (2 * vxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return s, win_mask


def _masked_mean(values, mask):
    return ops.sum(values * mask) / ops.maximum(ops.sum(mask), 1.0)


def ssim_term(gt, pred, mask, data_range: float):
    """Mean (1 - SSIM) over fully valid windows; 0 when there are none."""
    s, win = ssim_map(pred, gt, mask, data_range)
    return _masked_mean(1.0 - s, win)


def l1_term(gt, pred, mask):
    """Mean absolute depth error (metres) over valid pixels."""
    return _masked_mean(ops.abs(pred - gt), mask)


def smoothness_term(pred, image, mask):
    """Edge-aware smoothness: |gradient of depth / mean depth| weighted by exp(-|image gradient|)."""
    mean = ops.sum(pred * mask, axis=(1, 2, 3), keepdims=True) / ops.maximum(ops.sum(mask, axis=(1, 2, 3), keepdims=True), 1.0)
    d = pred / ops.maximum(mean, 1e-6)
    dx = ops.abs(d[:, :, 1:] - d[:, :, :-1])
    dy = ops.abs(d[:, 1:] - d[:, :-1])
    wx = ops.exp(-ops.mean(ops.abs(image[:, :, 1:] - image[:, :, :-1]), axis=-1, keepdims=True))
    wy = ops.exp(-ops.mean(ops.abs(image[:, 1:] - image[:, :-1]), axis=-1, keepdims=True))
    mx = mask[:, :, 1:] * mask[:, :, :-1]
    my = mask[:, 1:] * mask[:, :-1]
    return _masked_mean(dx * wx, mx) + _masked_mean(dy * wy, my)


def split_target(y_true):
    """(depth (B, H, W, 1), image (B, H, W, 3), valid mask) from the 4-channel target of depth/data.py."""
    depth = y_true[..., 0:1]
    mask = ops.cast(depth > 0, depth.dtype)
    return depth, y_true[..., 1:4], mask


@keras.saving.register_keras_serializable(package=PACKAGE)
class DepthLoss(keras.losses.Loss):
    def __init__(self, data_range: float, weight_ssim: float = 0.85, weight_l1: float = 0.1, weight_smooth: float = 0.9,
                 name: str = "depth_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        self.data_range = float(data_range)
        self.weight_ssim = float(weight_ssim)
        self.weight_l1 = float(weight_l1)
        self.weight_smooth = float(weight_smooth)

    def call(self, y_true, y_pred):
        gt, image, mask = split_target(y_true)
        total = self.weight_l1 * l1_term(gt, y_pred, mask)
        if self.weight_ssim:
            total = total + self.weight_ssim * ssim_term(gt, y_pred, mask, self.data_range)
        if self.weight_smooth:
            total = total + self.weight_smooth * smoothness_term(y_pred, image, mask)
        return total

    def get_config(self):
        return {"data_range": self.data_range, "weight_ssim": self.weight_ssim, "weight_l1": self.weight_l1,
                "weight_smooth": self.weight_smooth, "name": self.name}
