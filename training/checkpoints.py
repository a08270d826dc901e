"""Saving at each epoch end so that no checkpoint is ever half-written and training can resume.

Per epoch, in this order: checkpoints/epoch_NNN.keras, best.keras (when the monitored value
improves), last.keras, then the history row and backup/state.json. Each file is written under a
temporary name and renamed, so a kill at any moment leaves the previous complete files.
"""

from __future__ import annotations

import csv
import io
import math
import os
from pathlib import Path

import keras

from data.atomic_files import write_csv_atomic
from training.run_dir import RunDir


def save_model_atomic(model: keras.Model, path: Path) -> None:
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.keras")
    model.save(tmp)
    os.replace(tmp, path)


class EpochCheckpoint(keras.callbacks.Callback):
    """Writes the run directory's checkpoints, history.csv and resume state after every epoch."""

    def __init__(self, run: RunDir, monitor: str = "val_loss", mode: str = "min", best: float | None = None):
        super().__init__()
        self.run = run
        self.monitor = monitor
        self.sign = 1.0 if mode == "min" else -1.0
        self.best = best

    def _improved(self, value: float) -> bool:
        return self.best is None or self.sign * value < self.sign * self.best

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = dict(logs or {})
        save_model_atomic(self.model, self.run.epoch_checkpoint(epoch + 1))
        value = logs.get(self.monitor)
        if value is not None and math.isfinite(float(value)) and self._improved(float(value)):
            self.best = float(value)
            save_model_atomic(self.model, self.run.best)
        save_model_atomic(self.model, self.run.last)
        self._append_history(epoch + 1, logs)
        self.run.write_state({"epochs_done": epoch + 1, "best": self.best, "monitor": self.monitor})

    def _append_history(self, epoch: int, logs: dict) -> None:
        rows = []
        if self.run.history.exists():
            rows = list(csv.DictReader(io.StringIO(self.run.history.read_text())))
        rows = [r for r in rows if int(r["epoch"]) < epoch]  # a re-run epoch replaces its row
        rows.append({"epoch": str(epoch), **{k: f"{float(v):.6g}" for k, v in sorted(logs.items())}})
        fields = ["epoch"] + sorted({k for r in rows for k in r if k != "epoch"})
        write_csv_atomic(self.run.history, rows, fields)


def read_history(run: RunDir) -> list[dict[str, float]]:
    if not run.history.exists():
        return []
    return [{k: float(v) for k, v in r.items() if v != ""} for r in csv.DictReader(io.StringIO(run.history.read_text()))]
