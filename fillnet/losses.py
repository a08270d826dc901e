"""The fill model's loss (L1 on fill + weighted overfill and open-box cross-entropies) and its metrics (fill error
in percentage points over open boxes, open-box accuracy).

Targets are (B, 3) = (fill, overfill 0/1, open 0/1). Fill and overfill count only where there is an open box (a
closed box or a box-free scene has no fill to learn); the open-box term only for a model with the open head
(predictions (B, 3)); a model without it (B, 2) ignores the pictures without an open box. With the grid head the
targets are (B, 4 + G * G) = (fill, overfill, open, grid known 0/1, the fill grid) and the predictions (B, 3 + G * G):
the mean absolute error over the cells, weighted `grid_weight`, where the grid is known.
"""

from __future__ import annotations

import keras
from keras import ops

from fillnet.model import PACKAGE


def _bce_with_logits(logit, target):
    return ops.maximum(logit, 0.0) - logit * target + ops.log1p(ops.exp(-ops.abs(logit)))  # stable


def _open_mask(y_true):
    if y_true.shape[-1] is not None and y_true.shape[-1] >= 3:
        return y_true[:, 2]
    return ops.ones_like(y_true[:, 0])


@keras.saving.register_keras_serializable(package=PACKAGE)
class FillLoss(keras.losses.Loss):
    """y_true (B, 3) = (fill, overfill 0/1, open 0/1) (or (B, 2): all open); y_pred (B, 2) = (fill, overfill logit),
    (B, 3) with the open logit, (B, 3 + G * G) with the grid head (y_true then (B, 4 + G * G): module docstring)."""

    def __init__(self, overfill_weight: float = 0.1, open_weight: float = 0.2, grid_weight: float = 0.0,
                 name: str = "fill_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        self.overfill_weight = float(overfill_weight)
        self.open_weight = float(open_weight)
        self.grid_weight = float(grid_weight)

    def call(self, y_true, y_pred):
        is_open = _open_mask(y_true)
        l1 = ops.abs(y_true[:, 0] - y_pred[:, 0])
        loss = is_open * (l1 + self.overfill_weight * _bce_with_logits(y_pred[:, 1], y_true[:, 1]))
        if y_pred.shape[-1] is not None and y_pred.shape[-1] >= 3:
            loss = loss + self.open_weight * _bce_with_logits(y_pred[:, 2], is_open)
        if y_pred.shape[-1] is not None and y_pred.shape[-1] > 3:  # the grid head: y_true (B, 4 + G * G)
            has_grid = is_open * y_true[:, 3]
            loss = loss + self.grid_weight * has_grid * ops.mean(ops.abs(y_true[:, 4:] - y_pred[:, 3:]), axis=-1)
        return loss

    def get_config(self):
        return {"overfill_weight": self.overfill_weight, "open_weight": self.open_weight, "grid_weight": self.grid_weight,
                "name": self.name}


@keras.saving.register_keras_serializable(package=PACKAGE)
def fill_mae_pp(y_true, y_pred):
    """Mean absolute fill error in percentage points, over the open boxes of the batch."""
    is_open = _open_mask(y_true)
    return 100.0 * ops.sum(is_open * ops.abs(y_true[:, 0] - y_pred[:, 0])) / ops.maximum(ops.sum(is_open), 1.0)


@keras.saving.register_keras_serializable(package=PACKAGE)
def open_accuracy(y_true, y_pred):
    """Share of pictures whose open / not open the open head gets right (1 for a model without the head)."""
    if y_pred.shape[-1] is None or y_pred.shape[-1] < 3:
        return ops.mean(ops.ones_like(y_true[:, 0]))
    return ops.mean(ops.cast(ops.equal(ops.cast(y_pred[:, 2] > 0.0, "float32"), _open_mask(y_true)), "float32"))
