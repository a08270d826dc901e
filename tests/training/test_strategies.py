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
def test_mirrored_training_on_two_logical_cpus(synth_dataset, tmp_path):
    # 40 scenes: 8 held out, a validation batch of 8 splits 4 + 4; 16 scenes: 3 held out, a last validation batch
    # that splits 2 + 1, which Keras 3.15 cannot build its metrics from (training/fit.build_from_local_batch)
    for data in (make_dataset(tmp_path / "ds", 40, 3, "synth_smoke"), synth_dataset):
        run = tmp_path / f"run_{data.parent.name}"
        out = subprocess.run([sys.executable, "-c", SCRIPT, str(data), str(run)], cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
        assert "MirroredStrategy: 2 replicas, global batch 8" in out.stdout
        rows = list(csv.DictReader(open(run / "history.csv")))
        assert len(rows) == 2 and all(float(r["loss"]) > 0 and float(r["val_loss"]) > 0 for r in rows)
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


WORKER = """
import json, os, sys
index, ports, run = int(sys.argv[1]), sys.argv[2].split(","), sys.argv[3]
os.environ["TF_CONFIG"] = json.dumps({"cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]}, "task": {"type": "worker", "index": index}})
import keras, numpy as np, tensorflow as tf
import configs
from training.fit import fit
from training.run_dir import prepare_run
from training.strategy import make_strategy
strategy = make_strategy("multiworker")
keras.utils.set_random_seed(0)
cfg = configs.TrainConfig(epochs=1, verbose="0")
with strategy.scope():
    model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3), keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(2)])
    model.compile(keras.optimizers.Adam(1e-2), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
rng = np.random.default_rng(0)
x, y = rng.random((64, 8, 8, 3)).astype("float32"), rng.integers(0, 2, 64)
ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(8 * strategy.num_replicas_in_sync)
run, state = prepare_run(run, "tiny", configs.TrainConfig(epochs=1))
result = fit(model, ds, None, run, state, cfg, monitor="loss")
print("WEIGHTS", json.dumps([float(np.sum(w)) for w in model.get_weights()]), "REPLICAS", strategy.num_replicas_in_sync, flush=True)
"""


@pytest.mark.slow
def test_two_workers_train_to_the_same_weights_and_only_the_chief_writes(tmp_path):
    import socket

    ports = []
    for _ in range(2):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            ports.append(str(s.getsockname()[1]))
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, str(i), ",".join(ports), str(tmp_path / f"run{i}")], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for i in range(2)]
    outs = [p.communicate(timeout=150)[0] for p in procs]
    for p, out in zip(procs, outs, strict=True):
        assert p.returncode == 0, out[-3000:]
    weights = [json.loads(out.split("WEIGHTS ", 1)[1].split(" REPLICAS")[0]) for out in outs]
    assert all(" REPLICAS 2" in out for out in outs)
    assert weights[0] == pytest.approx(weights[1], abs=1e-6)  # synchronous: one model
    assert (tmp_path / "run0" / "last.keras").exists() and (tmp_path / "run0" / "history.csv").exists()
    assert not (tmp_path / "run1" / "last.keras").exists() and not list((tmp_path / "run1" / "logs").iterdir())  # not the chief
