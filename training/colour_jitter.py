"""Per-sample colour jitter of an image batch (brightness, contrast, saturation, hue), drawn from a seed.

Two implementations of the same operation: `colour_jitter` in TensorFlow ops (tf.data pipelines and the
classifier's Keras layer; stateless: the same seed gives the same output) and `colour_jitter_np` in NumPy
(the PyDataset loaders of every backend; drawn from a numpy Generator). `apply_colour_np` applies given
factors, which is how the two are checked against each other.
"""

from __future__ import annotations

import math

import numpy as np

RGB_TO_YIQ = np.array([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]], np.float32)
LUMA = np.array([0.299, 0.587, 0.114], np.float32)
YIQ_TO_RGB = np.linalg.inv(RGB_TO_YIQ)


def hue_matrices(angle: np.ndarray) -> np.ndarray:
    """(B, 3, 3) RGB -> RGB matrices rotating hue by `angle` radians (a rotation of I and Q in YIQ space)."""
    c, s = np.cos(angle), np.sin(angle)
    zero, one = np.zeros_like(c), np.ones_like(c)
    rotation = np.stack([np.stack([one, zero, zero], -1), np.stack([zero, c, -s], -1), np.stack([zero, s, c], -1)], 1)
    return (YIQ_TO_RGB[None] @ rotation @ RGB_TO_YIQ[None]).astype(np.float32)


def apply_colour_np(images: np.ndarray, shift: np.ndarray, contrast: np.ndarray, saturation: np.ndarray, angle: np.ndarray,
                    value_range: float = 1.0) -> np.ndarray:
    """Applies per-sample factors (each (B,)) to a float batch (B, H, W, 3); the order and maths of `colour_jitter`.

    Every step before the final clip is affine in the pixel (the contrast's mean is a per-image constant), so the four
    compose into one 3 x 4 matrix per image, applied in one pass by OpenCV: 12 to 16 times faster than the steps in turn
    (bench/colour_jitter.py), the same numbers to float32 rounding
    (tests/training/test_colour_jitter.py)."""
    import cv2

    images = np.asarray(images, np.float32)
    b = images.shape[0]
    shift, contrast, saturation = (np.asarray(v, np.float64).reshape(b) for v in (shift, contrast, saturation))
    hue = hue_matrices(np.asarray(angle).reshape(b)).astype(np.float64)
    out = np.empty_like(images)
    for i in range(b):
        image = np.ascontiguousarray(images[i])
        out[i] = cv2.transform(image, colour_affine(cv2.mean(image)[:3], shift[i], contrast[i], saturation[i], hue[i], value_range))
    return np.clip(out, 0.0, value_range, out=out)


def colour_affine(mean, shift: float, contrast: float, saturation: float, hue: np.ndarray, value_range: float = 1.0) -> np.ndarray:
    """(3, 4) float64: the jitter of one image as x -> A x + b (before the clip), given its per-channel `mean` and
    its hue matrix (`hue_matrices`). `cv2.transform` applies it; on a uint8 image it also rounds and clips to 0..255."""
    eye, to_grey = np.eye(3), np.broadcast_to(LUMA.astype(np.float64), (3, 3))  # to_grey @ x: the luma in every channel
    s = saturation * eye + (1.0 - saturation) * to_grey  # grey + (x - grey) * sat
    m = np.asarray(hue, np.float64) @ s
    offset = m @ (shift * value_range + (1.0 - contrast) * np.asarray(mean, np.float64))  # brightness, then contrast about the new mean
    return np.concatenate([contrast * m, offset[:, None]], 1)


def colour_jitter_np(images: np.ndarray, rng: np.random.Generator, brightness: float, contrast: float, saturation: float,
                     hue: float, value_range: float = 1.0) -> np.ndarray:
    """NumPy `colour_jitter`: each image of the float batch (B, H, W, 3) draws its own factors from `rng`."""
    b = images.shape[0]
    return apply_colour_np(images, rng.uniform(-brightness, brightness, b), rng.uniform(1 - contrast, 1 + contrast, b),
                           rng.uniform(1 - saturation, 1 + saturation, b), rng.uniform(-hue, hue, b) * 2.0 * math.pi, value_range)


def colour_jitter(images, seed, brightness: float, contrast: float, saturation: float, hue: float, value_range: float = 1.0):
    """Jitters a float batch (B, H, W, 3) in [0, value_range] with TensorFlow ops; each image draws its own factors.

    Args:
      seed: two integers (a stateless seed).
      brightness: add up to +- this share of value_range.
      contrast, saturation: scale by a factor in [1 - x, 1 + x] (contrast about the image mean, saturation about grey).
      hue: rotate hue up to +- this share of a full turn (in YIQ space).
    Returns:
      The batch, clipped to [0, value_range].
    """
    import tensorflow as tf

    rgb_to_yiq, luma = tf.constant(RGB_TO_YIQ), tf.constant(LUMA)
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 4)
    b = tf.shape(images)[0]

    def per_sample(s, lo, hi):
        return tf.reshape(tf.random.stateless_uniform([b], s, lo, hi), [-1, 1, 1, 1])

    images = images + per_sample(seeds[0], -brightness, brightness) * value_range
    mean = tf.reduce_mean(images, axis=[1, 2], keepdims=True)
    images = (images - mean) * per_sample(seeds[1], 1.0 - contrast, 1.0 + contrast) + mean
    grey = tf.reduce_sum(images * luma, axis=-1, keepdims=True)
    images = grey + (images - grey) * per_sample(seeds[2], 1.0 - saturation, 1.0 + saturation)
    angle = tf.random.stateless_uniform([b], seeds[3], -hue, hue) * 2.0 * math.pi
    c, s_ = tf.cos(angle), tf.sin(angle)
    zero, one = tf.zeros_like(c), tf.ones_like(c)
    rotation = tf.stack([tf.stack([one, zero, zero], -1), tf.stack([zero, c, -s_], -1), tf.stack([zero, s_, c], -1)], 1)
    matrix = tf.linalg.inv(rgb_to_yiq)[None] @ rotation @ rgb_to_yiq[None]  # (B, 3, 3)
    shape = tf.shape(images)
    flat = tf.reshape(images, [b, -1, 3]) @ tf.transpose(matrix, [0, 2, 1])  # a batched matmul: far faster than einsum here
    return tf.clip_by_value(tf.reshape(flat, shape), 0.0, value_range)
