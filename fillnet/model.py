"""The fill model: a small CNN on the rectified opening, joined with the pose numbers, -> fill, overfill and whether
there is an open box at all.

Input (size, size, 8): the opening in [0, 255] and the 5 pose numbers as constant planes (fillnet/rectify.py).
Output (3,): fill in [0, 1] (a sigmoid), the overfill logit and the open-box logit (`model.open_head`; a closed box or
no box behind the corners: nie fill says no_box). Without the open head (models trained before it) the output is
(2,). The open head is built last, so a model without it is a prefix of one with it, weight for weight, and
`init=` starts the new head from such a model (training/model_files.py). The grid head (`model.grid_head`) adds
G x G more outputs after those: the fill cell by cell over the rim (data/synth/fill_grid.py), a denser lesson than
one number per picture, and a picture of where the content lies. It branches off inside the CNN, so `init=` matches
a model without it by layer names, and the head starts fresh. Residual blocks (`model.res_blocks`) add depth per
level; they start as the identity, so a trained model grows into them (init=, by layer names) answering as before.
"""

from __future__ import annotations

import math

import keras
from keras import layers, ops

from configs import FillnetConfig
from fillnet.rectify import GRID_STRIDE, grid_cells

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
    levels = []
    for i, width in enumerate(cfg.model.widths):
        x = layers.Conv2D(width, 3, strides=2, padding="same", use_bias=False, name=f"conv{i}a")(x)
        x = layers.BatchNormalization(momentum=0.9, name=f"bn{i}a")(x)
        x = layers.ReLU(name=f"relu{i}a")(x)
        x = layers.Conv2D(width, 3, padding="same", use_bias=False, name=f"conv{i}b")(x)
        x = layers.BatchNormalization(momentum=0.9, name=f"bn{i}b")(x)
        x = layers.ReLU(name=f"relu{i}b")(x)
        for j in range(cfg.model.res_blocks[i] if i < len(cfg.model.res_blocks) else 0):
            x = residual_block(x, width, f"res{i}_{j}")
        levels.append(x)
    x = layers.Concatenate(name="join")([layers.GlobalAveragePooling2D(name="pool")(x), layers.Flatten(name="flat")(
        layers.MaxPooling2D(pool_size=x.shape[1:3], name="max")(x)), layers.Dense(32, activation="relu", name="pose")(pose)])
    x = layers.Dropout(cfg.model.dropout, name="dropout")(x)
    x = layers.Dense(cfg.model.head_units, activation="relu", name="head")(x)
    z = layers.Dense(2, name="logits", dtype="float32")(x)
    out = FillHead(name="fill", dtype="float32")(z)
    if cfg.model.open_head:
        is_open = layers.Dense(1, name="open_logit", dtype="float32")(x)
        out = layers.Concatenate(name="fill_and_open", dtype="float32")([out, is_open])
    if cfg.model.grid_head:
        out = layers.Concatenate(name="with_grid", dtype="float32")([out, grid_head(cfg, levels)])
    return keras.Model(inputs, out, name="nie_fillnet")


def residual_block(x: keras.KerasTensor, width: int, name: str) -> keras.KerasTensor:
    """relu(x + bn(conv(relu(bn(conv(x)))))), the last BN's scale starting at 0: at first the block passes x through
    (x >= 0 after a ReLU), so depth can be added to a trained model without changing what it answers."""
    y = layers.Conv2D(width, 3, padding="same", use_bias=False, name=f"{name}_conv1")(x)
    y = layers.BatchNormalization(momentum=0.9, name=f"{name}_bn1")(y)
    y = layers.ReLU(name=f"{name}_relu1")(y)
    y = layers.Conv2D(width, 3, padding="same", use_bias=False, name=f"{name}_conv2")(y)
    y = layers.BatchNormalization(momentum=0.9, gamma_initializer="zeros", name=f"{name}_bn2")(y)
    return layers.ReLU(name=f"{name}_out")(layers.Add(name=f"{name}_add")([x, y]))


def grid_head(cfg: FillnetConfig, levels: list) -> keras.KerasTensor:
    """(B, G * G): the fill cell by cell over the rim (rows along the square's y), read from the stride-8 level; the
    cells of the margin around the rim are cropped off."""
    cells = grid_cells(cfg.data.size, cfg.data.margin)
    level = int(math.log2(GRID_STRIDE)) - 1
    if len(levels) <= level:
        raise ValueError(f"model.grid_head needs at least {level + 1} levels in model.widths")
    g = layers.Conv2D(32, 3, padding="same", activation="relu", name="grid_conv")(levels[level])
    g = layers.Conv2D(1, 1, name="grid_cells", dtype="float32")(g)
    g = layers.Cropping2D(cfg.data.margin // GRID_STRIDE, name="grid_crop")(g)
    return layers.Reshape((cells * cells,), name="grid_flat", dtype="float32")(g)
