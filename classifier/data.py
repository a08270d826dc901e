"""Classifier data: one folder per class under a use-case folder, read with image_dataset_from_directory (tf.data, the
TensorFlow backend's loader; classifier/batches.py is the loader of every backend).

Where the images come from (`--data`): a use-case folder (one subfolder per class), a dataset root (its
classes/<usecase>), or a folder with train/ and valid/ made by `nie split` (either kind inside). Every file
is checked before training; an unreadable image or a format TensorFlow does not decode is skipped by name.
The checked files are hard-linked into a staging folder per split that holds exactly the class folders, and
image_dataset_from_directory reads that, with the class order given explicitly (it would sort them otherwise).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np

from configs import ClassifierConfig
from data.images import ImageReadError, check_decodes
from data.layout import DatasetPaths, link_or_copy
from data.splits import assign

TF_FORMATS = (".png", ".jpg", ".jpeg", ".bmp", ".gif")  # what image_dataset_from_directory decodes


@dataclass
class ClassSamples:
    files: list[Path] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)  # index into class_names
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (CLASS/name, reason)

    @property
    def keys(self) -> list[str]:
        """CLASS/name per file (what split records list)."""
        return [f"{f.parent.name}/{f.name}" for f in self.files]

    def subset(self, keep: list[bool]) -> ClassSamples:
        pick = [i for i, k in enumerate(keep) if k]
        return ClassSamples([self.files[i] for i in pick], [self.labels[i] for i in pick], [])

    def counts(self, n_classes: int) -> list[int]:
        return np.bincount(np.asarray(self.labels, int), minlength=n_classes).tolist()


def usecase_folder(source: str | os.PathLike, usecase: str = "") -> Path:
    """The folder of class folders: `source` itself, or a dataset root's classes/<usecase> (default: the only one)."""
    source = Path(source)
    if not source.is_dir():
        raise FileNotFoundError(f"{source}: folder not found")
    classes = DatasetPaths(source).classes
    if not classes.is_dir():
        return source
    found = sorted(p.name for p in classes.iterdir() if p.is_dir() and not p.name.startswith("."))
    if usecase:
        if usecase not in found:
            raise ValueError(f"{classes}: no use case {usecase!r} (found: {', '.join(found) or 'none'})")
        return classes / usecase
    if len(found) != 1:
        raise ValueError(f"{classes}: {len(found)} use cases ({', '.join(found) or 'none'}); pick one with usecase=NAME")
    return classes / found[0]


def list_class_samples(folder: Path, class_names: tuple[str, ...]) -> ClassSamples:
    """Every image under folder/<class>/ for each class name, checked; the rest skipped with a reason."""
    missing = [c for c in class_names if not (folder / c).is_dir()]
    if missing:
        present = sorted(p.name for p in folder.iterdir() if p.is_dir())
        raise ValueError(f"{folder}: no class folder {', '.join(missing)} (found: {', '.join(present) or 'none'}); "
                         "set class_names=[...] to the folder names")
    samples = ClassSamples()
    for label, name in enumerate(class_names):
        for f in sorted(p for p in (folder / name).iterdir() if p.is_file() and not p.name.startswith(".")):
            key = f"{name}/{f.name}"
            if f.suffix.lower() not in TF_FORMATS:
                samples.skipped.append((key, f"not an image format TensorFlow reads ({', '.join(TF_FORMATS)})"))
                continue
            try:
                check_decodes(f)
            except ImageReadError as err:
                samples.skipped.append((key, str(err).split(": ", 1)[-1]))
                continue
            samples.files.append(f)
            samples.labels.append(label)
    return samples


def split_samples(source: str | os.PathLike, cfg: ClassifierConfig) -> tuple[ClassSamples, ClassSamples, list[tuple[str, str]]]:
    """(train, valid, skipped): source/train and source/valid when `nie split` made them, else a seeded split
    stratified by class (the same rule as `nie split`)."""
    source = Path(source)
    if (source / "train").is_dir() and (source / "valid").is_dir():
        train = list_class_samples(usecase_folder(source / "train", cfg.usecase), cfg.class_names)
        valid = list_class_samples(usecase_folder(source / "valid", cfg.usecase), cfg.class_names)
        return train, valid, train.skipped + valid.skipped
    samples = list_class_samples(usecase_folder(source, cfg.usecase), cfg.class_names)
    if not samples.files:
        return samples, samples.subset([]), samples.skipped
    where = assign(samples.keys, [str(label) for label in samples.labels], cfg.data.val_split, cfg.train.seed)
    return (samples.subset([where[k] == "train" for k in samples.keys]), samples.subset([where[k] == "valid" for k in samples.keys]),
            samples.skipped)


def class_weights(samples: ClassSamples, n_classes: int) -> dict[int, float]:
    """n / (classes x n_c) per class present: each class then weighs as much in the loss as in a balanced set."""
    counts = samples.counts(n_classes)
    present = [c for c in counts if c]
    return {i: len(samples.files) / (len(present) * c) for i, c in enumerate(counts) if c}


def stage(samples: ClassSamples, root: Path, class_names: tuple[str, ...]) -> Path:
    """Hard-links (or copies) the samples into root/<class>/ with every class folder present, even empty ones."""
    for name in class_names:
        (root / name).mkdir(parents=True, exist_ok=True)
    for f, label in zip(samples.files, samples.labels, strict=True):
        link_or_copy(f, root / class_names[label] / f.name)
    return root


def make_dataset(cfg: ClassifierConfig, folder: Path, training: bool, augmenter: keras.Layer | None = None,
                 cache: bool | None = None, seed: int | None = None):
    """A tf.data.Dataset of batches (image (B, H, W, 3) float32 in [0, 255], label (B,) int) from a staged folder.

    Args:
      training: shuffle each epoch, and run `augmenter` (training=True) on each batch when cfg.data.augment.
      cache: keep the decoded, resized images in memory (default: when they fit in cfg.data.cache_mb).
      seed: of the shuffle (default cfg.train.seed; a resumed run passes `resume_seed`).
    """
    import tensorflow as tf

    AUTOTUNE = tf.data.AUTOTUNE
    h, w = cfg.data.image_height, cfg.data.image_width
    ds = keras.utils.image_dataset_from_directory(
        str(folder), labels="inferred", label_mode="int", class_names=list(cfg.class_names), batch_size=None,
        image_size=(h, w), shuffle=False, interpolation="area", verbose=False)
    n = int(ds.cardinality())
    if n <= 0:
        raise ValueError(f"{folder}: no images")
    ds = ds.map(lambda x, y: (tf.cast(tf.round(tf.clip_by_value(x, 0.0, 255.0)), tf.uint8), y), num_parallel_calls=AUTOTUNE)
    if cache is None:
        cache = n * h * w * 3 / 2**20 <= cfg.data.cache_mb
    if cache:
        ds = ds.cache()
    if training:
        ds = ds.shuffle(n, seed=cfg.train.seed if seed is None else seed, reshuffle_each_iteration=True)
    ds = ds.batch(cfg.data.batch_size, drop_remainder=training and n >= cfg.data.batch_size)
    ds = ds.map(lambda x, y: (tf.cast(x, tf.float32), y), num_parallel_calls=AUTOTUNE)
    if training and cfg.data.augment and augmenter is not None:
        ds = ds.map(lambda x, y: (augmenter(x, training=True), y), num_parallel_calls=AUTOTUNE)
    return ds.prefetch(AUTOTUNE)
