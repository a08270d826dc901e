"""The one training loop every task uses: resume, callbacks, logs, verbosity."""

from __future__ import annotations

import copy
import sys
from collections.abc import Callable
from dataclasses import dataclass

import keras

from configs import TrainConfig
from tasks.backend import tensorflow_available
from training.batches import resume_seed
from training.checkpoints import EpochCheckpoint, read_history
from training.lr_schedule import TimeCosine
from training.run_dir import RunDir, prepare_run
from training.strategy import is_chief, make_strategy
from training.time_limit import TimeLimit, time_left


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


def begin(task: str, cfg, data: str, run_path, split: Callable[[], tuple], size: Callable[[object], int], what: str,
          log: Callable[[str], None] = print) -> tuple:
    """The start every task's training shares: seed, precision, split (skips logged by name), refuse an empty training
    set, create or reopen the run directory, and the distribution strategy.

    Returns (train, valid, skipped, run, state, strategy, data_cfg): build and fit under `strategy.scope()`, and
    batch the data by `data_cfg`, a copy of cfg whose data.batch_size is the global batch (per replica x replicas).
    A resumed run's global seed is `resume_seed(train.seed, epochs done)`; tf.data pipelines take the same seed.
    """
    keras.utils.set_random_seed(cfg.train.seed)
    keras.mixed_precision.set_global_policy("mixed_float16" if cfg.train.mixed_precision else "float32")
    train, valid, skipped = split()
    for name, reason in skipped:
        log(f"skipped {name}: {reason}")
    if not size(train):
        raise ValueError(f"{data}: no {what} ({len(skipped)} skipped)")
    run, state = prepare_run(run_path, task, cfg)
    if state.get("epochs_done"):  # the global seed's draws (tf.data shuffles, random ops) go on with new values
        keras.utils.set_random_seed(resume_seed(cfg.train.seed, int(state["epochs_done"])))
    strategy = make_strategy(cfg.train.strategy)
    data_cfg = copy.deepcopy(cfg)
    data_cfg.data.batch_size = cfg.data.batch_size * strategy.num_replicas_in_sync
    if strategy.num_replicas_in_sync > 1:
        log(f"{type(strategy).__name__}: {strategy.num_replicas_in_sync} replicas, global batch {data_cfg.data.batch_size}")
    return train, valid, skipped, run, state, strategy, data_cfg


def epoch_steps(train_ds, n_train: int, cfg) -> tuple[object, int, int | None]:
    """(dataset, batches per epoch, steps_per_epoch for fit): one pass over the data, or train.steps_per_epoch
    batches from the data repeated. A tf.data.Dataset is repeated; a keras.utils.PyDataset (the loader of the
    other backends) is sized to the steps by itself (see training/batches.py), so fit gets no steps_per_epoch."""
    if cfg.train.steps_per_epoch:
        if isinstance(train_ds, keras.utils.PyDataset):
            return train_ds, cfg.train.steps_per_epoch, None
        return train_ds.repeat(), cfg.train.steps_per_epoch, cfg.train.steps_per_epoch
    return train_ds, max(1, n_train // cfg.data.batch_size), None


def build_from_local_batch(model: keras.Model) -> None:
    """Under a multi-replica strategy, Keras 3.15 builds a model's metrics from the first batch averaged over the
    replicas (`strategy.reduce`), which fails when the batch splits unevenly (a last validation batch of 3 on 2
    replicas: shapes [2, ...] and [1, ...]). Build from the first replica's part instead; only shapes matter."""
    import tensorflow as tf

    strategy = model.distribute_strategy

    def build(iterator=None, data_batch=None):
        if iterator is None or data_batch is not None:
            return type(model)._maybe_symbolic_build(model, iterator=iterator, data_batch=data_batch)
        for _, _, it in iterator:
            batch = next(it)
            break
        else:
            return None

        def local(v):
            return strategy.experimental_local_results(v)[0] if isinstance(v, tf.distribute.DistributedValues) else v

        with strategy.scope():
            model._symbolic_build(data_batch=tf.nest.map_structure(local, batch))
        return None

    model._maybe_symbolic_build = build


def tensorboard_callbacks(run: RunDir) -> list[keras.callbacks.Callback]:
    """TensorBoard logs: Keras' callback where TensorFlow can be imported (any backend), else the scalar writer of
    training/scalar_log.py (PyTorch's tensorboard writer; a GPU box without TensorFlow), else none."""
    if tensorflow_available():
        return [keras.callbacks.TensorBoard(log_dir=str(run.logs), write_graph=False)]
    from training.scalar_log import ScalarLog

    return [ScalarLog(run.logs)] if ScalarLog.available() else []


def load_or_build(run: RunDir, state: dict, build: Callable[[], keras.Model]) -> keras.Model:
    """last.keras (weights and optimizer state) when the run has finished epochs, else a new model from `build`."""
    return keras.models.load_model(run.last) if state.get("epochs_done") else build()


def fit(model: keras.Model, train_ds, val_ds, run: RunDir, state: dict,
        train_cfg: TrainConfig, until_epoch: int | None = None, monitor: str = "val_loss", mode: str = "min",
        extra_callbacks: list[keras.callbacks.Callback] | None = None, steps_per_epoch: int | None = None,
        class_weight: dict[int, float] | None = None) -> FitResult:
    """Trains a compiled model from the run's finished epochs up to `until_epoch` (default train_cfg.epochs).

    Args:
      state: the run's resume state ({} for a new run); it is updated as epochs finish.
      class_weight: loss weight per class index (imbalanced classes), or None.
    """
    done = int(state.get("epochs_done", 0))
    until = train_cfg.epochs if until_epoch is None else until_epoch
    if val_ds is None and monitor.startswith("val_"):
        monitor = monitor[4:]
    chief = is_chief()
    callbacks = [keras.callbacks.TerminateOnNaN()]
    if train_cfg.time_limit_min > 0:
        callbacks.append(TimeLimit(train_cfg.time_limit_min))
    if train_cfg.schedule == "time":  # before the checkpoint, so that history.csv gets each epoch's learning_rate
        callbacks.append(TimeCosine(train_cfg.time_limit_min))
    if chief:  # in multi-worker training only the chief writes checkpoints, history and logs
        callbacks += [*tensorboard_callbacks(run), EpochCheckpoint(run, monitor=monitor, mode=mode, best=state.get("best")),
                      *(extra_callbacks or [])]
    if getattr(model, "distribute_strategy", None) is not None and model.distribute_strategy.num_replicas_in_sync > 1:
        build_from_local_batch(model)
    if done < until and time_left(train_cfg.time_limit_min):
        if hasattr(train_ds, "start_at"):  # a resumed run draws its next epoch's batches, not the first epoch's again
            train_ds.start_at(done)
        model.fit(train_ds, validation_data=val_ds, epochs=until, initial_epoch=done, steps_per_epoch=steps_per_epoch,
                  class_weight=class_weight, callbacks=callbacks, verbose=keras_verbose(train_cfg.verbose) if chief else 0)
    state.clear()
    state.update(run.state() if chief else {"epochs_done": max(done, until)})
    return FitResult(int(state.get("epochs_done", done)), done, read_history(run), state.get("best"))
