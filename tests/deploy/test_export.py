"""`nie export`: SavedModel, ONNX and LiteRT exports agree with the Keras model (<= 1e-4), stay float32, and
`nie fill --backend onnx` gives the fills the Keras models give."""

from __future__ import annotations

import json
import shutil

import keras
import numpy as np
import pytest

import configs
from classifier.model import build_model as build_classifier
from deploy.export import as_float32, export_model, run_exported, sample_input
from depth.model import build_model as build_depth
from keypoints.decode import soft_argmax
from keypoints.model import build_model as build_keypoints
from keypoints.model import export_graph
from scripts.nie import main
from tests.conftest import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("export")]


def _saved(tmp_path, preset, build):
    _, cfg = configs.get_preset(preset)
    path = tmp_path / f"{preset}.keras"
    build(cfg).save(path)
    return path


@pytest.mark.parametrize("fmt,suffix", [("saved_model", ""), ("onnx", ".onnx"), ("litert", ".tflite")])
def test_every_format_matches_keras(tmp_path, fmt, suffix):
    src = _saved(tmp_path, "keypoints_smoke", build_keypoints)
    out, diff = export_model(src, fmt, tmp_path / f"kp{suffix or '_sm'}")
    assert out.exists() and diff <= 1e-4
    model = keras.models.load_model(src)
    x = sample_input(model, n=3, seed=5)  # another batch size than the export check used
    maps = run_exported(out, fmt, x)  # a heat-map corner model exports its heat maps (keypoints/model.py export_graph)
    np.testing.assert_allclose(maps, export_graph(model).predict(x, verbose=0), atol=1e-4)
    np.testing.assert_allclose(soft_argmax(maps), model.predict(x, verbose=0), atol=1e-4)  # the same corners


@pytest.mark.parametrize("preset,build", [("depth_smoke", build_depth), ("classifier_smoke", build_classifier)])
def test_every_format_of_the_other_models(tmp_path, preset, build):
    src = _saved(tmp_path, preset, build)
    for fmt, suffix in (("saved_model", ""), ("onnx", ".onnx"), ("litert", ".tflite")):
        _, diff = export_model(src, fmt, tmp_path / f"{preset}_{fmt}{suffix}")
        assert diff <= 1e-4, fmt  # the classifier's EfficientNet leaves dangling ONNX graph inputs that export removes


def test_mixed_precision_models_export_in_float32(tmp_path):
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        _, cfg = configs.get_preset("keypoints_smoke")
        mixed = build_keypoints(cfg)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    plain = as_float32(mixed)
    assert all(layer.dtype_policy.name == "float32" for layer in plain._flatten_layers() if hasattr(layer, "dtype_policy"))
    x = sample_input(plain)
    np.testing.assert_allclose(plain.predict(x, verbose=0), mixed.predict(x, verbose=0), atol=2e-2)  # float16 rounding only
    mixed.save(tmp_path / "mixed.keras")
    out, diff = export_model(tmp_path / "mixed.keras", "onnx", tmp_path / "mixed.onnx")
    assert diff <= 1e-4 and run_exported(out, "onnx", x).dtype == np.float32


def test_fill_on_onnxruntime_matches_keras(synth_dataset, tmp_path, capsys):
    onnx_dir = tmp_path / "onnx_models"
    for task in ("keypoints", "depth", "fillnet"):  # the learned method (the default) runs fillnet
        assert main(["export", "--model", str(ROOT / "models" / f"{task}.keras"), "--format", "onnx",
                     "--out", str(onnx_dir / f"{task}.onnx")]) == 0
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in sorted((synth_dataset / "images").iterdir())[:3]:
        shutil.copy(name, photos / name.name)
    results = {}
    for backend, models in (("keras", ROOT / "models"), ("onnx", onnx_dir)):
        out = tmp_path / backend
        assert main(["fill", "--input", str(photos), "--out", str(out), "--models", str(models), "--backend", backend,
                     "use_classifier=false"]) == 0
        results[backend] = {p.stem: json.loads(p.read_text()) for p in out.glob("*.json") if p.stem != "timings"}
    assert results["keras"].keys() == results["onnx"].keys() and len(results["keras"]) == 3
    for image_id, rec in results["keras"].items():
        other = results["onnx"][image_id]
        assert other["status"] == rec["status"]
        if rec["status"] not in ("measured", "uncertain"):
            continue
        assert other["method"] == rec["method"] == "learned"
        assert other["fill"] == pytest.approx(rec["fill"], abs=1e-3)
        np.testing.assert_allclose(other["corners"], rec["corners"], atol=0.05)
        np.testing.assert_allclose(other["corner_confidence"], rec["corner_confidence"], atol=1e-3)  # exported maps: confidence too
