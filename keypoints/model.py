"""MobileNetV2 corner model: backbone (weights imagenet / none / a local file), one of two heads, and the switches
for staged fine-tuning. Both heads output the corners in normalised image coordinates, (2K,) = x1, y1, ..., so the
loss, the metrics and every caller are the same for both.

- `model.head=heatmap` (default): a light decoder (upsampling with skips from the backbone at strides 16, 8 and 4)
  to one heat map per corner at stride `model.heatmap_stride`, and sub-pixel corners by soft-argmax (integral
  regression: the expected position under the heat map's softmax). The heat maps also give a per-corner confidence
  (keypoints/results.py: corners_with_confidence).
- `model.head=regress`: global pooling and dense layers that regress the coordinates directly (the seed's).

The model takes images in [0, 255]; a Rescaling layer inside does MobileNetV2's preprocess_input
(to [-1, 1]), so no caller can forget it.
"""

from __future__ import annotations

import keras
from keras import layers, ops

from configs import KeypointsConfig
from training import backbone as backbones
from training.backbone import WeightsError

__all__ = ["WeightsError", "build_model", "freeze_backbone", "layer_table", "unfreeze_from"]

BACKBONE = "mobilenetv2"
ALPHAS = (0.35, 0.5, 0.75, 1.0, 1.3, 1.4)
HEATMAPS = "heatmaps"  # the heat-map layer's name (logits, (H / stride, W / stride, K))
# backbone layers feeding the decoder: stride -> layer (their outputs, before the block's depthwise convolution)
SKIPS = {16: "block_13_expand_relu", 8: "block_6_expand_relu", 4: "block_3_expand_relu"}
PACKAGE = "nie_keypoints"


@keras.saving.register_keras_serializable(package=PACKAGE)
class SoftArgmax(layers.Layer):
    """Heat-map logits (B, h, w, K) -> corners (B, 2K) in normalised image coordinates: the expected cell centre
    ((i + 0.5) / w, (j + 0.5) / h) under each map's spatial softmax. Differentiable, sub-pixel, any backend."""

    def call(self, logits):
        logits = ops.cast(logits, "float32")
        shape = ops.shape(logits)
        h, w, k = shape[1], shape[2], shape[3]
        flat = ops.reshape(ops.transpose(logits, (0, 3, 1, 2)), (-1, k, h * w))
        p = ops.reshape(ops.softmax(flat, axis=-1), (-1, k, h, w))
        xs = (ops.cast(ops.arange(w), "float32") + 0.5) / ops.cast(w, "float32")
        ys = (ops.cast(ops.arange(h), "float32") + 0.5) / ops.cast(h, "float32")
        x = ops.sum(ops.sum(p, axis=2) * xs, axis=-1)  # (B, K)
        y = ops.sum(ops.sum(p, axis=3) * ys, axis=-1)
        return ops.reshape(ops.stack([x, y], axis=-1), (-1, 2 * k))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], 2 * input_shape[3])


def build_backbone(cfg: KeypointsConfig) -> keras.Model:
    h, w = cfg.data.image_height, cfg.data.image_width
    if cfg.model.alpha not in ALPHAS:
        raise ValueError(f"model.alpha must be one of {ALPHAS}, got {cfg.model.alpha}")
    return backbones.build_backbone(keras.applications.MobileNetV2, cfg.model.weights, f"MobileNetV2 (alpha {cfg.model.alpha}, {w}x{h})",
                                    bn_momentum=cfg.model.bn_momentum, input_shape=(h, w, 3), alpha=cfg.model.alpha,
                                    include_top=False, name=BACKBONE)


def build_model(cfg: KeypointsConfig) -> keras.Model:
    """Image (H, W, 3) in [0, 255] -> corners (2K,) normalised: x / width, y / height of pixel-edge coordinates."""
    if cfg.model.head == "heatmap":
        return build_heatmap_model(cfg)
    if cfg.model.head != "regress":
        raise ValueError(f"model.head must be heatmap or regress, got {cfg.model.head!r}")
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


def build_heatmap_model(cfg: KeypointsConfig) -> keras.Model:
    """The heat-map head: the backbone's last features, upsampled x2 at a time and joined with its features at
    strides 16, 8 (and 4) down to `model.heatmap_stride`, then one logit map per corner and soft-argmax."""
    h, w = cfg.data.image_height, cfg.data.image_width
    stride = cfg.model.heatmap_stride
    if stride not in (4, 8):
        raise ValueError(f"model.heatmap_stride must be 4 or 8, got {stride}")
    if h % 32 or w % 32:
        raise ValueError(f"the heat-map head needs an input size divisible by 32, got {w} x {h}")
    inputs = keras.Input((h, w, 3), name="image")
    x = layers.Rescaling(1 / 127.5, offset=-1.0, name="mobilenetv2_preprocess")(inputs)
    base = build_backbone(cfg)
    wanted = [s for s in (16, 8, 4) if s >= stride]
    features = keras.Model(base.input, [base.output, *(base.get_layer(SKIPS[s]).output for s in wanted)], name=BACKBONE)
    top, *skips = features(x)
    width = cfg.model.decoder_width
    y = _conv(top, width, 1, "decoder_top")
    for s, skip in zip(wanted, skips, strict=True):
        y = layers.UpSampling2D(2, interpolation="bilinear", name=f"decoder_up{s}")(y)
        y = layers.Concatenate(name=f"decoder_join{s}")([y, _conv(skip, width // 2, 1, f"decoder_skip{s}")])
        y = _conv(y, width, 3, f"decoder_conv{s}")
    logits = layers.Conv2D(cfg.model.num_keypoints, 1, name=HEATMAPS, dtype="float32")(y)
    outputs = SoftArgmax(name="corners", dtype="float32")(logits)
    return keras.Model(inputs, outputs, name="nie_keypoints")


def _conv(x, filters: int, size: int, name: str):
    x = layers.Conv2D(filters, size, padding="same", use_bias=False, name=name)(x)
    x = layers.BatchNormalization(momentum=0.9, name=f"{name}_bn")(x)
    return layers.ReLU(6.0, name=f"{name}_relu")(x)


def heatmap_model(model: keras.Model) -> keras.Model | None:
    """The same model with two outputs, (corners, heat-map logits), or None for a regressor."""
    try:
        maps = model.get_layer(HEATMAPS).output
    except ValueError:
        return None
    return keras.Model(model.inputs, [model.outputs[0], maps], name=f"{model.name}_with_heatmaps")


def export_graph(model: keras.Model) -> keras.Model:
    """What `nie export` writes: a heat-map model's logits (B, h, w, K), so that an exported model's corners are read
    and scored as the Keras model's are (keypoints/decode.py); a regressor as it is."""
    try:
        maps = model.get_layer(HEATMAPS).output
    except ValueError:
        return model
    return keras.Model(model.inputs[0], maps, name=f"{model.name}_heatmaps")  # one input, not a list of one: a plain signature


def freeze_backbone(model: keras.Model) -> None:
    backbones.freeze(model, BACKBONE)


def unfreeze_from(model: keras.Model, start: str) -> int:
    return backbones.unfreeze_from(model, BACKBONE, start, "keypoints")


def layer_table(model: keras.Model) -> str:
    return backbones.layer_table(model, BACKBONE)
