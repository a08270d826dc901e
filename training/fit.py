"""The one training loop every task uses: resume, callbacks, logs, verbosity."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass

import keras
import tensorflow as tf

from configs import TrainConfig
from training.checkpoints import EpochCheckpoint, read_history
from training.run_dir import RunDir


@dataclass
class FitResult:
    epochs_done: int
    resumed_from: int
    history: list[dict[str, float]]
    best: float | None


def keras_verbose(setting: str) -> int:
    """auto: a progress bar on a terminal, one line per epoch in logs (verbose=2)."""
    if setting == "auto":
        return 1 if sys.stdout.isatty() else 2
    return int(setting)


def fit(build: Callable[[], keras.Model], train_ds: tf.data.Dataset, val_ds: tf.data.Dataset | None, run: RunDir,
        state: dict, train_cfg: TrainConfig, monitor: str = "val_loss", mode: str = "min",
        extra_callbacks: list[keras.callbacks.Callback] | None = None,
        steps_per_epoch: int | None = None) -> tuple[keras.Model, FitResult]:
    """Trains a model built by `build` (or resumed from last.keras) for train_cfg.epochs in total.

    Args:
      build: returns a compiled model for a new run.
      state: the run's resume state from `prepare_run` ({} for a new run).
    """
    done = int(state.get("epochs_done", 0))
    if done:
        model = keras.models.load_model(run.last)  # weights and optimizer state
    else:
        model = build()
    if val_ds is None and monitor.startswith("val_"):
        monitor = monitor[4:]
    callbacks = [
        keras.callbacks.TensorBoard(log_dir=str(run.logs), write_graph=False),
        EpochCheckpoint(run, monitor=monitor, mode=mode, best=state.get("best")),
        keras.callbacks.TerminateOnNaN(),
        *(extra_callbacks or []),
    ]
    if done < train_cfg.epochs:
        model.fit(train_ds, validation_data=val_ds, epochs=train_cfg.epochs, initial_epoch=done, steps_per_epoch=steps_per_epoch,
                  callbacks=callbacks, verbose=keras_verbose(train_cfg.verbose))
    history = read_history(run)
    final_state = run.state()
    return model, FitResult(int(final_state.get("epochs_done", done)), done, history, final_state.get("best"))
