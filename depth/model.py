"""The U-Net depth estimator: DownscaleBlock / BottleNeckBlock / UpscaleBlock layers and a bounded log-depth head.

Output parameterisation (default, and why): the network's last logit l maps to
depth = exp(log(min) + sigmoid(l) * (log(max) - log(min))). Depth errors matter relative to depth
(abs_rel, delta), and equal steps of l are equal ratios of depth, so near and far are learnt with
the same relative precision; the sigmoid keeps every prediction positive and inside the range the
data can hold, which keeps early training stable.
"""

from __future__ import annotations

import math

import keras
from keras import layers, ops

from configs import DepthConfig

PACKAGE = "nie_depth"


@keras.saving.register_keras_serializable(package=PACKAGE)
class DownscaleBlock(layers.Layer):
    """Two 3x3 conv + BN + LeakyReLU with a residual add; returns (features for the skip, pooled)."""

    def __init__(self, filters: int, **kwargs):
        super().__init__(**kwargs)
        self.filters = filters
        self.conv_a = layers.Conv2D(filters, 3, padding="same")
        self.bn_a = layers.BatchNormalization()
        self.conv_b = layers.Conv2D(filters, 3, padding="same")
        self.bn_b = layers.BatchNormalization()
        self.pool = layers.MaxPooling2D(2)

    def build(self, input_shape):
        out = (*input_shape[:-1], self.filters)
        self.conv_a.build(input_shape)
        for layer in (self.bn_a, self.conv_b, self.bn_b):
            layer.build(out)

    def call(self, x, training=None):
        d = self.conv_a(x)
        x = ops.leaky_relu(self.bn_a(d, training=training), 0.2)
        x = ops.leaky_relu(self.bn_b(self.conv_b(x), training=training), 0.2)
        x = x + d
        return x, self.pool(x)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters}


@keras.saving.register_keras_serializable(package=PACKAGE)
class BottleNeckBlock(layers.Layer):
    """Two 3x3 conv + LeakyReLU at the coarsest level, with optional dropout."""

    def __init__(self, filters: int, dropout: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.filters = filters
        self.dropout = dropout
        self.conv_a = layers.Conv2D(filters, 3, padding="same")
        self.conv_b = layers.Conv2D(filters, 3, padding="same")
        self.drop = layers.Dropout(dropout)

    def build(self, input_shape):
        self.conv_a.build(input_shape)
        self.conv_b.build((*input_shape[:-1], self.filters))

    def call(self, x, training=None):
        x = ops.leaky_relu(self.conv_a(x), 0.2)
        x = self.drop(x, training=training)
        return ops.leaky_relu(self.conv_b(x), 0.2)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "dropout": self.dropout}


@keras.saving.register_keras_serializable(package=PACKAGE)
class UpscaleBlock(layers.Layer):
    """Bilinear 2x upsampling, concatenation with the skip, two 3x3 conv + BN + LeakyReLU."""

    def __init__(self, filters: int, **kwargs):
        super().__init__(**kwargs)
        self.filters = filters
        self.up = layers.UpSampling2D(2, interpolation="bilinear")
        self.concat = layers.Concatenate()
        self.conv_a = layers.Conv2D(filters, 3, padding="same")
        self.bn_a = layers.BatchNormalization()
        self.conv_b = layers.Conv2D(filters, 3, padding="same")
        self.bn_b = layers.BatchNormalization()

    def build(self, input_shape):
        x_shape, skip_shape = input_shape
        self.conv_a.build((*skip_shape[:-1], x_shape[-1] + skip_shape[-1]))
        out = (*skip_shape[:-1], self.filters)
        for layer in (self.bn_a, self.conv_b, self.bn_b):
            layer.build(out)

    def call(self, inputs, training=None):
        x, skip = inputs
        x = self.concat([self.up(x), skip])
        x = ops.leaky_relu(self.bn_a(self.conv_a(x), training=training), 0.2)
        return ops.leaky_relu(self.bn_b(self.conv_b(x), training=training), 0.2)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters}


@keras.saving.register_keras_serializable(package=PACKAGE)
class LogDepthHead(layers.Layer):
    """1x1 conv logit -> depth in [min_depth, max_depth] metres, uniform in log depth."""

    def __init__(self, min_depth: float, max_depth: float, **kwargs):
        super().__init__(**kwargs)
        if not 0 < min_depth < max_depth:
            raise ValueError(f"need 0 < min_depth < max_depth, got {min_depth}, {max_depth}")
        self.min_depth = float(min_depth)
        self.max_depth = float(max_depth)
        self.conv = layers.Conv2D(1, 1, dtype=self.dtype_policy)  # float32 under mixed precision, as the head is built

    def build(self, input_shape):
        self.conv.build(input_shape)

    def call(self, x):
        lo, hi = math.log(self.min_depth), math.log(self.max_depth)
        return ops.exp(lo + ops.sigmoid(self.conv(x)) * (hi - lo))

    def get_config(self):
        return {**super().get_config(), "min_depth": self.min_depth, "max_depth": self.max_depth}


def build_model(cfg: DepthConfig) -> keras.Model:
    """U-Net from cfg.model.widths (e.g. 16, 32, 64, 128, 256: four levels down, the last is the bottleneck).

    Input: image (H, W, 3) in [0, 1], H and W divisible by 2^(len(widths) - 1). Output: depth (H, W, 1) metres.
    """
    widths = list(cfg.model.widths)
    if len(widths) < 2:
        raise ValueError("model.widths needs at least 2 levels")
    factor = 2 ** (len(widths) - 1)
    h, w = cfg.data.image_height, cfg.data.image_width
    if h % factor or w % factor:
        raise ValueError(f"data.image_height and data.image_width must be divisible by {factor} for {len(widths)} levels, got {w}x{h}")
    inputs = keras.Input((h, w, 3), name="image")
    x = inputs
    skips = []
    for f in widths[:-1]:
        skip, x = DownscaleBlock(f)(x)
        skips.append(skip)
    x = BottleNeckBlock(widths[-1], cfg.model.dropout)(x)
    for f, skip in zip(reversed(widths[:-1]), reversed(skips), strict=True):
        x = UpscaleBlock(f)([x, skip])
    outputs = LogDepthHead(cfg.model.min_depth_m, cfg.model.max_depth_m, name="depth", dtype="float32")(x)
    return keras.Model(inputs, outputs, name="nie_depth_unet")
