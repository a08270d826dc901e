"""One directory per training run (shared/conventions.md, section 6).

runs/<task>/<name>/
  config.yaml                 the resolved config, written before training starts
  checkpoints/epoch_NNN.keras one per epoch
  best.keras, last.keras      best by the monitored metric; the latest epoch (model + optimizer state)
  backup/state.json           resume state: epochs done, best value
  logs/                       TensorBoard
  history.csv                 one row per finished epoch

Re-running the same command on the same directory resumes where it stopped; a directory holding a
different config is refused (only how long and how it runs may change: train.epochs, to train further,
train.time_limit_min, train.verbose, data.workers).
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import configs
from data.atomic_files import write_text_atomic


class RunDirError(ValueError):
    """A run directory that cannot be used as asked; the message says why."""


@dataclass(frozen=True)
class RunDir:
    path: Path

    @property
    def config(self) -> Path:
        return self.path / "config.yaml"

    @property
    def checkpoints(self) -> Path:
        return self.path / "checkpoints"

    @property
    def best(self) -> Path:
        return self.path / "best.keras"

    @property
    def last(self) -> Path:
        return self.path / "last.keras"

    @property
    def backup(self) -> Path:
        return self.path / "backup"

    @property
    def state_file(self) -> Path:
        return self.backup / "state.json"

    @property
    def logs(self) -> Path:
        return self.path / "logs"

    @property
    def history(self) -> Path:
        return self.path / "history.csv"

    def epoch_checkpoint(self, epoch: int) -> Path:
        return self.checkpoints / f"epoch_{epoch:03d}.keras"

    def state(self) -> dict[str, Any]:
        """{"epochs_done": int, "best": float | None, "monitor": str}; empty for a new run."""
        if not self.state_file.exists():
            return {}
        return json.loads(self.state_file.read_text())

    def write_state(self, state: dict[str, Any]) -> None:
        write_text_atomic(self.state_file, json.dumps(state, indent=1) + "\n")


def default_run_path(task: str, preset: str | None) -> Path:
    """runs/<task>/<preset or "default">: the same command finds the same directory, so it resumes."""
    return configs.RUNS_DIR / task / (preset or "default")


# settings a resumed run may change: they say how long and how it runs, not what it learns
FREE_TO_CHANGE = frozenset({"train.epochs", "train.time_limit_min", "train.verbose", "data.workers"})


def prepare_run(path: str | os.PathLike, task: str, cfg: Any) -> tuple[RunDir, dict[str, Any]]:
    """Creates or reopens a run directory. Returns it and its resume state ({} for a new run).

    A reopened run must hold the same config apart from FREE_TO_CHANGE; otherwise RunDirError lists the keys.
    """
    run = RunDir(Path(path))
    if run.config.exists():
        old = configs.load_yaml(run.config)
        before, after = configs.to_dict(old), configs.to_dict(cfg)
        changed = [k for k in _flat(after) if _flat(before).get(k) != _flat(after)[k] and k not in FREE_TO_CHANGE]
        if changed:
            raise RunDirError(f"{run.path} was started with another config ({', '.join(changed)} differ); "
                              "use a new --run, or the same settings to resume")
    for sub in (run.path, run.checkpoints, run.backup, run.logs):
        sub.mkdir(parents=True, exist_ok=True)
    for stale in [*run.path.glob(".*.tmp*"), *run.checkpoints.glob(".*.tmp*"), *run.backup.glob(".*.tmp*")]:
        stale.unlink(missing_ok=True)  # a save that a kill interrupted; the file it was replacing is whole
    configs.save_yaml(cfg, run.config, task=task)
    state = run.state()
    if state and not run.last.exists():
        raise RunDirError(f"{run.path}: resume state says {state.get('epochs_done')} epochs are done, but last.keras is missing")
    return run, state


def discard_unstarted(path: str | os.PathLike) -> bool:
    """Removes the run directory at `path` when no epoch of it finished (no last.keras, no resume state): for a run
    that this command created and that failed at its start (an init= of another architecture, bad data), so that the
    corrected command can use the same --run. Call it only for a directory that did not exist before. True if removed."""
    run = RunDir(Path(path))
    if not run.path.is_dir() or run.last.exists() or run.state_file.exists():
        return False
    shutil.rmtree(run.path, ignore_errors=True)
    return True


def _flat(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[prefix + k] = v
    return out
