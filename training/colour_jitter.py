"""Per-sample colour jitter of an image batch (brightness, contrast, saturation, hue), drawn from a seed.

Used by the training pipelines of every task, in tf.data or eagerly. Stateless: the same seed gives the
same output, which is what previews and tests need; training passes a fresh seed per batch.
"""

from __future__ import annotations

import math

import tensorflow as tf

_RGB_TO_YIQ = tf.constant([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]], tf.float32)
_LUMA = tf.constant([0.299, 0.587, 0.114], tf.float32)


def colour_jitter(images: tf.Tensor, seed: tf.Tensor, brightness: float, contrast: float, saturation: float, hue: float,
                  value_range: float = 1.0) -> tf.Tensor:
    """Jitters a float batch (B, H, W, 3) in [0, value_range]; each image draws its own factors.

    Args:
      seed: two integers (a stateless seed).
      brightness: add up to +- this share of value_range.
      contrast, saturation: scale by a factor in [1 - x, 1 + x] (contrast about the image mean, saturation about grey).
      hue: rotate hue up to +- this share of a full turn (in YIQ space).
    Returns:
      The batch, clipped to [0, value_range].
    """
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 4)
    b = tf.shape(images)[0]

    def per_sample(s, lo, hi):
        return tf.reshape(tf.random.stateless_uniform([b], s, lo, hi), [-1, 1, 1, 1])

    images = images + per_sample(seeds[0], -brightness, brightness) * value_range
    mean = tf.reduce_mean(images, axis=[1, 2], keepdims=True)
    images = (images - mean) * per_sample(seeds[1], 1.0 - contrast, 1.0 + contrast) + mean
    grey = tf.reduce_sum(images * _LUMA, axis=-1, keepdims=True)
    images = grey + (images - grey) * per_sample(seeds[2], 1.0 - saturation, 1.0 + saturation)
    angle = tf.random.stateless_uniform([b], seeds[3], -hue, hue) * 2.0 * math.pi
    c, s_ = tf.cos(angle), tf.sin(angle)
    zero, one = tf.zeros_like(c), tf.ones_like(c)
    rotation = tf.stack([tf.stack([one, zero, zero], -1), tf.stack([zero, c, -s_], -1), tf.stack([zero, s_, c], -1)], 1)
    matrix = tf.linalg.inv(_RGB_TO_YIQ)[None] @ rotation @ _RGB_TO_YIQ[None]  # (B, 3, 3)
    shape = tf.shape(images)
    flat = tf.reshape(images, [b, -1, 3]) @ tf.transpose(matrix, [0, 2, 1])  # a batched matmul: far faster than einsum here
    return tf.clip_by_value(tf.reshape(flat, shape), 0.0, value_range)
