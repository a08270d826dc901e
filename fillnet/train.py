"""`nie train fillnet`: the learned fill model, with a run directory that resumes."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras

from configs import FillnetConfig
from fillnet.data import make_dataset, split_scenes
from fillnet.losses import FillLoss, fill_mae_pp, open_accuracy
from fillnet.model import build_model
from training.fit import begin, fit, load_or_build
from training.lr_schedule import learning_rate
from training.model_files import init_from


def compile_model(cfg: FillnetConfig, steps_per_epoch: int) -> keras.Model:
    model = init_from(build_model(cfg), cfg.init)
    rate = learning_rate(cfg.train, cfg.train.learning_rate, cfg.train.epochs * steps_per_epoch)
    model.compile(optimizer=keras.optimizers.Adam(rate), loss=FillLoss(cfg.overfill_weight, cfg.open_weight, cfg.grid_weight),
                  metrics=[fill_mae_pp, *([open_accuracy] if cfg.model.open_head else [])])
    return model


def train(cfg: FillnetConfig, data: str, run_path: str | Path, log: Callable[[str], None] = print) -> dict[str, Any]:
    train_s, val_s, skipped, run, state, strategy, data_cfg = begin(
        "fillnet", cfg, data, run_path, lambda: split_scenes(data, cfg), lambda s: len(s.ids), "scenes with a known fill or without an open box", log)
    train_ds = make_dataset(data_cfg, train_s, training=True)
    val_ds = make_dataset(data_cfg, val_s, training=False) if val_s.ids else None
    steps = len(train_ds)
    log(f"training on {len(train_s.ids)} scenes, validating on {len(val_s.ids)}, {steps} steps per epoch -> {run.path}")
    with strategy.scope():
        model = load_or_build(run, state, lambda: compile_model(cfg, steps))
        result = fit(model, train_ds, val_ds, run, state, cfg.train, monitor="val_fill_mae_pp" if val_ds is not None else "fill_mae_pp")
    last = result.history[-1] if result.history else {}
    return {"run": str(run.path), "epochs": result.epochs_done, "resumed_from": result.resumed_from, "skipped": len(skipped),
            "loss": last.get("loss", math.nan), "val_loss": last.get("val_loss", math.nan),
            "val_fill_mae_pp": last.get("val_fill_mae_pp", math.nan)}
