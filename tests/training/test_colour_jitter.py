"""training/colour_jitter.py: the NumPy jitter against its definition, and the TensorFlow jitter against the NumPy one."""

from __future__ import annotations

import math

import numpy as np
import pytest

from training.colour_jitter import LUMA, RGB_TO_YIQ, apply_colour_np, colour_jitter, colour_jitter_np


def _batch(seed=0, b=3):
    return np.random.default_rng(seed).uniform(0.1, 0.9, (b, 6, 5, 3)).astype(np.float32)


def test_neutral_factors_change_nothing():
    x = _batch()
    one, zero = np.ones(3), np.zeros(3)
    assert np.allclose(apply_colour_np(x, zero, one, one, zero), x, atol=1e-6)


def test_each_factor_does_what_it_says():
    x = _batch()
    one, zero = np.ones(3), np.zeros(3)
    shifted = apply_colour_np(x, np.full(3, 0.05), one, one, zero)
    assert np.allclose(shifted, np.clip(x + 0.05, 0, 1), atol=1e-6)
    grey = apply_colour_np(x, zero, one, zero, zero)  # saturation 0: every channel the luma
    assert np.allclose(grey, np.repeat((x * LUMA).sum(-1, keepdims=True), 3, -1), atol=1e-6)
    flat = apply_colour_np(x, zero, zero, one, zero)  # contrast 0: the image mean everywhere
    assert np.allclose(flat, np.broadcast_to(x.mean(axis=(1, 2), keepdims=True), x.shape), atol=1e-6)


def test_hue_rotation_keeps_luma_and_chroma_and_turns_by_the_angle():
    x = _batch() * 0.5 + 0.25  # away from the clipping
    angle = np.array([0.3, -0.7, 1.1])
    out = apply_colour_np(x, np.zeros(3), np.ones(3), np.ones(3), angle)
    yiq_in, yiq_out = x @ RGB_TO_YIQ.T, out @ RGB_TO_YIQ.T
    assert np.allclose(yiq_in[..., 0], yiq_out[..., 0], atol=1e-5)
    assert np.allclose(np.hypot(yiq_in[..., 1], yiq_in[..., 2]), np.hypot(yiq_out[..., 1], yiq_out[..., 2]), atol=1e-5)
    turned = np.angle((yiq_out[..., 1] + 1j * yiq_out[..., 2]) / (yiq_in[..., 1] + 1j * yiq_in[..., 2]))
    assert np.allclose(turned, angle[:, None, None], atol=1e-4)


def _step_by_step(x, shift, contrast, saturation, angle, value_range):
    """The jitter's definition, one operation after another (the form colour_jitter's TensorFlow ops take)."""
    col = (-1, 1, 1, 1)
    x = x + shift.reshape(col) * value_range
    mean = x.mean(axis=(1, 2), keepdims=True)
    x = (x - mean) * contrast.reshape(col) + mean
    grey = (x * LUMA).sum(-1, keepdims=True)
    x = grey + (x - grey) * saturation.reshape(col)
    c, s = np.cos(angle), np.sin(angle)
    out = np.empty_like(x)
    for i in range(len(x)):
        rotation = np.array([[1, 0, 0], [0, c[i], -s[i]], [0, s[i], c[i]]])
        out[i] = x[i] @ (np.linalg.inv(RGB_TO_YIQ) @ rotation @ RGB_TO_YIQ).T
    return np.clip(out, 0, value_range)


@pytest.mark.parametrize("value_range", [1.0, 255.0])
def test_all_four_factors_at_once_match_the_step_by_step_definition(value_range):
    """apply_colour_np composes the four affine steps into one matrix per image: the same numbers as doing them in turn,
    with the clip at the end only (some pixels are pushed past the range here)."""
    rng = np.random.default_rng(3)
    x = rng.uniform(0, value_range, (5, 7, 9, 3)).astype(np.float32)
    factors = (rng.uniform(-0.2, 0.2, 5), rng.uniform(0.5, 1.5, 5), rng.uniform(0.0, 2.0, 5), rng.uniform(-1, 1, 5))
    out = apply_colour_np(x, *factors, value_range=value_range)
    ref = _step_by_step(x.astype(np.float64), *factors, value_range)
    assert out.dtype == np.float32 and out.shape == x.shape
    assert np.abs(out - ref).max() < 1e-5 * value_range
    assert (ref == 0).any() or (ref == value_range).any()  # the clip was exercised


def test_per_sample_draws_within_range():
    x = _batch(b=64)
    rng = np.random.default_rng(0)
    out = colour_jitter_np(x, rng, brightness=0.1, contrast=0.0, saturation=0.0, hue=0.0)
    shift = (out - x).mean(axis=(1, 2, 3))
    assert np.all(np.abs(shift) <= 0.1 + 1e-6) and shift.std() > 0.02  # each image its own shift
    assert out.min() >= 0 and out.max() <= 1


@pytest.mark.parametrize("brightness, contrast, saturation, hue", [(0.1, 0.0, 0.0, 0.0), (0.0, 0.3, 0.0, 0.0), (0.0, 0.0, 0.0, 0.05)])
def test_tensorflow_jitter_stays_within_what_the_numpy_one_can_give(brightness, contrast, saturation, hue):
    """The TensorFlow jitter of one factor at a time: its output equals the NumPy jitter at some factor in range."""
    tf = pytest.importorskip("tensorflow")
    x = _batch(b=4)
    out = colour_jitter(tf.constant(x), tf.constant([5, 6], tf.int64), brightness, contrast, saturation, hue).numpy()
    one, zero = np.ones(4), np.zeros(4)
    for i in range(4):
        grid = np.linspace(-1, 1, 2001)
        if brightness:
            candidates = [apply_colour_np(x[i : i + 1], np.array([g * brightness]), one[:1], one[:1], zero[:1]) for g in grid]
        elif contrast:
            candidates = [apply_colour_np(x[i : i + 1], zero[:1], np.array([1 + g * contrast]), one[:1], zero[:1]) for g in grid]
        else:
            candidates = [apply_colour_np(x[i : i + 1], zero[:1], one[:1], one[:1], np.array([g * hue * 2 * math.pi])) for g in grid]
        best = min(np.abs(c[0] - out[i]).max() for c in candidates)
        assert best < 2e-3
