"""training/batches.py: the PyDataset of the non-TensorFlow backends: epochs, steps, shuffling, per-batch randomness."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from training.batches import IndexedBatches, first_batch


def _load(i: int, rng: np.random.Generator):
    return np.array([i], np.float32), np.array([rng.uniform()], np.float32)


def _indices(ds, batch):
    return ds[batch][0][:, 0].astype(int).tolist()


def test_training_epochs_shuffle_every_sample_once_and_drop_the_partial_batch():
    ds = IndexedBatches(10, 4, _load, training=True, seed=1)
    assert len(ds) == 2
    first = _indices(ds, 0) + _indices(ds, 1)
    assert len(set(first)) == 8 and set(first) <= set(range(10))
    ds.on_epoch_end()
    second = _indices(ds, 0) + _indices(ds, 1)
    assert second != first  # reshuffled


def test_steps_beyond_one_pass_wrap_around_the_shuffled_samples():
    ds = IndexedBatches(5, 2, _load, training=True, seed=0, steps=7)
    assert len(ds) == 7
    seen = [i for b in range(7) for i in _indices(ds, b)]
    assert len(seen) == 14 and set(seen) == set(range(5))


def test_validation_keeps_order_and_the_last_partial_batch():
    ds = IndexedBatches(10, 4, _load, training=False)
    assert len(ds) == 3
    assert [_indices(ds, b) for b in range(3)] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


def test_randomness_depends_on_seed_epoch_and_batch_only():
    a = IndexedBatches(8, 4, _load, training=True, seed=3)
    b = IndexedBatches(8, 4, _load, training=True, seed=3)
    # in any order, as workers would load them
    assert np.array_equal(a[1][1], b[1][1]) and np.array_equal(a[0][1], b[0][1])
    assert not np.array_equal(a[0][1], a[1][1])
    c = IndexedBatches(8, 4, _load, training=True, seed=4)
    assert not np.array_equal(a[0][1], c[0][1])


def test_first_batch_and_empty_input():
    x, y = first_batch(IndexedBatches(3, 2, _load, training=False))
    assert x.shape == (2, 1) and y.shape == (2, 1)
    with pytest.raises(ValueError, match="no samples"):
        IndexedBatches(0, 2, _load, training=True)


def test_workers_as_chooses_processes_or_threads():
    assert IndexedBatches(8, 2, _load, training=True, workers=2, workers_as="processes").use_multiprocessing
    assert not IndexedBatches(8, 2, _load, training=True, workers=2, workers_as="threads").use_multiprocessing
    assert not IndexedBatches(8, 2, _load, training=True, workers=1, workers_as="processes").use_multiprocessing
    with pytest.raises(ValueError, match="workers_as"):
        IndexedBatches(8, 2, _load, training=True, workers=2, workers_as="fibres")



def _blurred(i: int, rng: np.random.Generator):
    import cv2

    return cv2.GaussianBlur(np.full((400, 400, 3), float(i), np.float32), (15, 15), 3)[:1, :1, 0], np.array([0.0], np.float32)


def _first_batch_into(ds, q):
    q.put(float(ds[0][0].sum()))


def test_a_forked_loader_worker_runs_opencv_after_the_training_process_used_its_threads():
    """Keras forks the loader workers from the training process, whose OpenCV thread pool may be busy already. Plain
    OpenCV calls work in the child; cv2.setNumThreads(1) there deadlocks (OpenCV 5.0, pthreads backend: found when a
    worker was given one OpenCV thread), so the loaders leave OpenCV's threads alone."""
    import multiprocessing

    import cv2

    big = np.random.default_rng(0).uniform(size=(1500, 1500, 3)).astype(np.float32)
    for _ in range(3):
        cv2.GaussianBlur(big, (15, 15), 3)  # the pool's threads have run in this process
    ds = IndexedBatches(8, 2, _blurred, training=False, workers=2, workers_as="processes")
    ctx = multiprocessing.get_context("fork")
    q = ctx.Queue()
    worker = ctx.Process(target=_first_batch_into, args=(ds, q))
    worker.start()
    worker.join(60)
    alive = worker.is_alive()
    if alive:
        worker.kill()
    assert not alive and q.get(timeout=5) == pytest.approx(1.0)  # batch 0 of the ordered samples: 0 + 1


def test_start_at_gives_the_batches_of_that_epoch():
    a = IndexedBatches(12, 4, _load, training=True, seed=2)
    for _ in range(3):
        a.on_epoch_end()
    b = IndexedBatches(12, 4, _load, training=True, seed=2)
    b.start_at(3)
    assert [_indices(a, k) for k in range(3)] == [_indices(b, k) for k in range(3)]
    assert np.array_equal(a[1][1], b[1][1])  # the same augmentation draws
    b.start_at(0)
    assert [_indices(b, k) for k in range(3)] != [_indices(a, k) for k in range(3)]


class _LoaderEpochs(keras.callbacks.Callback):
    """Records, at each of fit's epochs, which epoch's order and draws the loader hands out."""

    def __init__(self, ds, seen):
        super().__init__()
        self.ds, self.seen = ds, seen

    def on_epoch_begin(self, epoch, logs=None):
        self.seen.append((epoch, self.ds.epoch))


def test_a_resumed_fit_draws_what_an_uninterrupted_one_would_have(tmp_path):
    """After a stop at an epoch's end the resumed run goes on with the next epoch's order and augmentation, not the
    first epoch's again (the loader's epoch counter starts at 0 in every process). Keras' adapters move the counter
    once before fit's first epoch; what matters is that both runs pair fit's epochs with the same loader epochs."""
    import configs
    from training.fit import fit, load_or_build
    from training.run_dir import prepare_run

    def build():
        model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
        model.compile(optimizer="sgd", loss="mse")
        return model

    def run_epochs(path, calls):
        seen = []
        cfg = configs.get_preset("keypoints_smoke")[1]
        for until in calls:
            cfg.train.epochs = until
            run, state = prepare_run(path, "keypoints", cfg)
            model = load_or_build(run, state, build)
            ds = IndexedBatches(8, 4, _load, training=True, seed=5)  # a new process: a new loader at epoch 0
            assert fit(model, ds, None, run, state, cfg.train, extra_callbacks=[_LoaderEpochs(ds, seen)]).epochs_done == until
        return seen

    straight = run_epochs(tmp_path / "straight", [3])
    assert [e for e, _ in straight] == [0, 1, 2] and len({d for _, d in straight}) == 3  # a new draw each epoch
    assert run_epochs(tmp_path / "resumed", [1, 3]) == straight
