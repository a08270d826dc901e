"""The depth loader as a tf.data pipeline (the TensorFlow backend's default; depth/data.py has the other).

Decoding, resizing and augmentation are TensorFlow ops; augmentation runs on whole batches with per-sample
parameters, which runs far fewer TensorFlow ops than per image.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from configs import DepthConfig
from depth.data import Pairs
from training.colour_jitter import colour_jitter

AUTOTUNE = tf.data.AUTOTUNE


# Element functions (each works eagerly and inside tf.data)
def decode_image(path: tf.Tensor) -> tf.Tensor:
    """uint8 RGB (H, W, 3) from a PNG / JPEG / BMP / GIF file."""
    img = tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)
    img.set_shape([None, None, 3])
    return img


def decode_depth(path: tf.Tensor, scale: float) -> tf.Tensor:
    """float32 metres (H, W, 1) from a 16-bit PNG (1/scale metre units) or a .npy of metres; invalid -> 0."""

    def npy(p):
        arr = np.load(np.asarray(p).item().decode(), allow_pickle=False).astype(np.float32)
        return arr.reshape(arr.shape[0], arr.shape[1])

    is_png = tf.strings.regex_full_match(tf.strings.lower(path), r".*\.png")
    depth = tf.cond(
        is_png,
        lambda: tf.cast(tf.io.decode_png(tf.io.read_file(path), dtype=tf.uint16)[..., 0], tf.float32) / scale,
        lambda: tf.numpy_function(npy, [path], tf.float32),
    )
    depth = tf.reshape(depth, tf.stack([tf.shape(depth)[0], tf.shape(depth)[1], 1]))
    return tf.where(tf.math.is_finite(depth) & (depth > 0), depth, tf.zeros_like(depth))


def resize_pair(image_u8: tf.Tensor, depth: tf.Tensor, height: int, width: int) -> tuple[tf.Tensor, tf.Tensor]:
    """Image with an area (box) filter (stays uint8), depth nearest (invalid pixels never blend)."""
    img = tf.cast(image_u8, tf.float32)
    shrink = tf.logical_and(tf.shape(img)[0] >= height, tf.shape(img)[1] >= width)
    img = tf.cond(shrink, lambda: tf.image.resize(img, [height, width], method="area"),  # a box filter: no aliasing
                  lambda: tf.image.resize(img, [height, width], method="bilinear"))
    img = tf.cast(tf.clip_by_value(tf.round(img), 0, 255), tf.uint8)
    dep = tf.image.resize(depth, [height, width], method="nearest")
    return img, dep


def augment_geometry(images: tf.Tensor, depths: tf.Tensor, seed: tf.Tensor, max_scale: float = 1.25) -> tuple[tf.Tensor, tf.Tensor]:
    """Random flip and scale-crop of a batch, image and depth together, per sample.

    One crop_and_resize call per batch does both (a box whose x1 > x2 is a mirrored crop): bilinear for
    images, nearest for depth so invalid pixels never blend. Depth values are unchanged: a crop resized
    back is a longer focal length, not a nearer scene.
    Args:
      images: (B, H, W, 3) float; depths: (B, H, W, 1); seed: int64 (2,) for the stateless random ops.
    """
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 4)
    b = tf.shape(images)[0]
    size = 1.0 / tf.random.stateless_uniform([b], seeds[0], 1.0, max_scale)
    y0 = tf.random.stateless_uniform([b], seeds[1]) * (1.0 - size)
    x0 = tf.random.stateless_uniform([b], seeds[2]) * (1.0 - size)
    flip = tf.random.stateless_uniform([b], seeds[3]) < 0.5
    x_left, x_right = tf.where(flip, x0 + size, x0), tf.where(flip, x0, x0 + size)
    boxes = tf.stack([y0, x_left, y0 + size, x_right], axis=1)
    index = tf.range(b)
    hw = tf.shape(images)[1:3]
    images = tf.image.crop_and_resize(images, boxes, index, hw, method="bilinear")
    depths = tf.image.crop_and_resize(depths, boxes, index, hw, method="nearest")
    return images, depths


def augment_colour(images: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    """Per-sample brightness, contrast, saturation and hue jitter of a batch in [0, 1]."""
    return colour_jitter(images, seed, brightness=0.1, contrast=0.2, saturation=0.2, hue=0.03)


def augment_batch(images: tf.Tensor, depths: tf.Tensor, seed: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """Geometry on images and depths together, then colour on the images only (a whole batch at once)."""
    geo_seed, colour_seed = tf.unstack(tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 2))
    images, depths = augment_geometry(images, depths, geo_seed)
    return augment_colour(images, colour_seed), depths


def to_model_io(image: tf.Tensor, depth: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """(input image, target = depth with the image appended)."""
    return image, tf.concat([depth, image], axis=-1)


def make_tf_dataset(cfg: DepthConfig, pairs: Pairs, training: bool, cache: bool | None, seed: int) -> tf.data.Dataset:
    """Batched tf.data pipeline of (image (B, H, W, 3) in [0, 1], target (B, H, W, 4)).

    Args:
      training: shuffle and augment (when cfg.data.augment).
      cache: keep decoded, resized pairs in memory (default: when they fit in cfg.data.cache_mb).
    """
    h, w = cfg.data.image_height, cfg.data.image_width
    n = len(pairs.ids)
    ds = tf.data.Dataset.from_tensor_slices((pairs.images, pairs.depths))
    scale = float(cfg.depth_scale)
    ds = ds.map(lambda i, d: resize_pair(decode_image(i), decode_depth(d, scale), h, w), num_parallel_calls=AUTOTUNE)
    if cache is None:
        cache = n * h * w * 7 / 2**20 <= cfg.data.cache_mb  # uint8 image + float32 depth
    if cache:
        ds = ds.cache()
    if training:
        ds = ds.shuffle(min(n, 2048), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(cfg.data.batch_size, drop_remainder=training and n >= cfg.data.batch_size)
    ds = ds.map(lambda i, d: (tf.cast(i, tf.float32) / 255.0, d), num_parallel_calls=AUTOTUNE)
    if training and cfg.data.augment:  # whole batches at once: far fewer, larger ops than per image
        seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
        ds = tf.data.Dataset.zip((ds, seeds)).map(lambda pair, s: augment_batch(pair[0], pair[1], s), num_parallel_calls=AUTOTUNE)
    return ds.map(to_model_io, num_parallel_calls=AUTOTUNE).prefetch(AUTOTUNE)
