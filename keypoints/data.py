"""Keypoint training data: images and their corners from the dataset layout's VIA annotations, as tf.data.

Per element: decode -> resize to the model input (the corners move with it) -> [cache] ->
albumentations augmentation (training) -> the target: corners in normalised image coordinates,
n = (x + 0.5) / width, which stay exact under any resize, so predictions map back to any image size.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tensorflow as tf

from configs import KeypointsConfig
from data.corners import canonical_order
from data.images import check_decodes, image_size
from data.layout import DatasetPaths, UnsafePathError, safe_join
from data.splits import train_valid
from data.via import ViaFormatError, corners_from_regions, read_via
from keypoints.augment import augment, build_transform

AUTOTUNE = tf.data.AUTOTUNE


@dataclass
class Samples:
    ids: list[str]
    images: list[str]
    corners: list[np.ndarray]  # (K, 2) pixels of the image as stored, canonical order
    sizes: list[tuple[int, int]]  # (width, height)
    skipped: list[tuple[str, str]]

    def subset(self, keep: list[bool]) -> Samples:
        pick = [i for i, k in enumerate(keep) if k]
        return Samples([self.ids[i] for i in pick], [self.images[i] for i in pick], [self.corners[i] for i in pick],
                       [self.sizes[i] for i in pick], [])


def list_samples(source: str | os.PathLike, n_points: int = 4, label: str = "box") -> Samples:
    """Images of a dataset root with their corners from annotations.json; the rest skipped with a reason."""
    paths = DatasetPaths(Path(source))
    if not paths.annotations.is_file():
        raise FileNotFoundError(f"{source}: no annotations.json (a dataset root made by nie synth or nie import is expected)")
    samples = Samples([], [], [], [], [])
    annotated = set()
    for entry in read_via(paths.annotations):
        try:
            image = safe_join(paths.images, entry.filename)
        except UnsafePathError as err:
            samples.skipped.append((entry.filename, f"unsafe file name: {err}"))
            continue
        annotated.add(image.name)
        if not image.is_file():
            samples.skipped.append((entry.filename, "missing file"))
            continue
        pts, reason = corners_from_regions(entry, n_points, label)
        if pts is None:
            samples.skipped.append((entry.filename, reason))
            continue
        try:
            size = image_size(image)
            check_decodes(image)
        except (OSError, ValueError) as err:  # ImageReadError is a ValueError
            samples.skipped.append((entry.filename, f"unreadable image ({err})"))
            continue
        samples.ids.append(image.stem)
        samples.images.append(str(image))
        samples.corners.append(canonical_order(pts) if n_points >= 3 else pts)
        samples.sizes.append(tuple(int(v) for v in size))
    for image in paths.image_files():
        if image.name not in annotated:
            samples.skipped.append((image.name, "no annotation"))
    return samples


def split_samples(source: str | os.PathLike, cfg: KeypointsConfig) -> tuple[Samples, Samples, list[tuple[str, str]]]:
    try:
        return train_valid(source, lambda p: list_samples(p, cfg.model.num_keypoints, cfg.label), cfg.data.val_split, cfg.train.seed)
    except ViaFormatError as err:
        raise ValueError(str(err)) from None


def to_normalised(points_px: np.ndarray, width: int, height: int) -> np.ndarray:
    """Pixels (centres at integers) -> normalised image coordinates in [0, 1] across the image."""
    return (np.asarray(points_px, np.float64) + 0.5) / np.array([width, height], np.float64)


def to_pixels(points_norm: np.ndarray, width: int, height: int) -> np.ndarray:
    return np.asarray(points_norm, np.float64) * np.array([width, height], np.float64) - 0.5


def load_resized(path: tf.Tensor, corners_px: tf.Tensor, size_wh: tf.Tensor, height: int, width: int) -> tuple[tf.Tensor, tf.Tensor]:
    """uint8 image resized to (height, width) and its corners moved with it (pixels of the resized image)."""
    img = tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)
    img = tf.image.resize(tf.cast(img, tf.float32), [height, width], method="bilinear", antialias=True)
    img = tf.cast(tf.clip_by_value(tf.round(img), 0, 255), tf.uint8)
    img.set_shape([height, width, 3])
    scale = tf.constant([width, height], tf.float32) / tf.cast(size_wh, tf.float32)
    return img, (corners_px + 0.5) * scale - 0.5


def make_dataset(cfg: KeypointsConfig, samples: Samples, training: bool, seed: int | None = None) -> tf.data.Dataset:
    """Batched (image float32 [0, 255] (B, H, W, 3), corners normalised (B, 2K))."""
    h, w = cfg.data.image_height, cfg.data.image_width
    k = cfg.model.num_keypoints
    if not samples.ids:
        raise ValueError("no annotated images to load")
    ds = tf.data.Dataset.from_tensor_slices((samples.images, np.stack(samples.corners).astype(np.float32),
                                             np.array(samples.sizes, np.int32)))
    ds = ds.map(lambda p, c, s: load_resized(p, c, s, h, w), num_parallel_calls=AUTOTUNE)
    if len(samples.ids) * h * w * 3 / 2**20 <= cfg.data.cache_mb:
        ds = ds.cache()
    if training:
        ds = ds.shuffle(min(len(samples.ids), 2048), seed=cfg.train.seed if seed is None else seed, reshuffle_each_iteration=True)
    if training and cfg.data.augment:
        transform = build_transform(cfg.augment, seed=cfg.train.seed if seed is None else seed)

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
