"""`nie train keypoints`: the corner regressor, with staged fine-tuning of a pretrained backbone
(training/staged.py: stage 1 trains the head on a frozen backbone, stage 2 the backbone from
model.unfreeze_from at a lower learning rate)."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras
import numpy as np

from configs import KeypointsConfig
from keypoints.data import make_dataset, split_samples, to_pixels
from keypoints.draw import draw_points
from keypoints.losses import CornerError, CyclicCornerLoss
from keypoints.model import BACKBONE, build_model
from tasks.backend import tensorflow_available
from training.batches import first_batch
from training.fit import begin, epoch_steps
from training.lr_schedule import learning_rate
from training.model_files import init_from
from training.staged import Stages, head_epochs, staged_fit


class CornerPanels(keras.callbacks.Callback):
    """Draws predicted (red) and true (green) corners on fixed validation images in TensorBoard each epoch."""

    def __init__(self, images: np.ndarray, targets: np.ndarray, log_dir: Path, k: int):
        super().__init__()
        import tensorflow as tf  # TensorBoard images need TensorFlow (added only where it can be imported)

        self.tf = tf
        self.images, self.targets, self.k = images, targets, k
        self.writer = tf.summary.create_file_writer(str(log_dir / "images"))

    def on_epoch_end(self, epoch, logs=None):
        pred = self.model.predict(self.images, verbose=0)
        h, w = self.images.shape[1:3]
        panels = []
        for img, t, p in zip(self.images, self.targets, pred, strict=True):
            canvas = draw_points(img.astype(np.uint8), to_pixels(t.reshape(self.k, 2), w, h), (40, 220, 40))
            panels.append(draw_points(canvas, to_pixels(p.reshape(self.k, 2), w, h), (255, 60, 60)))
        with self.writer.as_default():
            self.tf.summary.image("corners: true green, predicted red", np.stack(panels), step=epoch + 1, max_outputs=len(panels))
        self.writer.flush()


def _compile(model: keras.Model, cfg: KeypointsConfig, lr: float, decay_steps: int) -> keras.Model:
    model.compile(optimizer=keras.optimizers.Adam(learning_rate(cfg.train, lr, decay_steps)), loss=CyclicCornerLoss(cfg.model.num_keypoints),
                  metrics=[CornerError(cfg.model.num_keypoints)])
    return model


def train(cfg: KeypointsConfig, data: str, run_path: str | Path, log: Callable[[str], None] = print) -> dict[str, Any]:
    train_s, val_s, skipped, run, state, strategy, data_cfg = begin(
        "keypoints", cfg, data, run_path, lambda: split_samples(data, cfg), lambda s: len(s.ids), "usable annotated images", log)
    val_ds = make_dataset(data_cfg, val_s, training=False) if val_s.ids else None
    train_ds, steps, fit_steps = epoch_steps(make_dataset(data_cfg, train_s, training=True, epochs_done=int(state.get("epochs_done", 0))),
                                               len(train_s.ids), data_cfg)
    extra = []
    if cfg.results.panels and val_ds is not None and tensorflow_available():
        images, targets = first_batch(make_dataset(cfg, val_s.subset([i < cfg.results.panels for i in range(len(val_s.ids))]), False))
        extra.append(CornerPanels(images, targets, run.logs, cfg.model.num_keypoints))
    stages = Stages(build=lambda: init_from(build_model(cfg), cfg.init), compile=lambda m, lr, n: _compile(m, cfg, lr, n), backbone=BACKBONE,
                    unfreeze=cfg.model.unfreeze_from, pretrained=cfg.model.weights != "none", task="keypoints")
    first = head_epochs(stages, cfg.train)
    log(f"training on {len(train_s.ids)} images, validating on {len(val_s.ids)}; "
        f"{'stage 1 (frozen backbone) for ' + str(first) + ' epochs, then ' if first else ''}"
        f"backbone from {cfg.model.unfreeze_from if first else 'the first layer'} -> {run.path}")
    with strategy.scope():
        result = staged_fit(stages, train_ds, val_ds, run, state, cfg.train, steps, extra_callbacks=extra,
                            steps_per_epoch=fit_steps)
    last = result.history[-1] if result.history else {}
    return {"run": str(run.path), "epochs": result.epochs_done, "resumed_from": int(result.resumed_from), "skipped": len(skipped),
            "loss": last.get("loss", math.nan), "val_loss": last.get("val_loss", math.nan),
            "val_corner_err": last.get("val_corner_err", math.nan)}
