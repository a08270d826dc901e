"""The classifier's loader on every Keras backend (`data.loader=pydataset`; the default off TensorFlow, e.g. JAX on a
GPU machine without TensorFlow): the checked class-folder files read with OpenCV, resized by the area filter as in
prediction (classifier/results.resize_area), and the augmentation of classifier/augment.py done in NumPy / OpenCV:
flips, rotation and zoom with reflected edges, then colour jitter (training/colour_jitter.py). A box's fill changes
under none of them. The tf.data loader (classifier/data.py) stays the TensorFlow backend's default.
"""

from __future__ import annotations

import cv2
import numpy as np

from classifier.data import ClassSamples
from classifier.results import resize_area
from configs import ClassifierAugmentConfig, ClassifierConfig
from data.images import read_image
from training.batches import CachedLoads, IndexedBatches, task_batches
from training.colour_jitter import colour_jitter_np


def augment_np(image: np.ndarray, cfg: ClassifierAugmentConfig, rng: np.random.Generator) -> np.ndarray:
    """One float32 (H, W, 3) image in [0, 255]: random flips (cfg.flip), rotation up to +- cfg.rotate_deg and zoom by
    up to cfg.zoom about the centre (edges reflected), then brightness, contrast, saturation and hue jitter."""
    h, w = image.shape[:2]
    if cfg.flip in ("horizontal", "horizontal_and_vertical") and rng.uniform() < 0.5:
        image = image[:, ::-1]
    if cfg.flip in ("vertical", "horizontal_and_vertical") and rng.uniform() < 0.5:
        image = image[::-1]
    angle = rng.uniform(-cfg.rotate_deg, cfg.rotate_deg) if cfg.rotate_deg else 0.0
    scale = 1.0 + rng.uniform(-cfg.zoom, cfg.zoom) if cfg.zoom else 1.0
    if angle or scale != 1.0:
        m = cv2.getRotationMatrix2D(((w - 1) / 2.0, (h - 1) / 2.0), angle, scale)
        image = cv2.warpAffine(np.ascontiguousarray(image), m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
    return colour_jitter_np(np.ascontiguousarray(image, np.float32)[None], rng, cfg.brightness, cfg.contrast, cfg.saturation,
                            cfg.hue, value_range=255.0)[0]  # float32, clipped to [0, 255]


class ClassifierSamples:
    """One (image uint8 (H, W, 3), label int32) at a time, for IndexedBatches (picklable for workers)."""

    def __init__(self, cfg: ClassifierConfig, samples: ClassSamples, training: bool, cache: bool):
        self.h, self.w = cfg.data.image_height, cfg.data.image_width
        self.files, self.labels = [str(f) for f in samples.files], list(samples.labels)
        self.augment = cfg.augment if training and cfg.data.augment else None
        self.resized = CachedLoads(self._load, len(self.files), cache)

    def _load(self, i: int) -> tuple[np.ndarray]:
        return (np.clip(np.round(resize_area(read_image(self.files[i]), self.h, self.w)), 0, 255).astype(np.uint8),)

    def __call__(self, i: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        (img,) = self.resized(i)
        if self.augment is not None:
            img = np.round(augment_np(img.astype(np.float32), self.augment, rng)).astype(np.uint8)
        # uint8 [0, 255] through the loader processes (a quarter of float32's bytes; bench/loader_transfer.py), cast
        # to float32 by the model's input
        return img, np.int32(self.labels[i])


def make_batches(cfg: ClassifierConfig, samples: ClassSamples, training: bool, seed: int | None = None) -> IndexedBatches:
    """Batches of (image (B, H, W, 3) uint8, label (B,) int32) over checked samples, as classifier/data.make_dataset
    gives them from tf.data (there float32): shuffled each epoch and augmented when training."""
    if not samples.files:
        raise ValueError("no images to load")
    h, w, n = cfg.data.image_height, cfg.data.image_width, len(samples.files)
    loads = ClassifierSamples(cfg, samples, training, cache=n * h * w * 3 / 2**20 <= cfg.data.cache_mb)
    return task_batches(cfg, n, loads, loads.resized, training, cfg.train.seed if seed is None else seed, "classifier: decoding")

