"""depth/model.py: shapes, the bounded output, serialisation of the custom blocks."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import configs
from depth.model import build_model


def _cfg():
    _, cfg = configs.get_preset("depth_smoke")
    return cfg


def test_output_shape_and_range():
    cfg = _cfg()
    model = build_model(cfg)
    x = np.random.default_rng(0).random((2, 24, 32, 3)).astype(np.float32)
    y = model.predict(x, verbose=0)
    assert y.shape == (2, 24, 32, 1)
    assert (y >= cfg.model.min_depth_m).all() and (y <= cfg.model.max_depth_m).all()


def test_default_size_is_like_the_keras_example():
    cfg = configs.DepthConfig()
    assert 1.5e6 < build_model(cfg).count_params() < 2.5e6


def test_save_and_load_round_trip(tmp_path):
    model = build_model(_cfg())
    x = np.random.default_rng(1).random((1, 24, 32, 3)).astype(np.float32)
    model.save(tmp_path / "m.keras")
    back = keras.models.load_model(tmp_path / "m.keras")
    assert np.allclose(model.predict(x, verbose=0), back.predict(x, verbose=0), atol=1e-6)


def test_input_size_must_suit_the_levels():
    cfg = configs.apply_overrides(_cfg(), ["data.image_width=30"])
    with pytest.raises(ValueError, match="divisible by 4"):
        build_model(cfg)
