"""The corner loss: Huber on normalised coordinates, the smallest over cyclic shifts of the predicted corners.

The canonical order starts at the corner with the smallest x + y; when two corners nearly tie, a tiny
change of the view changes which one is first. All 4 corners are still clockwise, so the order is only
ever off by a rotation: taking the minimum over cyclic shifts stops the model from being punished for
that tie, and predictions are put back in canonical order afterwards.
"""

from __future__ import annotations

import keras
from keras import ops

PACKAGE = "nie_keypoints"


def _shifted_errors(y_true, y_pred, k: int, per_point):
    t = ops.reshape(y_true, (-1, k, 2))
    p = ops.reshape(y_pred, (-1, k, 2))
    errs = [ops.mean(per_point(t, ops.roll(p, shift=s, axis=1)), axis=1) for s in range(k)]
    return ops.min(ops.stack(errs, axis=1), axis=1)


@keras.saving.register_keras_serializable(package=PACKAGE)
class CyclicCornerLoss(keras.losses.Loss):
    def __init__(self, num_keypoints: int = 4, delta: float = 0.02, name: str = "cyclic_corner_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        self.num_keypoints = int(num_keypoints)
        self.delta = float(delta)

    def call(self, y_true, y_pred):
        def huber(t, p):
            err = ops.abs(t - p)
            quad = ops.minimum(err, self.delta)
            return ops.sum(0.5 * quad**2 + self.delta * (err - quad), axis=-1)

        return _shifted_errors(y_true, y_pred, self.num_keypoints, huber)

    def get_config(self):
        return {"num_keypoints": self.num_keypoints, "delta": self.delta, "name": self.name}


@keras.saving.register_keras_serializable(package=PACKAGE)
class CornerError(keras.metrics.Mean):
    """Mean corner distance in normalised units (x 100: about a percentage of the image side), best cyclic shift."""

    def __init__(self, num_keypoints: int = 4, name: str = "corner_err", **kwargs):
        super().__init__(name=name, **kwargs)
        self.num_keypoints = int(num_keypoints)

    def update_state(self, y_true, y_pred, sample_weight=None):
        def dist(t, p):
            return ops.sqrt(ops.sum((t - p) ** 2, axis=-1) + 1e-12)

        return super().update_state(100.0 * _shifted_errors(y_true, y_pred, self.num_keypoints, dist), sample_weight)

    def get_config(self):
        return {**super().get_config(), "num_keypoints": self.num_keypoints}
