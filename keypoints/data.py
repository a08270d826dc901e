"""Keypoint training data: images and their corners from the dataset layout's VIA annotations.

Per element: decode -> resize to the model input (the corners move with it) -> [cache] ->
augmentation (training; albumentations, or one OpenCV homography warp with `augment.engine=opencv`) -> the target: corners in normalised image coordinates,
n = (x + 0.5) / width, which stay exact under any resize, so predictions map back to any image size.

Two loaders give the same elements (`data.loader`): tf.data (keypoints/tf_data.py; the TensorFlow backend's
default) and a keras.utils.PyDataset with NumPy / OpenCV in worker processes (this module; any backend).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from configs import KeypointsConfig
from data.corners import canonical_order
from data.images import check_decodes, image_size, read_image
from data.layout import DatasetPaths, UnsafePathError, safe_join
from data.splits import train_valid
from data.via import ViaFormatError, corners_from_regions, read_via
from keypoints.augment import training_augment
from keypoints.warp_augment import WarpAugment
from training.batches import CachedLoads, default_workers, loads_in_processes, resume_seed, task_batches
from training.loader import use_tf_data


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
    found: list[tuple[str, Path, np.ndarray]] = []
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
        found.append((entry.filename, image, pts))
    # every image decoded once up front (threads: decoding releases the GIL), so a corrupt one is named here
    with ThreadPoolExecutor(max(1, min(16, os.cpu_count() or 1))) as pool:
        checks = list(pool.map(_size_if_decodes, [image for _, image, _ in found]))
    for (filename, image, pts), (size, error) in zip(found, checks, strict=True):
        if size is None:
            samples.skipped.append((filename, f"unreadable image ({error})"))
            continue
        samples.ids.append(image.stem)
        samples.images.append(str(image))
        samples.corners.append(canonical_order(pts) if n_points >= 3 else pts)
        samples.sizes.append(size)
    for image in paths.image_files():
        if image.name not in annotated:
            samples.skipped.append((image.name, "no annotation"))
    return samples


def _size_if_decodes(image: Path) -> tuple[tuple[int, int] | None, str]:
    try:
        size = image_size(image)
        check_decodes(image)
    except (OSError, ValueError) as err:  # ImageReadError is a ValueError
        return None, str(err)
    return (int(size[0]), int(size[1])), ""


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


def load_resized_np(path: str, corners_px: np.ndarray, size_wh: tuple[int, int], height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """uint8 image resized to (height, width) (area filter when shrinking) and its corners moved with it."""
    img = read_image(path)
    shrink = img.shape[0] >= height and img.shape[1] >= width
    img = cv2.resize(img, (width, height), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    scale = np.array([width, height], np.float64) / np.asarray(size_wh, np.float64)
    return img, (np.asarray(corners_px, np.float64) + 0.5) * scale - 0.5


class KeypointSamples:
    """One training element at a time, for training.batches.IndexedBatches (picklable for worker processes)."""

    def __init__(self, cfg: KeypointsConfig, samples: Samples, training: bool, seed: int, cache: bool):
        self.h, self.w = cfg.data.image_height, cfg.data.image_width
        self.samples = samples
        self.augment = training_augment(cfg.augment, seed) if training and cfg.data.augment else None
        self.resized = CachedLoads(self._load, len(samples.ids), cache)

    def _load(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        s = self.samples
        return load_resized_np(s.images[i], s.corners[i], s.sizes[i], self.h, self.w)

    def __call__(self, i: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        img, pts = self.resized(i)
        if self.augment is not None:
            img, pts = self.augment(img, pts, rng)
        target = ((np.asarray(pts, np.float64) + 0.5) / np.array([self.w, self.h], np.float64)).reshape(-1)
        # uint8 [0, 255]: a quarter of float32's bytes between the loader processes and the training one (Keras'
        # process pool pickles every batch through a pipe: 6x the images per second, bench/loader_transfer.py); the model's float32
        # Input casts it on the device
        return np.asarray(img, np.uint8), target.astype(np.float32)


def make_dataset(cfg: KeypointsConfig, samples: Samples, training: bool, seed: int | None = None, epochs_done: int = 0):
    """Batched (image [0, 255] (B, H, W, 3), corners normalised (B, 2K)): a tf.data.Dataset (float32 images) or a
    PyDataset (uint8 images, cast by the model's input), as `data.loader` says (auto: tf.data on TensorFlow).
    `epochs_done`: a resumed run's finished epochs, which reseed a tf.data pipeline (`resume_seed`; a PyDataset
    continues by `start_at` instead)."""
    if not samples.ids:
        raise ValueError("no annotated images to load")
    seed = cfg.train.seed if seed is None else seed
    if use_tf_data(cfg.data.loader):
        from keypoints.tf_data import make_tf_dataset

        return make_tf_dataset(cfg, samples, training, resume_seed(seed, epochs_done))
    h, w, n = cfg.data.image_height, cfg.data.image_width, len(samples.ids)
    loads = KeypointSamples(cfg, samples, training, seed, cache=n * h * w * 3 / 2**20 <= cfg.data.cache_mb)
    workers = default_workers(cfg.data.workers)
    if isinstance(loads.augment, WarpAugment) and workers > 1 and not loads_in_processes(workers, cfg.data.workers_as):
        # loader threads are the parallelism: OpenCV's own threads on top only contend (2 threads: 1.1x the images
        # with them, 1.7x without; bench/keypoints_augment.py). Not with forked workers: OpenCV's pool is left
        # alone there (tests/training/test_batches.py)
        cv2.setNumThreads(1)
    return task_batches(cfg, n, loads, loads.resized, training, seed, "keypoints: decoding")
