"""Training on a Keras backend other than TensorFlow with TensorFlow hidden (as on a GPU box that has only PyTorch or
JAX), and the portability of what it writes: the .keras files predict the same under TensorFlow and export the same.

CI runs the JAX backend on CPU (`jax[cpu]` is in requirements.txt; the CPU-only PyTorch wheel is not on PyPI).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from data.synth.generate import sample_seed
from data.via import read_via
from tests.conftest import ROOT, make_dataset

HIDE_TF = ROOT / "tests" / "no_tensorflow"
OTHER = "jax"

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("backends")]

PREDICT = """
import sys
import numpy as np
from tasks import registry
model = registry.get(sys.argv[1]).load(sys.argv[2])
np.save(sys.argv[4], model.predict(np.load(sys.argv[3]), verbose=0))
"""


def run_python(args: list[str], backend: str = OTHER, hide_tf: bool = True, timeout: int = 600) -> subprocess.CompletedProcess:
    path = [str(HIDE_TF)] if hide_tf else []
    env = {**os.environ, "KERAS_BACKEND": backend, "PYTHONPATH": os.pathsep.join([*path, str(ROOT)]), "PYTHONUNBUFFERED": "1"}
    return subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def nie(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return run_python(["-m", "scripts.nie", *args], **kwargs)


@pytest.fixture(scope="module")
def scenes(tmp_path_factory) -> Path:
    return make_dataset(tmp_path_factory.mktemp("backends") / "ds", 12, 5)


def test_tensorflow_is_really_hidden():
    r = run_python(["-c", "import tensorflow"])
    assert r.returncode != 0 and "hidden by tests/no_tensorflow" in r.stderr


def test_help_and_config_work_without_tensorflow():
    r = nie("--help")
    assert r.returncode == 0, r.stderr
    assert nie("config", "depth", "--preset", "depth_smoke").returncode == 0


@pytest.mark.parametrize("task, preset, shape, workers_as", [("keypoints", "keypoints_smoke", (3, 32, 32, 3), "threads"),
                                                           ("depth", "depth_smoke", (3, 24, 32, 3), "processes"),
                                                           ("classifier", "classifier_smoke", (3, 32, 32, 3), "processes")])
def test_train_without_tensorflow_then_predict_and_export_alike_under_tensorflow(scenes, tmp_path, task, preset, shape, workers_as):
    run = tmp_path / "run"
    # loader threads (JAX's default) for one task, forked processes (the GPU presets' choice) for the other
    args = ["train", task, "--data", str(scenes), "--run", str(run), "--preset", preset, "data.augment=true", "data.workers=2",
            f"data.workers_as={workers_as}"]
    if task == "keypoints":
        args.append("augment.engine=opencv")  # as keypoints_gpu: the one-warp transform on loader threads
    r = nie(*args)
    assert r.returncode == 0, r.stderr[-3000:]
    assert f"nie train: {task}: 1 epochs" in r.stdout
    for name in ("config.yaml", "best.keras", "last.keras", "history.csv", "checkpoints/epoch_001.keras", "backup/state.json"):
        assert (run / name).is_file(), name

    # the same command with one more epoch resumes on the same backend
    r = nie(*args, "train.epochs=2")
    assert r.returncode == 0, r.stderr[-3000:]
    assert "2 epochs, resumed after epoch 1" in r.stdout

    # predictions of the written model: under JAX without TensorFlow, and here under TensorFlow
    top = 1.0 if task == "depth" else 255.0
    x = np.random.default_rng(0).uniform(0, top, shape).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    r = run_python(["-c", PREDICT, task, str(run / "best.keras"), str(tmp_path / "x.npy"), str(tmp_path / "other.npy")])
    assert r.returncode == 0, r.stderr[-3000:]
    theirs = np.load(tmp_path / "other.npy")

    import keras

    from deploy.export import export_model, run_exported
    from tasks import registry

    assert keras.backend.backend() == "tensorflow"
    model = registry.get(task).load(run / "best.keras")
    ours = model.predict(x, verbose=0)
    assert theirs.shape == ours.shape
    assert np.abs(theirs - ours).max() < 1e-4
    assert np.abs(ours).max() > 0  # not a degenerate model

    path, diff = export_model(run / "best.keras", "onnx", tmp_path / f"{task}.onnx")
    assert diff < 1e-4
    exported = run_exported(path, "onnx", x)
    if exported.ndim == 4 and task == "keypoints":  # a heat-map corner model exports its heat maps
        from keypoints.decode import soft_argmax

        exported = soft_argmax(exported)
    assert np.abs(exported - theirs).max() < 1e-4


def test_tensorflow_only_steps_say_so_in_one_line(scenes, tmp_path):
    r = nie("augment-preview", "classifier", "--data", str(scenes), "--out", str(tmp_path / "c.png"), "--preset", "classifier_smoke")
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "needs the TensorFlow backend" in lines[0] and OTHER in lines[0], r.stderr
    r = nie("train", "depth", "--data", str(scenes), "--run", str(tmp_path / "d"), "--preset", "depth_smoke", "train.strategy=mirrored")
    assert r.returncode == 2 and "needs the TensorFlow backend" in r.stderr
    r = nie("train", "depth", "--data", str(scenes), "--run", str(tmp_path / "e"), "--preset", "depth_smoke", "data.loader=tfdata")
    assert r.returncode == 2 and "needs the TensorFlow backend" in r.stderr


def test_gpu_recipe_dry_run_trains_side_by_side_and_leaves_stripped_models(tmp_path):
    """scripts/gpu_train.sh as on the GPU machine (no TensorFlow, JAX), on tiny presets: scenes rendered, two tasks
    trained at once, each best model copied to OUT without optimizer state while and after they train; the fill model
    on the shipped corner model's corners of the training scenes (CORNERS_MODEL), with its own overrides; its own
    init= outranks INIT_FROM (whose fillnet.keras here is no model at all)."""
    out = tmp_path / "out"
    init_from = tmp_path / "init"
    init_from.mkdir()
    (init_from / "fillnet.keras").write_bytes(b"not a model")
    env = {**os.environ, "KERAS_BACKEND": OTHER, "PYTHONPATH": str(HIDE_TF), "PYTHON": sys.executable, "WHEELS": "",
           "N": "12", "SEED": "5", "N_EVAL": "0", "PRESET_SUFFIX": "_smoke", "DATA": str(tmp_path / "data"), "RUNS": str(tmp_path / "runs"),
           "OUT": str(out), "DEADLINE_S": "400", "COLLECT_EVERY": "5", "CORNERS_MODEL": str(ROOT / "models" / "keypoints.keras"),
           "CORNERS_SHARDS": "3", "OVERRIDES_fillnet": "train.seed=3 init=", "INIT_FROM": str(init_from), "SYNTH": "closed_prob=0.5 no_box_prob=0.2"}
    r = subprocess.run(["bash", str(ROOT / "scripts" / "gpu_train.sh"), "fillnet", "keypoints"], env=env, capture_output=True,
                       text=True, timeout=600, cwd=ROOT)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "trainings stop after" in r.stdout and "keypoints training ended with status 0" in r.stdout
    assert sorted(p.name for p in out.iterdir()) == ["fillnet.keras", "fillnet_history.csv", "keypoints.keras",
                                                     "keypoints_history.csv", "log.txt"]
    from tasks import registry

    for task in ("keypoints", "fillnet"):
        model = registry.get(task).load(str(out / f"{task}.keras"))  # here under TensorFlow
        assert getattr(model, "optimizer", None) is None
        assert (tmp_path / "runs" / task / "gpu_smoke" / "best.keras").stat().st_size > (out / f"{task}.keras").stat().st_size
    assert "=== keypoints" in (out / "log.txt").read_text()
    scenes = "gpu_train_12_s5_" + hashlib.md5(b"closed_prob=0.5 no_box_prob=0.2").hexdigest()[:6]  # SYNTH: its own folder
    via = tmp_path / "runs" / "corners" / scenes / "predictions_via.json"
    assert not [p for p in via.parent.rglob("*.png") if p.parent.name != "images"]  # results.pictures=false: no drawn pictures
    assert [len(list((via.parent / "shards" / str(k) / "images").iterdir())) for k in range(3)] == [4, 4, 4]  # CORNERS_SHARDS
    assert len(read_via(via)) == 12 and r.stdout.index("keypoints training started") < r.stdout.index("fillnet training started")
    fill_cfg = (tmp_path / "runs" / "fillnet" / "gpu_smoke" / "config.yaml").read_text()
    assert f"corners_from: {via}" in fill_cfg and "seed: 3" in fill_cfg and "init: ''" in fill_cfg
    assert "seed: 3" not in (tmp_path / "runs" / "keypoints" / "gpu_smoke" / "config.yaml").read_text()
    rows = [json.loads(line) for line in (tmp_path / "data" / scenes / "meta.jsonl").read_text().splitlines()]
    assert rows[0]["seed"] == sample_seed(5, 0)  # SEED: scenes of another seed
    assert any(row.get("open") is False for row in rows)  # SYNTH: closed boxes and box-free scenes among them
