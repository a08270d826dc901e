"""MobileNetV2 corner regressor: backbone (weights imagenet / none / a local file), a small head that
regresses the corners in normalised image coordinates, and the switches for staged fine-tuning.

The model takes images in [0, 255]; a Rescaling layer inside does MobileNetV2's preprocess_input
(to [-1, 1]), so no caller can forget it.
"""

from __future__ import annotations

from pathlib import Path

import keras
from keras import layers

from configs import KeypointsConfig

BACKBONE = "mobilenetv2"
ALPHAS = (0.35, 0.5, 0.75, 1.0, 1.3, 1.4)


class WeightsError(ValueError):
    """Backbone weights that cannot be had; the message says what to do instead."""


def build_backbone(cfg: KeypointsConfig) -> keras.Model:
    h, w = cfg.data.image_height, cfg.data.image_width
    if cfg.model.alpha not in ALPHAS:
        raise ValueError(f"model.alpha must be one of {ALPHAS}, got {cfg.model.alpha}")
    source = cfg.model.weights
    weights: str | None
    if source == "none":
        weights = None
    elif source == "imagenet":
        weights = "imagenet"
    else:
        if not Path(source).is_file():
            raise WeightsError(f"model.weights: {source} is neither 'imagenet', 'none' nor an existing weights file")
        weights = source
    try:
        backbone = keras.applications.MobileNetV2(input_shape=(h, w, 3), alpha=cfg.model.alpha, include_top=False, weights=weights,
                                                  name=BACKBONE)
    except Exception as err:  # the download or the file: say which, in one line
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        if weights == "imagenet":
            raise WeightsError(f"cannot fetch ImageNet weights for MobileNetV2 (alpha {cfg.model.alpha}, {w}x{h}): {first}. "
                               "Offline? Use model.weights=none, or a local weights file (model.weights=PATH), or pre-load "
                               "~/.keras/models (see the README)") from None
        raise WeightsError(f"cannot use backbone weights {source}: {first}") from None
    # Keras' MobileNetV2 keeps BatchNorm statistics with momentum 0.999: over a few thousand steps they lag
    # far behind the weights, and inference (which uses them) is then much worse than training.
    for layer in backbone.layers:
        if isinstance(layer, layers.BatchNormalization):
            layer.momentum = cfg.model.bn_momentum
    return backbone


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
    outputs = layers.Dense(2 * cfg.model.num_keypoints, name="corners")(x)
    return keras.Model(inputs, outputs, name="nie_keypoints")


def backbone_of(model: keras.Model) -> keras.Model:
    return model.get_layer(BACKBONE)


def freeze_backbone(model: keras.Model) -> None:
    """Stage 1: only the head learns (BatchNorm layers of a frozen backbone run in inference mode)."""
    backbone_of(model).trainable = False


def unfreeze_from(model: keras.Model, start: str) -> int:
    """Stage 2: the backbone's layers from `start` (a name or an index) on learn; returns that index."""
    backbone = backbone_of(model)
    backbone.trainable = True
    names = [layer.name for layer in backbone.layers]
    if start == "":
        index = 0
    elif start.lstrip("-").isdigit():
        index = int(start)
        if not -len(names) <= index < len(names):
            raise ValueError(f"model.unfreeze_from: index {index} is outside the backbone's {len(names)} layers")
        index %= len(names)
    elif start in names:
        index = names.index(start)
    else:
        import difflib

        close = difflib.get_close_matches(start, names, n=1)
        raise ValueError(f"model.unfreeze_from: no backbone layer {start!r}" + (f" (did you mean {close[0]!r}?)" if close else "")
                         + "; `nie train keypoints --list-layers` prints them")
    for i, layer in enumerate(backbone.layers):
        layer.trainable = i >= index
    return index


def layer_table(model: keras.Model) -> str:
    """The backbone's layers as a table (index, name, type, parameters), for choosing model.unfreeze_from."""
    rows = [f"{'index':>5}  {'name':<28} {'type':<22} {'params':>9}"]
    for i, layer in enumerate(backbone_of(model).layers):
        rows.append(f"{i:>5}  {layer.name:<28} {type(layer).__name__:<22} {layer.count_params():>9}")
    return "\n".join(rows)
