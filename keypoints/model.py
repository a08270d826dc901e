"""MobileNetV2 corner regressor: backbone (weights imagenet / none / a local file), a small head that
regresses the corners in normalised image coordinates, and the switches for staged fine-tuning.

The model takes images in [0, 255]; a Rescaling layer inside does MobileNetV2's preprocess_input
(to [-1, 1]), so no caller can forget it.
"""

from __future__ import annotations

import keras
from keras import layers

from configs import KeypointsConfig
from training import backbone as backbones
from training.backbone import WeightsError

__all__ = ["WeightsError", "build_model", "freeze_backbone", "layer_table", "unfreeze_from"]

BACKBONE = "mobilenetv2"
ALPHAS = (0.35, 0.5, 0.75, 1.0, 1.3, 1.4)


def build_backbone(cfg: KeypointsConfig) -> keras.Model:
    h, w = cfg.data.image_height, cfg.data.image_width
    if cfg.model.alpha not in ALPHAS:
        raise ValueError(f"model.alpha must be one of {ALPHAS}, got {cfg.model.alpha}")
    return backbones.build_backbone(keras.applications.MobileNetV2, cfg.model.weights, f"MobileNetV2 (alpha {cfg.model.alpha}, {w}x{h})",
                                    bn_momentum=cfg.model.bn_momentum, input_shape=(h, w, 3), alpha=cfg.model.alpha,
                                    include_top=False, name=BACKBONE)


def build_model(cfg: KeypointsConfig) -> keras.Model:
    """Image (H, W, 3) in [0, 255] -> corners (2K,) normalised: x / width, y / height of pixel-edge coordinates."""
    h, w = cfg.data.image_height, cfg.data.image_width
    inputs = keras.Input((h, w, 3), name="image")
    x = layers.Rescaling(1 / 127.5, offset=-1.0, name="mobilenetv2_preprocess")(inputs)
    x = build_backbone(cfg)(x)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    x = layers.Dropout(cfg.model.dropout, name="head_dropout")(x)
    if cfg.model.head_units:
        x = layers.Dense(cfg.model.head_units, activation="relu", name="head_dense")(x)
    outputs = layers.Dense(2 * cfg.model.num_keypoints, name="corners", dtype="float32")(x)  # float32 under mixed precision
    return keras.Model(inputs, outputs, name="nie_keypoints")


def freeze_backbone(model: keras.Model) -> None:
    backbones.freeze(model, BACKBONE)


def unfreeze_from(model: keras.Model, start: str) -> int:
    return backbones.unfreeze_from(model, BACKBONE, start, "keypoints")


def layer_table(model: keras.Model) -> str:
    return backbones.layer_table(model, BACKBONE)
