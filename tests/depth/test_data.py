"""depth/data.py and depth/tf_data.py: pair listing with reasons, element functions eagerly and inside tf.data, the pipelines."""

from __future__ import annotations

import shutil

import cv2
import numpy as np
import pytest
import tensorflow as tf

import configs
from data.depth_io import read_depth, write_depth
from data.images import write_image
from data.intrinsics import rescale_intrinsics
from depth.data import list_pairs, make_dataset, split_pairs
from depth.tf_data import augment_batch, augment_geometry, decode_depth, decode_image, resize_pair


@pytest.fixture
def tiny_dataset(tmp_path):
    """4 images with depth: a gradient image whose red channel encodes the depth."""
    root = tmp_path / "ds"
    for k in range(4):
        depth = np.tile(np.linspace(0.5, 2.5, 64, dtype=np.float32), (48, 1)) + 0.1 * k
        depth[:4, :4] = 0  # invalid corner
        rgb = np.dstack([np.clip(depth / 3 * 255, 0, 255)] * 3).astype(np.uint8)
        write_image(root / "images" / f"{k:03d}.png", rgb)
        write_depth(root / "depth" / f"{k:03d}.png", depth)
    return root


def _cfg(h=24, w=32):
    _, cfg = configs.get_preset("depth_smoke")
    cfg.data.image_height, cfg.data.image_width = h, w
    return cfg


def test_missing_and_mismatched_depth_are_skipped_by_name(tiny_dataset):
    (tiny_dataset / "depth" / "001.png").unlink()
    write_depth(tiny_dataset / "depth" / "002.png", np.ones((10, 10), np.float32))
    pairs = list_pairs(tiny_dataset)
    assert pairs.ids == ["000", "003"]
    assert dict(pairs.skipped) == {"001.png": "depth file missing", "002.png": "depth 10x10 does not match image 64x48"}


def test_csv_source_and_unsafe_rows(tiny_dataset):
    (tiny_dataset / "pairs.csv").write_text("image,depth\nimages/000.png,depth/000.png\n../x.png,depth/001.png\nimages/404.png,depth/404.png\n")
    pairs = list_pairs(tiny_dataset / "pairs.csv")
    assert pairs.ids == ["000"]
    reasons = dict(pairs.skipped)
    assert reasons["../x.png"].startswith("unsafe path") and reasons["images/404.png"] == "image file missing"


def test_split_uses_train_valid_folders_when_present(tiny_dataset, tmp_path):
    train, valid, _ = split_pairs(tiny_dataset, 0.25, 0)
    assert len(train.ids) == 3 and len(valid.ids) == 1
    split_root = tmp_path / "split"
    shutil.copytree(tiny_dataset, split_root / "train")
    shutil.copytree(tiny_dataset, split_root / "valid")
    train, valid, _ = split_pairs(split_root, 0.25, 0)
    assert len(train.ids) == 4 and len(valid.ids) == 4


def test_decode_eagerly_and_in_tf_data_agree_with_the_numpy_reader(tiny_dataset):
    path = str(tiny_dataset / "depth" / "000.png")
    eager = decode_depth(tf.constant(path), 1000.0).numpy()[..., 0]
    assert np.allclose(eager, read_depth(path), atol=1e-6)
    graph = next(iter(tf.data.Dataset.from_tensors(path).map(lambda p: decode_depth(p, 1000.0)))).numpy()[..., 0]
    assert np.array_equal(eager, graph)
    np.save(tiny_dataset / "d.npy", read_depth(path))
    assert np.allclose(decode_depth(tf.constant(str(tiny_dataset / "d.npy")), 1000.0).numpy()[..., 0], eager)


def test_resize_keeps_invalid_pixels_unblended(tiny_dataset):
    img = decode_image(tf.constant(str(tiny_dataset / "images" / "000.png")))
    dep = decode_depth(tf.constant(str(tiny_dataset / "depth" / "000.png")), 1000.0)
    img2, dep2 = resize_pair(img, dep, 24, 32)
    assert img2.shape == (24, 32, 3) and img2.dtype == tf.uint8
    d = dep2.numpy()
    assert (d[:2, :2] == 0).all()
    assert set(np.unique(d[d > 0])) <= set(np.unique(dep.numpy()))  # nearest: only values that exist


def test_geometry_moves_image_and_depth_together():
    depth = np.tile(np.linspace(0.5, 2.5, 64, dtype=np.float32), (48, 1))[None, ..., None]
    depths = tf.constant(np.repeat(depth, 6, axis=0))
    images = tf.tile(depths / 3.0, [1, 1, 1, 3])
    a, d = augment_geometry(images, depths, tf.constant([3, 1], tf.int64))
    # per sample: the image still encodes the depth (one column of bilinear against nearest at most)
    assert np.abs(a.numpy()[..., 0] * 3.0 - d.numpy()[..., 0]).max() < 0.05
    d = d.numpy()
    assert (d[:, 0, 0, 0] > d[:, 0, -1, 0]).any() and (d[:, 0, 0, 0] < d[:, 0, -1, 0]).any()  # some flipped, some not
    assert len({round(float(x), 4) for x in d[:, 0, 0, 0]}) > 1  # each sample has its own crop


def test_identity_box_keeps_the_image():
    images = tf.random.stateless_uniform([2, 24, 32, 3], [1, 2])
    boxes = tf.constant([[0.0, 0.0, 1.0, 1.0], [0.0, 1.0, 1.0, 0.0]])
    same = tf.image.crop_and_resize(images, boxes, tf.range(2), [24, 32])
    assert np.allclose(same[0], images[0], atol=1e-6) and np.allclose(same[1], images[1][:, ::-1], atol=1e-6)


def test_augmentation_is_deterministic_and_the_same_in_tf_data():
    images = tf.random.stateless_uniform([3, 24, 32, 3], [1, 2])
    depths = tf.random.stateless_uniform([3, 24, 32, 1], [3, 4], 0.5, 3.0)
    seed = tf.constant([7, 9], tf.int64)
    a1, d1 = augment_batch(images, depths, seed)
    a2, d2 = augment_batch(images, depths, seed)
    assert np.array_equal(a1.numpy(), a2.numpy()) and np.array_equal(d1.numpy(), d2.numpy())
    ga, gd = next(iter(tf.data.Dataset.from_tensors((images, depths, seed)).map(augment_batch)))
    assert np.allclose(ga.numpy(), a1.numpy(), atol=1e-5) and np.array_equal(gd.numpy(), d1.numpy())
    a3, _ = augment_batch(images, depths, tf.constant([8, 9], tf.int64))
    assert not np.allclose(a3.numpy(), a1.numpy())
    assert 0.0 <= float(tf.reduce_min(a1)) and float(tf.reduce_max(a1)) <= 1.0
    assert set(np.unique(d1.numpy())) <= set(np.unique(depths.numpy()))  # depth is only moved, never blended


def test_pipeline_shapes_and_target_layout(tiny_dataset):
    cfg = _cfg()
    pairs = list_pairs(tiny_dataset)
    x, y = next(iter(make_dataset(cfg, pairs, training=True)))
    assert x.shape == (4, 24, 32, 3) and y.shape == (4, 24, 32, 4)
    assert np.allclose(y.numpy()[..., 1:], x.numpy())  # the target carries the (augmented) image
    x, y = next(iter(make_dataset(cfg, pairs, training=False)))
    assert float(tf.reduce_min(y[..., 0])) == 0.0 and float(tf.reduce_max(y[..., 0])) > 2.0


def test_rescaled_intrinsics_project_to_the_resized_pixel():
    K = np.array([[200.0, 0, 127.5], [0, 200.0, 95.5], [0, 0, 1]])
    point = np.array([0.3, -0.2, 2.0])
    u, v, _ = K @ point / point[2]
    K2 = rescale_intrinsics(K, (256, 192), (128, 96))
    u2, v2, _ = K2 @ point / point[2]
    assert u2 == pytest.approx((u + 0.5) * 0.5 - 0.5) and v2 == pytest.approx((v + 0.5) * 0.5 - 0.5)
    assert K2[0, 2] == pytest.approx(63.5)  # the centre of a 128-pixel row, pixel centres at integers
    assert cv2.resize(np.arange(256, dtype=np.float32)[None], (128, 1), interpolation=cv2.INTER_LINEAR)[0, 0] == pytest.approx(0.5)


def test_corrupt_files_are_skipped_by_name_before_training(tiny_dataset):
    img = tiny_dataset / "images" / "000.png"
    img.write_bytes(img.read_bytes()[:-200])  # truncated: the header is fine, the pixels are not
    dep = tiny_dataset / "depth" / "001.png"
    dep.write_bytes(dep.read_bytes()[:60])
    pairs = list_pairs(tiny_dataset)
    reasons = dict(pairs.skipped)
    assert pairs.ids == ["002", "003"]
    assert reasons["000.png"].startswith("unreadable") and "000.png" in reasons["000.png"]
    assert reasons["001.png"].startswith("unreadable")


# ----------------------------------------------------------------------------------------------
# The NumPy loader (PyDataset; the JAX and PyTorch backends)
# ----------------------------------------------------------------------------------------------
def test_both_loaders_give_the_same_pairs_without_augmentation(tiny_dataset):
    pairs = list_pairs(tiny_dataset)
    tf_x, tf_y = next(iter(make_dataset(configs.apply_overrides(_cfg(), ["data.loader=tfdata"]), pairs, training=False)))
    np_x, np_y = make_dataset(configs.apply_overrides(_cfg(), ["data.loader=pydataset"]), pairs, training=False)[0]
    assert np_x.shape == tuple(tf_x.shape) and np_y.shape == tuple(tf_y.shape) and np_x.dtype == np.float32
    assert np.abs(np_x - tf_x.numpy()).mean() < 2 / 255  # both area filters
    d_tf, d_np = tf_y.numpy()[..., 0], np_y[..., 0]
    assert abs((d_np > 0).mean() - (d_tf > 0).mean()) < 0.02  # invalid stays invalid, unblended
    first = d_np[0]
    assert set(first[first > 0].tolist()) <= set(read_depth(tiny_dataset / "depth" / "000.png").ravel().tolist())  # nearest: no blend
    assert np.allclose(np_y[..., 1:], np_x)  # the image rides along for the smoothness loss


def test_numpy_augmentation_moves_image_and_depth_together(tiny_dataset):
    """The red channel encodes the depth (red = depth / 3): after flips and crops it still does, pixel by pixel."""
    from depth.data import augment_geometry_np, load_pair_np

    img, dep = load_pair_np(str(tiny_dataset / "images" / "000.png"), str(tiny_dataset / "depth" / "000.png"), 1000.0, 24, 32)
    flips = 0
    for seed in range(12):
        rng = np.random.default_rng(seed)
        a, d = augment_geometry_np(img.astype(np.float32) / 255.0, dep, rng)
        assert a.shape == (24, 32, 3) and d.shape == (24, 32, 1)
        ok = d[..., 0] > 0
        assert np.abs(a[..., 0][ok] * 3 - d[..., 0][ok]).mean() < 0.04
        flips += int(d[12, 2, 0] > d[12, 29, 0])  # the depth grows to the right unless flipped
    assert 0 < flips < 12


def test_pydataset_batches_are_augmented_and_repeatable(tiny_dataset):
    cfg = configs.apply_overrides(_cfg(), ["data.loader=pydataset", "data.augment=true", "data.batch_size=2"])
    pairs = list_pairs(tiny_dataset)
    a, b = make_dataset(cfg, pairs, training=True), make_dataset(cfg, pairs, training=True)
    assert len(a) == 2
    assert np.array_equal(a[0][0], b[0][0]) and np.array_equal(a[1][1], b[1][1])
    plain = make_dataset(configs.apply_overrides(_cfg(), ["data.loader=pydataset", "data.batch_size=2"]), pairs, training=True)
    assert not np.allclose(a[0][0], plain[0][0])
