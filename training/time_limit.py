"""`train.time_limit_min`: a training command that stops itself in time and resumes where it stopped.

Minutes count from when this module is first imported, i.e. from the start of the training command. Training stops
at the end of an epoch when the next epoch (as long as the last one) would pass the limit, or, past the limit,
after the batch that crossed it (that epoch is then checkpointed as done). The learning-rate schedule is not
shortened: size train.epochs to the time and keep the limit as the safety net (a GPU lent for minutes).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import keras

STARTED = time.monotonic()


def minutes_used() -> float:
    return (time.monotonic() - STARTED) / 60.0


def time_left(limit_min: float) -> bool:
    """True when there is no limit or some of it is left."""
    return limit_min <= 0 or minutes_used() < limit_min


class TimeLimit(keras.callbacks.Callback):
    """Sets model.stop_training once `limit_min` minutes (since the command started) are used or the next epoch
    would pass them; `log` says so once."""

    def __init__(self, limit_min: float, log: Callable[[str], None] = print):
        super().__init__()
        self.limit_min, self.log = float(limit_min), log
        self.epoch_started = time.monotonic()
        self.stopped = False

    def _stop(self, why: str) -> None:
        if not self.stopped:
            self.stopped = True
            self.log(f"time limit: {why} ({minutes_used():.1f} of {self.limit_min:g} min used); the same command resumes")
        self.model.stop_training = True

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_started = time.monotonic()

    def on_train_batch_end(self, batch, logs=None):
        if minutes_used() >= self.limit_min:
            self._stop(f"stopped after batch {batch + 1} of an epoch")

    def on_epoch_end(self, epoch, logs=None):
        last_min = (time.monotonic() - self.epoch_started) / 60.0
        if minutes_used() + last_min > self.limit_min:
            self._stop(f"stopped after epoch {epoch + 1}, the next would not fit")
