"""The loader benchmarks' way of reading batches: as Keras' fit reads them."""

from __future__ import annotations

import keras
from keras.src.trainers.data_adapters.py_dataset_adapter import PyDatasetAdapter  # what fit wraps a PyDataset in


def read_epoch(dataset: keras.utils.PyDataset) -> None:
    """Every batch of one epoch, the first one included (a worker pool's start counts), then the epoch's end."""
    adapter = PyDatasetAdapter(dataset, shuffle=False)
    for _ in adapter.get_numpy_iterator():
        pass
    adapter.on_epoch_end()
