"""`nie train classifier`: EfficientNetB0 OK / NOK with staged fine-tuning (training/staged.py), class weights for
imbalanced folders, and the run directory of the conventions plus split.json (which file went where)."""

from __future__ import annotations

import json
import math
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras

from classifier.augment import build_augmenter
from classifier.batches import make_batches
from classifier.data import class_weights, make_dataset, split_samples, stage
from classifier.model import BACKBONE, build_model
from configs import ClassifierConfig, TrainConfig
from data.atomic_files import write_text_atomic
from training.batches import resume_seed
from training.fit import begin, epoch_steps
from training.loader import use_tf_data
from training.lr_schedule import learning_rate
from training.model_files import init_from
from training.staged import Stages, head_epochs, staged_fit


def _compile(model: keras.Model, train_cfg: TrainConfig, lr: float, decay_steps: int) -> keras.Model:
    model.compile(optimizer=keras.optimizers.Adam(learning_rate(train_cfg, lr, decay_steps)), loss=keras.losses.SparseCategoricalCrossentropy(),
                  metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")])
    return model


def train(cfg: ClassifierConfig, data: str, run_path: str | Path, log: Callable[[str], None] = print) -> dict[str, Any]:
    train_s, val_s, skipped, run, state, strategy, data_cfg = begin(
        "classifier", cfg, data, run_path, lambda: split_samples(data, cfg), lambda s: len(s.files),
        "readable images in the class folders", log)
    k = len(cfg.class_names)
    write_text_atomic(run.path / "split.json", json.dumps({"class_names": list(cfg.class_names), "train": train_s.keys,
                                                           "valid": val_s.keys}, indent=1) + "\n")
    weights = class_weights(train_s, k) if cfg.class_weights else None
    counts = ", ".join(f"{c} {n}" for c, n in zip(cfg.class_names, train_s.counts(k), strict=True))
    stages = Stages(build=lambda: init_from(build_model(cfg), cfg.init), compile=lambda m, lr, n: _compile(m, cfg.train, lr, n), backbone=BACKBONE, unfreeze=cfg.model.unfreeze_from,
                    pretrained=cfg.model.weights != "none", task="classifier")
    first = head_epochs(stages, cfg.train)
    log(f"training on {len(train_s.files)} images ({counts}), validating on {len(val_s.files)}; "
        f"{'stage 1 (frozen backbone) for ' + str(first) + ' epochs, then ' if first else ''}"
        f"backbone from {cfg.model.unfreeze_from if first else 'the first layer'} -> {run.path}")
    for stale in run.path.glob(".staged-*"):  # left by a run that was killed
        shutil.rmtree(stale, ignore_errors=True)
    with tempfile.TemporaryDirectory(dir=run.path, prefix=".staged-") as tmp:
        if use_tf_data(cfg.data.loader):  # image_dataset_from_directory over hard links of the checked files
            seed = resume_seed(cfg.train.seed, int(state.get("epochs_done", 0)))  # a resumed run draws anew
            augmenter = build_augmenter(cfg.augment, seed=seed)
            train_ds = make_dataset(data_cfg, stage(train_s, Path(tmp) / "train", cfg.class_names), training=True, augmenter=augmenter,
                                    seed=seed)
            val_ds = make_dataset(data_cfg, stage(val_s, Path(tmp) / "valid", cfg.class_names), training=False) if val_s.files else None
        else:  # any backend: NumPy / OpenCV batches of the checked files
            train_ds = make_batches(data_cfg, train_s, training=True)
            val_ds = make_batches(data_cfg, val_s, training=False) if val_s.files else None
        train_ds, steps, fit_steps = epoch_steps(train_ds, len(train_s.files), data_cfg)
        with strategy.scope():
            result = staged_fit(stages, train_ds, val_ds, run, state, cfg.train, steps, monitor="val_accuracy", mode="max",
                                class_weight=weights, steps_per_epoch=fit_steps)
    last = result.history[-1] if result.history else {}
    return {"run": str(run.path), "epochs": result.epochs_done, "resumed_from": int(result.resumed_from), "skipped": len(skipped),
            "loss": last.get("loss", math.nan), "val_loss": last.get("val_loss", math.nan),
            "val_accuracy": last.get("val_accuracy", math.nan)}
