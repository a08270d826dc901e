"""The fill model's loss (L1 on fill + weighted overfill cross-entropy) and its metric (fill error in percentage points)."""

from __future__ import annotations

import keras
from keras import ops

from fillnet.model import PACKAGE


@keras.saving.register_keras_serializable(package=PACKAGE)
class FillLoss(keras.losses.Loss):
    """y_true (B, 2) = (fill, overfill 0/1); y_pred (B, 2) = (fill, overfill logit)."""

    def __init__(self, overfill_weight: float = 0.1, name: str = "fill_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        self.overfill_weight = float(overfill_weight)

    def call(self, y_true, y_pred):
        l1 = ops.abs(y_true[:, 0] - y_pred[:, 0])
        logit, target = y_pred[:, 1], y_true[:, 1]
        bce = ops.maximum(logit, 0.0) - logit * target + ops.log1p(ops.exp(-ops.abs(logit)))  # stable BCE with logits
        return l1 + self.overfill_weight * bce

    def get_config(self):
        return {"overfill_weight": self.overfill_weight, "name": self.name}


@keras.saving.register_keras_serializable(package=PACKAGE)
def fill_mae_pp(y_true, y_pred):
    """Mean absolute fill error in percentage points."""
    return 100.0 * ops.mean(ops.abs(y_true[:, 0] - y_pred[:, 0]))
