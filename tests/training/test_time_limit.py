"""train.time_limit_min: a training command stops itself in time, keeps whole checkpoints, and the same command with
another limit resumes (only how long and how a run trains may change on resume)."""

from __future__ import annotations

import time

import keras
import numpy as np
import pytest

import configs
from configs import TrainConfig
from training import lr_schedule, time_limit
from training.fit import fit
from training.run_dir import RunDir, RunDirError, prepare_run


class _Batches(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.batches = 0

    def on_train_batch_end(self, batch, logs=None):
        self.batches += 1


def _model():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    return model


def _data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(32, 3)).astype(np.float32), rng.normal(size=(32, 1)).astype(np.float32)


def test_past_the_limit_training_stops_after_one_batch_and_the_epoch_is_checkpointed(tmp_path, monkeypatch):
    monkeypatch.setattr(time_limit, "STARTED", time.monotonic() - 10 * 60)  # 10 minutes used already
    callback, lines = _Batches(), []
    model = _model()
    x, y = _data()
    model.fit(x, y, batch_size=4, epochs=5, verbose=0, callbacks=[time_limit.TimeLimit(5.0, lines.append), callback])
    assert callback.batches == 1  # 8 batches an epoch, 5 epochs asked for
    assert len(lines) == 1 and "after batch 1" in lines[0] and "the same command resumes" in lines[0]


def test_at_an_epoch_end_training_stops_when_the_next_epoch_would_not_fit(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(time_limit.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(time_limit, "STARTED", 1000.0)
    limit = time_limit.TimeLimit(10.0, log=lambda s: None)
    limit.set_model(_model())
    limit.on_epoch_begin(0)
    clock[0] += 4 * 60  # the first epoch took 4 minutes: 4 + 4 <= 10, go on
    limit.on_epoch_end(0)
    assert not limit.model.stop_training
    limit.on_epoch_begin(1)
    clock[0] += 4 * 60  # 8 minutes used, the next epoch would end at 12
    limit.on_epoch_end(1)
    assert limit.model.stop_training


def test_no_limit_never_stops(monkeypatch):
    monkeypatch.setattr(time_limit, "STARTED", time.monotonic() - 1e6)
    assert time_limit.time_left(0.0)
    assert not time_limit.time_left(1.0)


def test_fit_skips_training_once_the_limit_is_used_and_a_resume_may_change_the_limit(tmp_path, monkeypatch):
    cfg = configs.get_preset("keypoints_smoke")[1]
    cfg.train.time_limit_min = 1.0
    run, state = prepare_run(tmp_path / "run", "keypoints", cfg)
    monkeypatch.setattr(time_limit, "STARTED", time.monotonic() - 120)
    model = _model()
    before = [w.copy() for w in model.get_weights()]
    x, y = _data()
    result = fit(model, (x, y), None, run, state, TrainConfig(epochs=2, time_limit_min=1.0, verbose="0"))
    assert result.epochs_done == 0
    for a, b in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    # the same run with another time limit, verbosity or worker count resumes; another learning rate does not
    cfg.train.time_limit_min, cfg.train.verbose, cfg.data.workers = 30.0, "2", 3
    prepare_run(tmp_path / "run", "keypoints", cfg)
    cfg.train.learning_rate = 0.5
    with pytest.raises(RunDirError, match="train.learning_rate"):
        prepare_run(tmp_path / "run", "keypoints", cfg)
    assert RunDir(tmp_path / "run").config.exists()


def test_time_limit_must_not_be_negative():
    with pytest.raises(configs.ConfigError, match="time_limit_min"):
        configs.apply_overrides(TrainConfig(), ["time_limit_min=-1"])


def test_cosine_over_the_time_limit_starts_at_the_rate_and_ends_at_five_percent():
    assert lr_schedule.cosine(0.1, 0.0) == pytest.approx(0.1)
    assert lr_schedule.cosine(0.1, 0.5) == pytest.approx(0.1 * (0.05 + 0.95 * 0.5))
    assert lr_schedule.cosine(0.1, 1.0) == pytest.approx(0.005)
    assert lr_schedule.cosine(0.1, 3.0) == pytest.approx(0.005)  # past the limit: clipped
    rates = [lr_schedule.cosine(1.0, u) for u in np.linspace(0, 1, 11)]
    assert all(a > b for a, b in zip(rates[:-1], rates[1:], strict=True))
    # the same curve as keras' CosineDecay(alpha=0.05) at the same share of its steps
    decay = keras.optimizers.schedules.CosineDecay(0.1, 100, alpha=0.05)
    for step in (0, 30, 70, 100):
        assert lr_schedule.cosine(0.1, step / 100) == pytest.approx(float(decay(step)), rel=1e-5)


def test_time_schedule_sets_each_epochs_rate_from_the_minutes_used_and_logs_it():
    used = iter([0.0, 5.0, 10.0])  # minutes at each epoch's start, limit 10
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(lr_schedule.learning_rate(TrainConfig(schedule="time", time_limit_min=10.0), 0.1, 99)),
                  loss="mse")
    x, y = _data()
    history = model.fit(x, y, batch_size=8, epochs=3, verbose=0, callbacks=[lr_schedule.TimeCosine(10.0, clock=lambda: next(used))])
    assert history.history["learning_rate"] == pytest.approx([0.1, lr_schedule.cosine(0.1, 0.5), 0.005])
    assert float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)) == pytest.approx(0.005)


class _Pairs(keras.utils.PyDataset):
    def __init__(self, x, y):
        super().__init__()
        self.x, self.y = x, y

    def __len__(self):
        return 4

    def __getitem__(self, i):
        return self.x[i * 8 : i * 8 + 8], self.y[i * 8 : i * 8 + 8]


def test_fit_with_the_time_schedule_writes_the_rate_into_the_history(tmp_path, monkeypatch):
    cfg = configs.get_preset("keypoints_smoke")[1]
    configs.apply_overrides(cfg, ["train.schedule=time", "train.time_limit_min=10"])
    run, state = prepare_run(tmp_path / "run", "keypoints", cfg)
    monkeypatch.setattr(time_limit, "STARTED", time.monotonic() - 5 * 60)  # half the limit used
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(lr_schedule.learning_rate(cfg.train, 0.1, 99)), loss="mse")
    result = fit(model, _Pairs(*_data()), None, run, state, cfg.train)
    assert result.epochs_done == 1
    assert result.history[-1]["learning_rate"] == pytest.approx(lr_schedule.cosine(0.1, 0.5), rel=0.02)


def test_the_epochs_schedule_is_keras_cosine_decay_and_the_time_schedule_needs_a_limit():
    assert isinstance(lr_schedule.learning_rate(TrainConfig(), 0.1, 50), keras.optimizers.schedules.CosineDecay)
    with pytest.raises(configs.ConfigError, match="schedule=time needs train.time_limit_min"):
        configs.apply_overrides(configs.get_preset("fillnet_smoke")[1], ["train.schedule=time"])
    with pytest.raises(configs.ConfigError, match="schedule"):
        configs.apply_overrides(TrainConfig(), ["schedule=hours"])
