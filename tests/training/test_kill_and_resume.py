"""Training survives a kill: SIGKILL `nie train` in the middle of an epoch, run the same command again, and it
goes on from the last finished epoch with its optimizer state, to the planned number of epochs."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time

import keras
import pytest

import depth.losses  # noqa: F401  (registers the depth model's custom objects)
import depth.metrics  # noqa: F401
import depth.model  # noqa: F401
from tests.conftest import ROOT

pytestmark = pytest.mark.slow

EPOCHS, STEPS = 4, 120


def _command(data, run):
    return [sys.executable, "-m", "scripts.nie", "train", "depth", "--data", str(data), "--run", str(run), "--preset", "depth_smoke",
            f"train.epochs={EPOCHS}", f"train.steps_per_epoch={STEPS}", "results.panels=0"]


def test_sigkill_mid_epoch_then_resume(synth_dataset, tmp_path):
    run = tmp_path / "run"
    proc = subprocess.Popen(_command(synth_dataset, run), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    state = run / "backup" / "state.json"
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None:
        if state.exists() and json.loads(state.read_text())["epochs_done"] >= 1:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "training ended before it could be killed"
    time.sleep(0.4)  # into the next epoch
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    done = json.loads(state.read_text())["epochs_done"]
    assert 1 <= done < EPOCHS
    # nothing half-written: every checkpoint under its real name loads
    for path in [run / "last.keras", run / "best.keras", *sorted((run / "checkpoints").glob("epoch_*.keras"))]:
        keras.models.load_model(path)
    # what a kill inside a save leaves: temporaries beside the files they were to replace (the kill above may
    # or may not have landed in one, so plant them)
    stale = [run / f".last.{proc.pid}.tmp.keras", run / "checkpoints" / f".epoch_002.{proc.pid}.tmp.keras",
             run / "backup" / f".state.json.{proc.pid}.tmp"]
    for path in stale:
        path.write_bytes(b"half a file")
    again = subprocess.run(_command(synth_dataset, run), cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"{EPOCHS} epochs, resumed after epoch {done}" in again.stdout
    rows = list(csv.DictReader(open(run / "history.csv")))
    assert [int(r["epoch"]) for r in rows] == list(range(1, EPOCHS + 1))
    last = keras.models.load_model(run / "last.keras")
    assert int(last.optimizer.iterations.numpy()) == EPOCHS * STEPS  # the optimizer went on, it did not start over
    assert sorted(p.name for p in (run / "checkpoints").glob("*.keras")) == [f"epoch_{e:03d}.keras" for e in range(1, EPOCHS + 1)]
    assert not list(run.rglob("*.tmp.keras")), "a temporary checkpoint was left behind"
    assert not any(path.exists() for path in stale), "stale temporaries of the killed run were not removed"
