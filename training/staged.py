"""Staged fine-tuning of a model with a pretrained backbone, resumable at any epoch.

Stage 1 (`train.head_epochs`, pretrained weights only): the backbone is frozen and the head learns at
`train.learning_rate`. Stage 2: the backbone learns from `unfreeze` on, at learning_rate x
`train.finetune_lr_factor`. With weights=none there is nothing to protect, so the whole network trains
from the first epoch. A resumed run continues in the stage its finished epochs say, with that stage's
optimizer state (from last.keras).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import keras

from configs import TrainConfig
from training.backbone import freeze, unfreeze_from
from training.fit import FitResult, fit, load_or_build
from training.run_dir import RunDir


@dataclass
class Stages:
    """What staged_fit needs to know about the model."""

    build: Callable[[], keras.Model]  # a new, uncompiled model
    compile: Callable[[keras.Model, float, int], keras.Model]  # (model, learning rate, decay steps) -> compiled model
    backbone: str  # the backbone layer's name
    unfreeze: str  # stage 2 trains the backbone from this layer (name or index); "" = all of it
    pretrained: bool  # weights other than none: stage 1 runs
    task: str = "TASK"  # for error messages


def head_epochs(stages: Stages, train_cfg: TrainConfig) -> int:
    return min(train_cfg.head_epochs, train_cfg.epochs) if stages.pretrained else 0


def staged_fit(stages: Stages, train_ds, val_ds, run: RunDir, state: dict,
               train_cfg: TrainConfig, steps: int, **fit_kwargs) -> FitResult:
    """Runs whichever stages are not done yet. `steps` is batches per epoch (for the learning-rate decay);
    fit_kwargs go to training.fit.fit (steps_per_epoch, extra_callbacks, monitor, class_weight, ...)."""
    first = head_epochs(stages, train_cfg)
    done = int(state.get("epochs_done", 0))
    result = None
    if done < first:
        def frozen() -> keras.Model:
            model = stages.build()
            freeze(model, stages.backbone)
            return stages.compile(model, train_cfg.learning_rate, first * steps)

        model = load_or_build(run, state, frozen)
        result = fit(model, train_ds, val_ds, run, state, train_cfg, until_epoch=first, **fit_kwargs)
        done = first
    if done < train_cfg.epochs or result is None:
        if done > first:
            model = keras.models.load_model(run.last)  # stage 2 already under way: its own optimizer state
        else:
            model = load_or_build(run, state, stages.build)
            if first:
                unfreeze_from(model, stages.backbone, stages.unfreeze, stages.task)
            lr = train_cfg.learning_rate * (train_cfg.finetune_lr_factor if first else 1.0)
            stages.compile(model, lr, (train_cfg.epochs - done) * steps)
        result = fit(model, train_ds, val_ds, run, state, train_cfg, **fit_kwargs)
    return result
