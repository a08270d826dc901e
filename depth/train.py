"""`nie train depth`: the U-Net on (image, depth) pairs, with a run directory that resumes."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras
import numpy as np

from configs import DepthConfig
from data.contact_sheet import colour_depth, colour_scalar
from depth.data import make_dataset, split_pairs
from depth.losses import DepthLoss
from depth.metrics import abs_rel, delta1
from depth.model import build_model
from tasks.backend import tensorflow_available
from training.batches import first_batch
from training.fit import begin, epoch_steps, fit, load_or_build
from training.lr_schedule import learning_rate
from training.model_files import init_from


def depth_panel(image: np.ndarray, gt: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """image | ground truth | prediction | |error|, depths on one colour scale (uint8 RGB)."""
    ok = gt > 0
    lo, hi = (np.percentile(gt[ok], [1, 99]) if ok.any() else (pred.min(), pred.max()))
    err = np.where(ok, np.abs(pred - gt), np.nan)
    err_img = colour_scalar(err, 0.0, max(float(np.percentile(err[ok], 99)) if ok.any() else 1.0, 1e-3))
    return np.hstack([(np.clip(image, 0, 1) * 255).astype(np.uint8), colour_depth(gt, lo, hi), colour_depth(pred, lo, hi), err_img])


class DepthPanels(keras.callbacks.Callback):
    """Writes image | ground truth | prediction | error panels of fixed validation images to TensorBoard each epoch."""

    def __init__(self, batch: tuple[np.ndarray, np.ndarray], log_dir: Path):
        super().__init__()
        import tensorflow as tf  # TensorBoard images need TensorFlow (added only where it can be imported)

        self.tf = tf
        self.images, self.targets = batch
        self.writer = tf.summary.create_file_writer(str(log_dir / "images"))

    def on_epoch_end(self, epoch, logs=None):
        pred = self.model.predict(self.images, verbose=0)
        panels = np.stack([depth_panel(i, t[..., 0], p[..., 0]) for i, t, p in zip(self.images, self.targets, pred, strict=True)])
        with self.writer.as_default():
            self.tf.summary.image("image | truth | prediction | error", panels, step=epoch + 1, max_outputs=len(panels))
        self.writer.flush()


def compile_model(cfg: DepthConfig, steps_per_epoch: int) -> keras.Model:
    model = init_from(build_model(cfg), cfg.init)
    rate = learning_rate(cfg.train, cfg.train.learning_rate, cfg.train.epochs * steps_per_epoch)
    loss = DepthLoss(cfg.model.max_depth_m - cfg.model.min_depth_m, cfg.loss.weight_ssim, cfg.loss.weight_l1, cfg.loss.weight_smooth)
    model.compile(optimizer=keras.optimizers.Adam(rate), loss=loss, metrics=[abs_rel, delta1])
    return model


def train(cfg: DepthConfig, data: str, run_path: str | Path, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Trains (or resumes) a depth model; returns a summary for the command line."""
    train_pairs, val_pairs, skipped, run, state, strategy, data_cfg = begin(
        "depth", cfg, data, run_path, lambda: split_pairs(data, cfg.data.val_split, cfg.train.seed), lambda p: len(p.ids),
        "usable image/depth pairs", log)
    val_ds = make_dataset(data_cfg, val_pairs, training=False) if val_pairs.ids else None
    train_ds, steps, fit_steps = epoch_steps(make_dataset(data_cfg, train_pairs, training=True, epochs_done=int(state.get("epochs_done", 0))),
                                               len(train_pairs.ids), data_cfg)
    extra = []
    if cfg.results.panels and val_ds is not None and tensorflow_available():
        keep = [i < cfg.results.panels for i in range(len(val_pairs.ids))]
        panel_ds = make_dataset(cfg, val_pairs.subset(keep), training=False, cache=False)  # reading part of a cached set would discard its cache
        images, targets = first_batch(panel_ds)
        extra.append(DepthPanels((images[: cfg.results.panels], targets[: cfg.results.panels]), run.logs))
    log(f"training on {len(train_pairs.ids)} pairs, validating on {len(val_pairs.ids)}, {steps} steps per epoch -> {run.path}")
    with strategy.scope():
        model = load_or_build(run, state, lambda: compile_model(cfg, steps))
        result = fit(model, train_ds, val_ds, run, state, cfg.train, monitor="val_loss", extra_callbacks=extra,
                     steps_per_epoch=fit_steps)
    last = result.history[-1] if result.history else {}
    return {
        "run": str(run.path), "epochs": result.epochs_done, "resumed_from": result.resumed_from, "skipped": len(skipped),
        "loss": last.get("loss", math.nan), "val_loss": last.get("val_loss", math.nan),
        "val_abs_rel": last.get("val_abs_rel", math.nan), "val_delta1": last.get("val_delta1", math.nan),
    }
