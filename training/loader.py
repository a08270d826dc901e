"""Which data loader a training run uses (`data.loader`): tf.data, or keras.utils.PyDataset (training/batches.py)."""

from __future__ import annotations

from tasks.backend import backend, require_tensorflow

LOADERS = ("auto", "tfdata", "pydataset")


def use_tf_data(setting: str) -> bool:
    """auto: tf.data on the TensorFlow backend (fastest there: its ops run in TensorFlow's own threads), the
    PyDataset elsewhere; tfdata needs the TensorFlow backend; pydataset works on every backend."""
    if setting not in LOADERS:
        raise ValueError(f"data.loader must be one of {', '.join(LOADERS)}, got {setting!r}")
    if setting == "auto":
        return backend() == "tensorflow"
    if setting == "tfdata":
        require_tensorflow("data.loader=tfdata")
        return True
    return False
