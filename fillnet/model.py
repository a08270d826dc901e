"""The fill model: a small CNN on the rectified opening, joined with the pose numbers, -> fill and overfill.

Input (size, size, 8): the opening in [0, 255] and the 5 pose numbers as constant planes (fillnet/rectify.py).
Output (2,): fill in [0, 1] (a sigmoid) and the overfill logit.
"""

from __future__ import annotations

import keras
from keras import layers, ops

from configs import FillnetConfig

PACKAGE = "nie_fillnet"


@keras.saving.register_keras_serializable(package=PACKAGE)
class SplitPose(layers.Layer):
    """(B, h, w, 3 + P) -> [image (B, h, w, 3), pose numbers (B, P)] (the planes are constant: their mean)."""

    def call(self, x):
        return [x[..., :3], ops.mean(x[..., 3:], axis=(1, 2))]

    def compute_output_shape(self, input_shape):
        return [(*input_shape[:3], 3), (input_shape[0], input_shape[3] - 3)]


@keras.saving.register_keras_serializable(package=PACKAGE)
class FillHead(layers.Layer):
    """Two logits -> (sigmoid fill, overfill logit)."""

    def call(self, z):
        return ops.stack([ops.sigmoid(z[:, 0]), z[:, 1]], axis=-1)

    def compute_output_shape(self, input_shape):
        return input_shape


def build_model(cfg: FillnetConfig) -> keras.Model:
    size = cfg.data.size
    inputs = keras.Input((size, size, 8), name="opening_and_pose")
    image, pose = SplitPose(name="split")(inputs)
    x = layers.Rescaling(1 / 127.5, offset=-1.0, name="scale")(image)
    for i, width in enumerate(cfg.model.widths):
        x = layers.Conv2D(width, 3, strides=2, padding="same", use_bias=False, name=f"conv{i}a")(x)
        x = layers.BatchNormalization(momentum=0.9, name=f"bn{i}a")(x)
        x = layers.ReLU(name=f"relu{i}a")(x)
        x = layers.Conv2D(width, 3, padding="same", use_bias=False, name=f"conv{i}b")(x)
        x = layers.BatchNormalization(momentum=0.9, name=f"bn{i}b")(x)
        x = layers.ReLU(name=f"relu{i}b")(x)
    x = layers.Concatenate(name="join")([layers.GlobalAveragePooling2D(name="pool")(x), layers.Flatten(name="flat")(
        layers.MaxPooling2D(pool_size=x.shape[1:3], name="max")(x)), layers.Dense(32, activation="relu", name="pose")(pose)])
    x = layers.Dropout(cfg.model.dropout, name="dropout")(x)
    x = layers.Dense(cfg.model.head_units, activation="relu", name="head")(x)
    z = layers.Dense(2, name="logits", dtype="float32")(x)
    return keras.Model(inputs, FillHead(name="fill", dtype="float32")(z), name="nie_fillnet")
