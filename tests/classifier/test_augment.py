"""The colour-augmentation layer's train switch, the shared colour jitter, and the augmenter in tf.data."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from classifier.augment import ColourAugment, build_augmenter
from configs import ClassifierAugmentConfig
from training.colour_jitter import colour_jitter


def _images(n=4, h=24, w=32, seed=0):
    return np.random.default_rng(seed).uniform(40, 215, (n, h, w, 3)).astype(np.float32)


def test_train_switch_random_in_training_identical_in_preview():
    x = _images()
    train = ColourAugment(train=True)
    a, b = np.asarray(train(x)), np.asarray(train(x))
    assert np.abs(a - b).mean() > 1.0  # new factors each call
    preview = ColourAugment(train=False, preview_seed=7)
    p1, p2 = np.asarray(preview(x)), np.asarray(preview(x))
    np.testing.assert_array_equal(p1, p2)
    assert np.abs(p1 - x).mean() > 1.0  # the preview still shows an augmentation
    assert not np.array_equal(p1, np.asarray(ColourAugment(train=False, preview_seed=8)(x)))
    np.testing.assert_array_equal(np.asarray(train(x, training=False)), x)  # inside a model at inference: unchanged
    assert a.min() >= 0 and a.max() <= 255


def test_preview_mode_same_eagerly_and_in_tf_data():
    x = _images()
    layer = ColourAugment(train=False, preview_seed=3)
    eager = np.asarray(layer(x))
    piped = next(iter(tf.data.Dataset.from_tensors(x).map(lambda t: layer(t))))
    np.testing.assert_allclose(piped.numpy(), eager, atol=1e-3)


def test_colour_jitter_each_factor_does_what_it_says():
    x = np.full((3, 8, 8, 3), 100.0, np.float32)
    x[:, :, :4, 0] = 140.0
    seed = tf.constant([1, 2], tf.int64)
    same = colour_jitter(x, seed, 0.0, 0.0, 0.0, 0.0, value_range=255.0).numpy()
    np.testing.assert_allclose(same, x, atol=1e-3)
    bright = colour_jitter(x, seed, 0.1, 0.0, 0.0, 0.0, value_range=255.0).numpy()
    shift = (bright - x).reshape(3, -1)
    np.testing.assert_allclose(shift, shift[:, :1].repeat(shift.shape[1], 1), atol=1e-3)  # one offset per image
    assert np.all(np.abs(shift[:, 0]) <= 25.5 + 1e-3) and np.unique(shift[:, 0].round(3)).size == 3  # each image its own
    contrast = colour_jitter(x, seed, 0.0, 0.5, 0.0, 0.0, value_range=255.0).numpy()
    np.testing.assert_allclose(contrast.mean(axis=(1, 2)), x.mean(axis=(1, 2)), atol=1e-2)  # about the mean
    grey = np.full((2, 4, 4, 3), 90.0, np.float32)
    for kw in ({"saturation": 0.5, "hue": 0.0}, {"saturation": 0.0, "hue": 0.3}):
        out = colour_jitter(grey, seed, 0.0, 0.0, value_range=255.0, **kw).numpy()
        np.testing.assert_allclose(out, grey, atol=1e-2)  # grey has no saturation or hue to change


def test_augmenter_in_tf_data_keeps_shape_and_range():
    aug = build_augmenter(ClassifierAugmentConfig(), seed=1)
    x = _images(2, 32, 48)
    ds = tf.data.Dataset.from_tensor_slices((x, [0, 1])).batch(2).map(lambda a, y: (aug(a, training=True), y))
    out, labels = next(iter(ds))
    assert out.shape == x.shape and labels.numpy().tolist() == [0, 1]
    assert float(tf.reduce_min(out)) >= 0 and float(tf.reduce_max(out)) <= 255
    assert np.abs(out.numpy() - x).mean() > 1.0
