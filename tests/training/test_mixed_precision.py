"""train.mixed_precision: float16 compute inside, float32 outputs (so losses and exports stay float32)."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import configs
from classifier.model import build_model as build_classifier
from depth.model import build_model as build_depth
from keypoints.model import build_model as build_keypoints


@pytest.fixture
def mixed():
    keras.mixed_precision.set_global_policy("mixed_float16")
    yield
    keras.mixed_precision.set_global_policy("float32")


@pytest.mark.parametrize("preset,build", [("depth_smoke", build_depth), ("keypoints_smoke", build_keypoints),
                                          ("classifier_smoke", build_classifier)])
def test_models_compute_in_float16_and_answer_in_float32(mixed, preset, build):
    _, cfg = configs.get_preset(preset)
    model = build(cfg)
    assert any(layer.compute_dtype == "float16" for layer in model._flatten_layers())
    assert all(v.dtype == "float32" for v in model.trainable_variables)
    x = np.random.default_rng(0).uniform(0, 255, (2, cfg.data.image_height, cfg.data.image_width, 3)).astype(np.float32)
    if preset == "depth_smoke":
        x /= 255.0
    y = model(x)
    assert y.dtype == "float32" and np.all(np.isfinite(np.asarray(y)))


def test_begin_sets_the_policy_from_the_config(synth_dataset, tmp_path):
    from depth.data import split_pairs
    from training.fit import begin

    _, cfg = configs.get_preset("depth_smoke")
    cfg.train.mixed_precision = True
    try:
        begin("depth", cfg, str(synth_dataset), tmp_path / "run", lambda: split_pairs(synth_dataset, 0.2, 0), lambda p: len(p.ids), "pairs",
              log=lambda s: None)
        assert keras.mixed_precision.global_policy().name == "mixed_float16"
        cfg.train.mixed_precision = False
        begin("depth", cfg, str(synth_dataset), tmp_path / "run2", lambda: split_pairs(synth_dataset, 0.2, 0), lambda p: len(p.ids),
              "pairs", log=lambda s: None)
        assert keras.mixed_precision.global_policy().name == "float32"
    finally:
        keras.mixed_precision.set_global_policy("float32")
