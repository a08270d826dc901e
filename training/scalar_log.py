"""TensorBoard scalars without TensorFlow: the epoch logs written with PyTorch's tensorboard writer.

Keras' TensorBoard callback needs TensorFlow even on the JAX and PyTorch backends. A GPU box with PyTorch
and the tensorboard package (and no TensorFlow) still gets its curves in runs/<task>/<name>/logs/.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import keras


class ScalarLog(keras.callbacks.Callback):
    """Writes each epoch's logs (loss, val_loss, metrics, learning rate) as TensorBoard scalars."""

    def __init__(self, log_dir: Path):
        super().__init__()
        self.log_dir = Path(log_dir)
        self.writer = None

    @staticmethod
    def available() -> bool:
        return all(importlib.util.find_spec(m) is not None for m in ("torch", "tensorboard"))

    def on_epoch_end(self, epoch, logs=None):
        if self.writer is None:
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(str(self.log_dir / "train"))
        for key, value in (logs or {}).items():
            try:
                self.writer.add_scalar(f"epoch_{key}", float(value), epoch + 1)
            except (TypeError, ValueError):
                continue
        self.writer.flush()

    def on_train_end(self, logs=None):
        if self.writer is not None:
            self.writer.close()
            self.writer = None
