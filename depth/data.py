"""Depth training data: (image, depth) pairs from the dataset layout or a CSV.

Per element: decode -> resize (image with a box filter when shrinking, depth nearest so invalid pixels
never blend into valid ones) -> [cache] -> shuffle -> batch -> augmentation with per-sample random
parameters (geometric on image and depth together: flip and scale-crop; photometric on the image only).

Two loaders give the same kind of elements (`data.loader`): tf.data (depth/tf_data.py, augmenting whole
batches at once; the TensorFlow backend's default) and a keras.utils.PyDataset with NumPy / OpenCV in worker
processes (this module; any backend).

The model input is the image in [0, 1]; the target is depth (metres, 0 = invalid) with the image
appended as channels 1-3, because the edge-aware smoothness loss needs the image and Keras hands a
loss only (y_true, y_pred).
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from configs import DepthConfig
from data.depth_io import read_depth
from data.images import ImageReadError, check_decodes, image_size, read_image
from data.layout import DatasetPaths, UnsafePathError, safe_join
from data.splits import train_valid
from training.batches import CachedLoads, resume_seed, task_batches
from training.colour_jitter import colour_jitter_np
from training.loader import use_tf_data


@dataclass
class Pairs:
    ids: list[str]
    images: list[str]
    depths: list[str]
    skipped: list[tuple[str, str]]  # (name, reason)

    def subset(self, keep: list[bool]) -> Pairs:
        pick = [i for i, k in enumerate(keep) if k]
        return Pairs([self.ids[i] for i in pick], [self.images[i] for i in pick], [self.depths[i] for i in pick], [])


def _check(pairs: Pairs, image: Path, depth: Path | None, image_id: str) -> None:
    if depth is None or not depth.is_file():
        pairs.skipped.append((image.name, "depth file missing"))
        return
    try:
        size_i, size_d = image_size(image), image_size(depth)
        check_decodes(image)
        if depth.suffix.lower() == ".png":
            check_decodes(depth)
    except ImageReadError as err:
        pairs.skipped.append((image.name, f"unreadable: {err}"))
        return
    except (OSError, ValueError) as err:
        pairs.skipped.append((image.name, f"unreadable header ({err})"))
        return
    if size_i != size_d:
        pairs.skipped.append((image.name, f"depth {size_d[0]}x{size_d[1]} does not match image {size_i[0]}x{size_i[1]}"))
        return
    pairs.ids.append(image_id)
    pairs.images.append(str(image))
    pairs.depths.append(str(depth))


def list_pairs(source: str | os.PathLike) -> Pairs:
    """(image, depth) pairs of a dataset root, or of a CSV with columns `image,depth` (paths relative to the CSV).

    Pairs whose depth file is missing, unreadable or of another size are skipped with a reason.
    """
    source = Path(source)
    pairs = Pairs([], [], [], [])
    if source.is_file() and source.suffix.lower() == ".csv":
        with open(source, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            if not reader.fieldnames or not {"image", "depth"} <= set(reader.fieldnames):
                raise ValueError(f"{source}: a depth CSV needs the columns image,depth")
            for row in reader:
                try:
                    image, depth = safe_join(source.parent, row["image"]), safe_join(source.parent, row["depth"])
                except UnsafePathError as err:
                    pairs.skipped.append((row["image"], f"unsafe path: {err}"))
                    continue
                if not image.is_file():
                    pairs.skipped.append((row["image"], "image file missing"))
                    continue
                _check(pairs, image, depth, image.stem)
        return pairs
    paths = DatasetPaths(source)
    if not paths.images.is_dir():
        raise FileNotFoundError(f"{source}: no images/ folder (a dataset root or a CSV of image,depth is expected)")
    for image in paths.image_files():
        _check(pairs, image, paths.depth_file(image.stem), image.stem)
    return pairs


def split_pairs(source: str | os.PathLike, val_split: float, seed: int) -> tuple[Pairs, Pairs, list[tuple[str, str]]]:
    """Train and validation pairs (see data.splits.train_valid), and every skipped (name, reason)."""
    return train_valid(source, list_pairs, val_split, seed)


# ----------------------------------------------------------------------------------------------
# The NumPy loader (any backend)
# ----------------------------------------------------------------------------------------------
def load_pair_np(image_path: str, depth_path: str, scale: float, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """uint8 image (H, W, 3) with an area filter when shrinking, depth (H, W, 1) metres nearest (0 = invalid)."""
    img = read_image(image_path)
    dep = read_depth(depth_path, scale)
    shrink = img.shape[0] >= height and img.shape[1] >= width
    img = cv2.resize(img, (width, height), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    dep = cv2.resize(dep, (width, height), interpolation=cv2.INTER_NEAREST)
    return img, dep[..., None]


def augment_geometry_np(image: np.ndarray, depth: np.ndarray, rng: np.random.Generator, max_scale: float = 1.25) -> tuple[np.ndarray, np.ndarray]:
    """Random flip and scale-crop of one pair, resized back (bilinear image, nearest depth); depth values unchanged
    (a crop resized back is a longer focal length, not a nearer scene). image (H, W, 3) float, depth (H, W, 1)."""
    h, w = depth.shape[:2]
    size = 1.0 / rng.uniform(1.0, max_scale)
    y0, x0 = rng.uniform() * (1.0 - size), rng.uniform() * (1.0 - size)
    flip = rng.uniform() < 0.5
    # output pixel u (centre at u, edges at 0 and w) reads input pixel x0 * w + size * (u + 0.5) - 0.5;
    # flipped, it reads the mirrored output position w - 1 - u
    if flip:
        row_x = [-size, 0.0, x0 * w + size * (w - 0.5) - 0.5]
    else:
        row_x = [size, 0.0, x0 * w + 0.5 * size - 0.5]
    m = np.array([row_x, [0.0, size, y0 * h + 0.5 * size - 0.5]], np.float64)
    flags = cv2.WARP_INVERSE_MAP
    image = cv2.warpAffine(image, m, (w, h), flags=cv2.INTER_LINEAR | flags, borderMode=cv2.BORDER_REPLICATE)
    depth = cv2.warpAffine(depth[..., 0], m, (w, h), flags=cv2.INTER_NEAREST | flags, borderMode=cv2.BORDER_REPLICATE)
    return image, depth[..., None]


class DepthSamples:
    """One training element at a time for training.batches.IndexedBatches: (image [0, 1], depth with the image appended)."""

    def __init__(self, cfg: DepthConfig, pairs: Pairs, training: bool, cache: bool):
        self.h, self.w, self.scale = cfg.data.image_height, cfg.data.image_width, float(cfg.depth_scale)
        self.pairs = pairs
        self.augment = training and cfg.data.augment
        self.resized = CachedLoads(self._load, len(pairs.ids), cache)

    def _load(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        return load_pair_np(self.pairs.images[i], self.pairs.depths[i], self.scale, self.h, self.w)

    def __call__(self, i: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        img, dep = self.resized(i)
        image = img.astype(np.float32) / 255.0
        if self.augment:
            image, dep = augment_geometry_np(image, dep, rng)
            image = colour_jitter_np(image[None], rng, brightness=0.1, contrast=0.2, saturation=0.2, hue=0.03)[0]
        return image, np.concatenate([dep, image], axis=-1).astype(np.float32)


def make_dataset(cfg: DepthConfig, pairs: Pairs, training: bool, cache: bool | None = None, seed: int | None = None,
                 epochs_done: int = 0):
    """Batches of (image (B, H, W, 3) in [0, 1], target (B, H, W, 4) = depth with the image appended): a tf.data
    pipeline or a PyDataset, as `data.loader` says (auto: tf.data on the TensorFlow backend).

    Args:
      training: shuffle and augment (when cfg.data.augment).
      cache: keep decoded, resized pairs in memory (default: when they fit in cfg.data.cache_mb).
      epochs_done: a resumed run's finished epochs, which reseed a tf.data pipeline (`resume_seed`; a PyDataset
        continues by `start_at` instead).
    """
    if not pairs.ids:
        raise ValueError("no image/depth pairs to load")
    seed = cfg.train.seed if seed is None else seed
    if use_tf_data(cfg.data.loader):
        from depth.tf_data import make_tf_dataset

        return make_tf_dataset(cfg, pairs, training, cache, resume_seed(seed, epochs_done))
    h, w, n = cfg.data.image_height, cfg.data.image_width, len(pairs.ids)
    if cache is None:
        cache = n * h * w * 7 / 2**20 <= cfg.data.cache_mb  # uint8 image + float32 depth
    loads = DepthSamples(cfg, pairs, training, cache)
    return task_batches(cfg, n, loads, loads.resized, training, seed, "depth: decoding")
