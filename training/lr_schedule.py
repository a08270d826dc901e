"""`train.schedule`: the learning rate's cosine decay (to 5 % of train.learning_rate) over the planned epochs, or over
the training's time limit.

`epochs` (the default) decays over train.epochs x batches per epoch, inside the optimizer. `time` decays over
train.time_limit_min instead: the rate is set at the start of each epoch from the share of the limit used so far, so
a training lent a machine for minutes ends at a low rate however fast the machine turns out to be (a fixed epoch
count either stops early at a high rate or finishes with time to spare). Use it with epochs that are short next to
the limit (one pass over the data, or train.steps_per_epoch) and train.epochs large. Minutes count from the start of
the command, as the time limit's do; a resumed run starts a new decay from the rate it stopped at.
"""

from __future__ import annotations

import math

import keras

from configs import TrainConfig
from training.time_limit import minutes_used

FLOOR = 0.05  # the rate ends at this share of where it started, as keras' CosineDecay(alpha=0.05)


def learning_rate(train_cfg: TrainConfig, lr: float, decay_steps: int):
    """What the optimizer gets: a CosineDecay over `decay_steps` batches (schedule=epochs), or the plain starting rate
    that TimeCosine lowers epoch by epoch (schedule=time; configs.validate refuses it without a time limit)."""
    if train_cfg.schedule == "time":
        return float(lr)
    return keras.optimizers.schedules.CosineDecay(lr, max(1, decay_steps), alpha=FLOOR)


def cosine(start: float, used: float) -> float:
    """The rate after the share `used` (0..1, clipped) of the decay: start at 0, start x FLOOR at 1."""
    used = min(1.0, max(0.0, used))
    return start * (FLOOR + (1.0 - FLOOR) * 0.5 * (1.0 + math.cos(math.pi * used)))


class TimeCosine(keras.callbacks.Callback):
    """schedule=time: at each epoch's start the optimizer's rate becomes cosine(start, minutes used / limit), `start`
    being the rate the optimizer had when training began; each epoch's logs get its `learning_rate`."""

    def __init__(self, limit_min: float, clock=minutes_used):
        super().__init__()
        self.limit_min, self.clock = float(limit_min), clock
        self.start: float | None = None
        self.rate: float | None = None

    def on_train_begin(self, logs=None):
        if self.start is None:
            self.start = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))

    def on_epoch_begin(self, epoch, logs=None):
        self.rate = cosine(self.start, self.clock() / self.limit_min)
        self.model.optimizer.learning_rate = self.rate

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None and self.rate is not None:
            logs["learning_rate"] = self.rate
