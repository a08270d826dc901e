"""EfficientNetB0 classifier (weights none) and Grad-CAM against an analytic reference."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from classifier.gradcam import gradcam
from classifier.model import BACKBONE, build_model, layer_table
from configs import ClassifierConfig
from training.backbone import WeightsError, unfreeze_from


def _cfg(h=64, w=64) -> ClassifierConfig:
    cfg = ClassifierConfig()
    cfg.model.weights = "none"
    cfg.data.image_height, cfg.data.image_width = h, w
    return cfg


def test_model_outputs_probabilities_in_class_order_and_stages():
    model = build_model(_cfg(64, 96))
    p = model.predict(np.random.default_rng(0).uniform(0, 255, (2, 64, 96, 3)).astype(np.float32), verbose=0)
    assert p.shape == (2, 2)
    np.testing.assert_allclose(p.sum(1), 1.0, atol=1e-5)
    table = layer_table(model)
    assert "block6a_expand_conv" in table and "top_activation" in table
    index = unfreeze_from(model, BACKBONE, "block6a_expand_conv", "classifier")
    inner = model.get_layer(BACKBONE).layers
    assert inner[index].name == "block6a_expand_conv" and inner[index].trainable and not inner[index - 1].trainable
    with pytest.raises(ValueError, match="did you mean 'block6a_expand_conv'.*nie train classifier --list-layers"):
        unfreeze_from(model, BACKBONE, "block6a_expand_cnv", "classifier")


def test_weights_errors_say_what_to_do(tmp_path):
    cfg = _cfg()
    cfg.model.weights = str(tmp_path / "missing.h5")
    with pytest.raises(WeightsError, match="neither 'imagenet', 'none' nor an existing weights file"):
        build_model(cfg)


def _toy_model(w_head: np.ndarray) -> keras.Model:
    """A stand-in backbone named like the real one: a 1x1 convolution whose features are the image's channels / 255."""
    inp = keras.Input((16, 16, 3))
    conv = keras.layers.Conv2D(3, 1, use_bias=False, kernel_initializer=keras.initializers.Constant(np.eye(3)[None, None] / 255.0))
    backbone = keras.Model(inp, conv(inp), name=BACKBONE)
    x = keras.Input((16, 16, 3))
    y = keras.layers.Dense(2, activation="softmax")(keras.layers.GlobalAveragePooling2D()(backbone(x)))
    model = keras.Model(x, y)
    model.layers[-1].set_weights([w_head, np.zeros(2, np.float32)])
    return model


def _reference_cam(images: np.ndarray, w_head: np.ndarray, c: int) -> np.ndarray:
    """Grad-CAM by hand for GAP + dense + softmax: d p_c / d A_k = p_c (W[k, c] - sum_j p_j W[k, j]) / (H W)."""
    feats = images / 255.0
    z = feats.mean(axis=(1, 2)) @ w_head
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    hw = feats.shape[1] * feats.shape[2]
    alpha = p[:, c : c + 1] * (w_head[:, c][None] - p @ w_head.T) / hw  # (B, K)
    cam = np.maximum((feats * alpha[:, None, None, :]).sum(-1), 0)
    return cam / np.maximum(cam.max(axis=(1, 2), keepdims=True), 1e-12)


def test_gradcam_matches_the_analytic_map_and_follows_the_object():
    w_head = np.array([[3.0, -3.0], [-1.0, 1.0], [0.0, 0.5]], np.float32)  # red speaks for class 0
    model = _toy_model(w_head)
    images = np.full((2, 16, 16, 3), 30.0, np.float32)
    images[0, 2:6, 2:6, 0] = 250.0  # a red square top left
    images[1, 10:14, 9:13, 0] = 250.0  # ... bottom right
    cams, probs = gradcam(model, images, np.array([0, 0]))
    assert cams.shape == (2, 16, 16) and probs.shape == (2, 2)
    np.testing.assert_allclose(cams, _reference_cam(images, w_head, 0), atol=1e-4)
    peaks = [np.unravel_index(np.argmax(c), c.shape) for c in cams]
    assert 2 <= peaks[0][0] < 6 and 2 <= peaks[0][1] < 6
    assert 10 <= peaks[1][0] < 14 and 9 <= peaks[1][1] < 13


def test_gradcam_on_the_real_model_has_the_input_shape():
    model = build_model(_cfg(64, 64))
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 255, (2, 64, 64, 3)).astype(np.float32)
    cams, probs = gradcam(model, x)
    assert cams.shape == (2, 64, 64) and np.all((cams >= 0) & (cams <= 1 + 1e-6))
    again, _ = gradcam(model, x)
    np.testing.assert_allclose(again, cams, atol=1e-6)  # deterministic (dropout off)
    other, _ = gradcam(model, x[::-1].copy())
    assert not np.allclose(other, cams)  # it responds to the image
