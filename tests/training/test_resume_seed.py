"""A resumed run's tf.data pipelines draw new orders and augmentations, not the first epoch's again
(training/batches.py resume_seed; the PyDataset's exact continuation is tested in test_batches.py)."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import configs
from training.batches import first_batch, resume_seed

tf = pytest.importorskip("tensorflow")


def test_a_new_run_keeps_its_seed_and_each_resume_point_gets_another():
    assert resume_seed(7, 0) == 7
    seeds = {resume_seed(7, done) for done in range(1, 50)} | {resume_seed(8, done) for done in range(1, 50)}
    assert len(seeds) == 98 and 7 not in seeds and 8 not in seeds
    assert all(0 <= s < 2**31 for s in seeds)


def _keypoint_batch(data, epochs_done):
    from keypoints.data import make_dataset, split_samples

    _, cfg = configs.get_preset("keypoints_smoke")
    cfg.data.loader, cfg.data.batch_size = "tfdata", 8
    train, _, _ = split_samples(data, cfg)
    return first_batch(make_dataset(cfg, train, training=True, epochs_done=epochs_done))


def _depth_batch(data, epochs_done):
    from depth.data import make_dataset, split_pairs

    _, cfg = configs.get_preset("depth_smoke")
    cfg.data.loader, cfg.data.batch_size = "tfdata", 8
    train, _, _ = split_pairs(data, 0.25, cfg.train.seed)
    return first_batch(make_dataset(cfg, train, training=True, epochs_done=epochs_done))


@pytest.mark.parametrize("batch", [_keypoint_batch, _depth_batch], ids=["keypoints", "depth"])
def test_tf_data_draws_depend_on_the_resume_point_and_repeat_for_the_same_one(synth_dataset, batch):
    first = batch(synth_dataset, 0)
    again = batch(synth_dataset, 0)
    resumed = batch(synth_dataset, 3)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)  # a run is repeatable
    assert not all(a.shape == b.shape and np.allclose(a, b, atol=1e-3) for a, b in zip(first, resumed, strict=True))


def test_the_classifier_shuffle_follows_its_seed(synth_dataset):
    from classifier.data import make_dataset

    _, cfg = configs.get_preset("classifier_smoke")
    cfg.data.batch_size = 16
    folder = synth_dataset / "classes" / "fill"

    def order(seed):
        images, _ = first_batch(make_dataset(cfg, folder, training=True, seed=seed))
        return images.reshape(len(images), -1).sum(axis=1)

    assert np.allclose(order(resume_seed(0, 0)), order(0))
    assert not np.allclose(order(resume_seed(0, 2)), order(0))


def test_begin_reseeds_a_resumed_run(synth_dataset, tmp_path):
    """The global seed (tf.data shuffles and random ops without their own seed) is the resume point's."""
    from keypoints.data import split_samples
    from training.fit import begin
    from training.run_dir import prepare_run

    _, cfg = configs.get_preset("keypoints_smoke")

    def draw(state_epochs):
        run_path = tmp_path / f"run{state_epochs}"
        run, _ = prepare_run(run_path, "keypoints", cfg)
        if state_epochs:  # what a run with finished epochs has: its last model and the resume state
            keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)]).save(run.last)
            run.write_state({"epochs_done": state_epochs})
        begin("keypoints", cfg, str(synth_dataset), run_path, lambda: split_samples(synth_dataset, cfg), lambda s: len(s.ids),
              "images", log=lambda _: None)
        return list(tf.data.Dataset.range(64).shuffle(64).take(8).as_numpy_iterator())

    assert draw(0) == draw(0)
    assert draw(2) != draw(0)
