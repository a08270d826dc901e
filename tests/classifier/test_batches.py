"""classifier/batches.py: the classifier's loader on every backend (NumPy / OpenCV), checked against the tf.data one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from classifier.batches import augment_np, make_batches
from classifier.data import list_class_samples, make_dataset, stage
from configs import ClassifierAugmentConfig, ClassifierConfig
from data.images import write_image


def _folders(root: Path, counts: dict[str, int]) -> Path:
    rng = np.random.default_rng(0)
    for name, n in counts.items():
        for i in range(n):
            base = rng.integers(0, 255, (6, 9, 3)).astype(np.float32)  # smooth pictures: area filters agree on them
            img = np.clip(np.kron(base, np.ones((8, 8, 1))) + rng.normal(0, 3, (48, 72, 3)), 0, 255).astype(np.uint8)
            write_image(root / name / f"{name.lower()}_{i:03d}.png", img)
    return root


def _cfg(**data) -> ClassifierConfig:
    cfg = ClassifierConfig()
    cfg.data.image_width, cfg.data.image_height, cfg.data.batch_size, cfg.data.workers = 36, 24, 4, 1
    for k, v in data.items():
        setattr(cfg.data, k, v)
    return cfg


def test_validation_batches_match_the_tf_data_loader_in_order_and_labels(tmp_path):
    samples = list_class_samples(_folders(tmp_path / "uc", {"NOK": 3, "OK": 2}), ("NOK", "OK"))
    cfg = _cfg(augment=False)
    ours = make_batches(cfg, samples, training=False)
    assert len(ours) == 2  # 5 images, batches of 4, the last one partial
    x, y = ours[0]
    assert x.shape == (4, 24, 36, 3) and x.dtype == np.uint8 and y.dtype == np.int32
    theirs = [(a.numpy(), b.numpy()) for a, b in make_dataset(cfg, stage(samples, tmp_path / "staged", cfg.class_names), training=False)]
    tx = np.concatenate([a for a, _ in theirs])
    ty = np.concatenate([b for _, b in theirs])
    ox = np.concatenate([ours[0][0], ours[1][0]])
    oy = np.concatenate([ours[0][1], ours[1][1]])
    assert oy.tolist() == ty.tolist() == [0, 0, 0, 1, 1]  # the class_names order, files in order
    assert np.abs(ox.astype(np.float32) - tx).mean() < 2.0  # the same pictures: OpenCV's area filter against TensorFlow's, [0, 255]


def test_training_batches_shuffle_and_augment_repeatably(tmp_path):
    samples = list_class_samples(_folders(tmp_path / "uc", {"NOK": 4, "OK": 4}), ("NOK", "OK"))
    a, b = make_batches(_cfg(), samples, training=True), make_batches(_cfg(), samples, training=True)
    (xa, ya), (xb, yb) = a[0], b[0]
    assert np.array_equal(xa, xb) and np.array_equal(ya, yb)  # seeded per (seed, epoch, batch)
    plain = make_batches(_cfg(augment=False), samples, training=True)
    assert np.array_equal(plain[0][1], ya)  # the same shuffled samples ...
    assert np.abs(plain[0][0].astype(float) - xa).mean() > 1.0  # ... augmented
    with pytest.raises(ValueError, match="no images"):
        make_batches(_cfg(), samples.subset([False] * 8), training=True)


def test_augmentation_is_flips_rotation_zoom_and_colour_as_configured():
    rng = np.random.default_rng(0)
    img = rng.uniform(0, 255, (24, 36, 3)).astype(np.float32)
    flips_only = ClassifierAugmentConfig(brightness=0, contrast=0, saturation=0, hue=0, rotate_deg=0, zoom=0)
    seen = set()
    for i in range(32):
        out = augment_np(img, flips_only, np.random.default_rng(i))
        match = [k for k, ref in {"none": img, "h": img[:, ::-1], "v": img[::-1], "hv": img[::-1, ::-1]}.items()
                 if np.allclose(out, ref, atol=1e-3)]
        assert len(match) == 1
        seen.add(match[0])
    assert seen == {"none", "h", "v", "hv"}
    nothing = ClassifierAugmentConfig(brightness=0, contrast=0, saturation=0, hue=0, rotate_deg=0, zoom=0, flip="none")
    assert np.allclose(augment_np(img, nothing, rng), img, atol=1e-3)
    turned = augment_np(img, ClassifierAugmentConfig(rotate_deg=30, zoom=0.2), np.random.default_rng(1))
    assert turned.shape == img.shape and not np.allclose(turned, img, atol=1.0)
