"""train.strategy: mirrored training on 2 logical CPU devices (global batch = per-replica batch x 2), chief detection."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT, make_dataset
from training.strategy import is_chief

SCRIPT = """
import sys
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import configs
from depth.train import train
_, cfg = configs.get_preset("depth_smoke")
configs.apply_overrides(cfg, ["train.strategy=mirrored", "train.epochs=2", "results.panels=0", "data.val_split=0.2"])
train(cfg, sys.argv[1], sys.argv[2])
"""


@pytest.mark.slow
def test_mirrored_training_on_two_logical_cpus(tmp_path):
    # 40 scenes: 8 held out, one validation batch of 8 split evenly over the two replicas (an uneven last batch
    # still fails inside TensorFlow's cross-replica sum; see the README)
    data = make_dataset(tmp_path / "ds", 40, 3, "synth_smoke")
    run = tmp_path / "run"
    out = subprocess.run([sys.executable, "-c", SCRIPT, str(data), str(run)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert "MirroredStrategy: 2 replicas, global batch 8" in out.stdout
    rows = list(csv.DictReader(open(run / "history.csv")))
    assert len(rows) == 2 and all(float(r["loss"]) > 0 for r in rows)
    assert (run / "best.keras").exists() and json.loads((run / "backup" / "state.json").read_text())["epochs_done"] == 2


def test_chief_is_worker_zero_unless_a_chief_is_named(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    assert is_chief()
    cluster = {"worker": ["127.0.0.1:1", "127.0.0.1:2"]}
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": cluster, "task": {"type": "worker", "index": 0}}))
    assert is_chief()
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": cluster, "task": {"type": "worker", "index": 1}}))
    assert not is_chief()
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": {**cluster, "chief": ["127.0.0.1:3"]}, "task": {"type": "worker", "index": 0}}))
    assert not is_chief()


def test_multiworker_needs_tf_config(monkeypatch):
    from training.strategy import make_strategy

    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ValueError, match="needs TF_CONFIG"):
        make_strategy("multiworker")
