"""The keypoint loader as a tf.data pipeline (the TensorFlow backend's default; keypoints/data.py has the other).

Decode and resize run as TensorFlow ops; the albumentations augmentation runs through tf.numpy_function.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from configs import KeypointsConfig
from keypoints.augment import augment, build_transform
from keypoints.data import Samples

AUTOTUNE = tf.data.AUTOTUNE


def load_resized(path: tf.Tensor, corners_px: tf.Tensor, size_wh: tf.Tensor, height: int, width: int) -> tuple[tf.Tensor, tf.Tensor]:
    """uint8 image resized to (height, width) and its corners moved with it (pixels of the resized image)."""
    img = tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)
    img = tf.image.resize(tf.cast(img, tf.float32), [height, width], method="bilinear", antialias=True)
    img = tf.cast(tf.clip_by_value(tf.round(img), 0, 255), tf.uint8)
    img.set_shape([height, width, 3])
    scale = tf.constant([width, height], tf.float32) / tf.cast(size_wh, tf.float32)
    return img, (corners_px + 0.5) * scale - 0.5


def make_tf_dataset(cfg: KeypointsConfig, samples: Samples, training: bool, seed: int) -> tf.data.Dataset:
    """Batched (image float32 [0, 255] (B, H, W, 3), corners normalised (B, 2K))."""
    h, w = cfg.data.image_height, cfg.data.image_width
    k = cfg.model.num_keypoints
    ds = tf.data.Dataset.from_tensor_slices((samples.images, np.stack(samples.corners).astype(np.float32),
                                             np.array(samples.sizes, np.int32)))
    ds = ds.map(lambda p, c, s: load_resized(p, c, s, h, w), num_parallel_calls=AUTOTUNE)
    if len(samples.ids) * h * w * 3 / 2**20 <= cfg.data.cache_mb:
        ds = ds.cache()
    if training:
        ds = ds.shuffle(min(len(samples.ids), 2048), seed=seed, reshuffle_each_iteration=True)
    if training and cfg.data.augment:
        transform = build_transform(cfg.augment, seed=seed)

        def aug(image, pts):
            out, moved = augment(transform, image, pts)
            return out, moved.astype(np.float32)

        def tf_aug(image, pts):
            image, pts = tf.numpy_function(aug, [image, pts], [tf.uint8, tf.float32])
            image.set_shape([h, w, 3])
            pts.set_shape([k, 2])
            return image, pts

        ds = ds.map(tf_aug, num_parallel_calls=AUTOTUNE)
    norm = tf.constant([w, h], tf.float32)
    ds = ds.map(lambda image, pts: (tf.cast(image, tf.float32), tf.reshape((pts + 0.5) / norm, [2 * k])), num_parallel_calls=AUTOTUNE)
    return ds.batch(cfg.data.batch_size, drop_remainder=training and len(samples.ids) >= cfg.data.batch_size).prefetch(AUTOTUNE)
