"""Batches for Keras' fit on any backend: a keras.utils.PyDataset over indexed samples, loaded with NumPy / OpenCV.

tf.data exists only with TensorFlow; this is the data path of the JAX and PyTorch backends (and of the
TensorFlow backend with `data.loader=pydataset`). Keras runs `__getitem__` in worker processes
(`data.workers`), so a GPU is fed by several CPU cores.

Randomness is drawn per batch from (seed, epoch, batch index): the same run gives the same batches whichever
worker loads them, and no two workers repeat each other's augmentation. A resumed run starts at its next epoch's
draws (`start_at`, called by training/fit.py), the ones an uninterrupted run would have had, not the first epoch's
again. The tf.data pipelines of the TensorFlow backend cannot skip ahead; a resumed run seeds them with `resume_seed`
instead, so that they draw new orders and augmentations rather than the first epoch's.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable, Sequence

import keras
import numpy as np

from tasks.backend import backend


def resume_seed(seed: int, epochs_done: int) -> int:
    """The seed of a run's random draws from `epochs_done` finished epochs on: `seed` itself for a new run, another one
    for each resume point. A tf.data pipeline counts its reshuffles and augmentation draws from its own start, so a
    resumed run built with the first seed would draw the first epoch's order and augmentation again; with this one it
    draws new ones (not the very ones an uninterrupted run would have drawn: tf.data cannot skip ahead). The NumPy
    loader needs none of this: IndexedBatches.start_at continues exactly."""
    return seed if epochs_done <= 0 else (seed * 1_000_003 + epochs_done) % 2**31


def default_workers(setting: int) -> int:
    """data.workers: 0 = one per CPU core, at most 16."""
    return setting if setting > 0 else max(1, min(16, os.cpu_count() or 1))


def loads_in_processes(workers: int, workers_as: str) -> bool:
    """Whether `workers` loader workers (already resolved by default_workers) are forked processes rather than threads."""
    if workers_as not in ("auto", "processes", "threads"):
        raise ValueError(f"workers_as must be auto, processes or threads, got {workers_as!r}")
    return workers > 1 and (workers_as == "processes" or (workers_as == "auto" and backend() != "jax"))


class IndexedBatches(keras.utils.PyDataset):
    """Batches of `load(index, rng)` over `n` samples.

    Args:
      load: one sample -> a tuple of arrays (input, target); `rng` is a numpy Generator for its augmentation.
      training: shuffle each epoch and drop the last partial batch (when there is a full one).
      steps: batches per epoch; 0 = one pass over the samples (more steps wrap around the shuffled order).
      workers: worker processes (0 = one per core); 1 loads in the training process.
      workers_as: processes, threads, or auto: processes except under JAX, which warns that fork() after it started
        may deadlock; there threads (OpenCV releases the GIL, but albumentations' Python does not: on a GPU
        machine threads fed the corner model at a tenth of its speed, bench/results/gpu_train.md), and processes
        on request.
    """

    def __init__(self, n: int, batch_size: int, load: Callable[[int, np.random.Generator], tuple[np.ndarray, ...]],
                 training: bool, seed: int = 0, steps: int = 0, workers: int = 1, workers_as: str = "auto"):
        workers = default_workers(workers)
        processes = loads_in_processes(workers, workers_as)
        super().__init__(workers=workers, use_multiprocessing=processes, max_queue_size=max(10, 2 * workers))
        if n <= 0:
            raise ValueError("no samples to load")
        self.n, self.batch_size, self.load, self.training, self.seed = n, batch_size, load, training, seed
        full = n // batch_size if training and n >= batch_size else math.ceil(n / batch_size)
        self.pass_batches = max(1, full)
        self.steps = steps or self.pass_batches
        self.epoch = 0
        self.order = self._order(0)

    def _order(self, epoch: int) -> np.ndarray:
        if not self.training:
            return np.arange(self.n)
        rng = np.random.default_rng([self.seed, epoch, 0x5EED])
        # enough shuffled passes for steps that run past one pass
        passes = math.ceil(self.steps * self.batch_size / self.n) + 1
        return np.concatenate([rng.permutation(self.n) for _ in range(passes)])

    def __len__(self) -> int:
        return self.steps

    @property
    def num_batches(self) -> int:
        return self.steps

    def indices(self, batch: int) -> Sequence[int]:
        start = batch * self.batch_size
        if self.training:
            return self.order[start : start + self.batch_size]
        return self.order[start : min(start + self.batch_size, self.n)]

    def __getitem__(self, batch: int):
        rng = np.random.default_rng([self.seed, self.epoch, batch])
        items = [self.load(int(i), rng) for i in self.indices(batch)]
        return tuple(np.stack([item[k] for item in items]) for k in range(len(items[0])))

    def on_epoch_end(self) -> None:
        self.start_at(self.epoch + 1)

    def start_at(self, epoch: int) -> None:
        """The next batches are those of `epoch` (0-based): its order and its augmentation draws."""
        self.epoch = int(epoch)
        self.order = self._order(self.epoch)


class CachedLoads:
    """Decoded, resized samples kept in memory. Filled before training (`preload`, threads: decoding releases the
    GIL) when the loader uses worker processes: Keras starts them afresh each epoch, forked from the training
    process, so they share its filled cache; a cache filled inside a worker would be lost with it."""

    def __init__(self, load: Callable[[int], tuple[np.ndarray, ...]], n: int, keep: bool):
        self.load, self.n, self.keep = load, n, keep
        self.items: dict[int, tuple[np.ndarray, ...]] = {}

    def __call__(self, i: int) -> tuple[np.ndarray, ...]:
        item = self.items.get(i)
        if item is None:
            item = self.load(i)
            if self.keep:
                self.items[i] = item
        return item

    def preload(self, threads: int, what: str = "decoding") -> None:
        """Decodes every sample in `threads` threads; a progress bar on a terminal (none in a log file)."""
        from concurrent.futures import ThreadPoolExecutor

        from tqdm import tqdm

        with ThreadPoolExecutor(max(1, threads)) as pool:
            for i, item in enumerate(tqdm(pool.map(self.load, range(self.n)), total=self.n, desc=what, unit="img",
                                          disable=self.n < 500 or not sys.stderr.isatty(), leave=False)):
                self.items[i] = item


def task_batches(cfg, n: int, load: Callable[[int, np.random.Generator], tuple[np.ndarray, ...]], decoded: CachedLoads,
                 training: bool, seed: int, what: str) -> IndexedBatches:
    """The PyDataset each task's NumPy loader ends with: cfg.data.workers loader workers when training (one when
    validating), the decoded samples preloaded in that many threads first where `decoded` keeps them (forked workers
    share them), batches of cfg.data.batch_size, train.steps_per_epoch batches an epoch when training."""
    workers = default_workers(cfg.data.workers) if training else 1
    if decoded.keep and workers > 1:
        decoded.preload(workers, what)
    return IndexedBatches(n, cfg.data.batch_size, load, training, seed=seed, steps=cfg.train.steps_per_epoch if training else 0,
                          workers=workers, workers_as=cfg.data.workers_as)


def first_batch(dataset) -> tuple[np.ndarray, ...]:
    """The first batch of a tf.data.Dataset or a PyDataset, as NumPy arrays."""
    if isinstance(dataset, keras.utils.PyDataset):
        return tuple(np.asarray(a) for a in dataset[0])
    return tuple(np.asarray(a) for a in next(iter(dataset)))
