"""`nie train depth` (smoke run lowers the loss, resumes), and predict / errormap / evaluate on its outputs."""

from __future__ import annotations

import json

import numpy as np
import pytest

import configs
from data.depth_io import read_depth, write_depth
from data.images import read_image, write_image
from depth.results import errormap, evaluate, predict_folder
from depth.train import train
from tests.conftest import make_dataset
from training.checkpoints import read_history
from training.run_dir import RunDir


@pytest.fixture(scope="module")
def smoke_data(tmp_path_factory):
    return make_dataset(tmp_path_factory.mktemp("depthdata") / "ds", 12, 3, preset="synth_smoke")


def _cfg(**over):
    _, cfg = configs.get_preset("depth_smoke")
    return configs.apply_overrides(cfg, ["data.batch_size=4", "results.panels=2", *[f"{k}={v}" for k, v in over.items()]])


@pytest.mark.slow
def test_smoke_training_lowers_the_loss_and_resumes(smoke_data, tmp_path):
    run = tmp_path / "run"
    cfg = _cfg(**{"train.epochs": 6, "train.learning_rate": 0.01})
    first = train(cfg, str(smoke_data), run, log=lambda s: None)
    history = read_history(RunDir(run))
    assert first["epochs"] == 6 and len(history) == 6
    assert history[-1]["loss"] < history[0]["loss"]
    rd = RunDir(run)
    assert rd.best.is_file() and rd.last.is_file() and rd.config.is_file() and len(list(rd.checkpoints.iterdir())) == 6
    assert any((rd.logs / "images").iterdir())
    more = train(_cfg(**{"train.epochs": 8, "train.learning_rate": 0.01}), str(smoke_data), run, log=lambda s: None)
    assert more["resumed_from"] == 6 and more["epochs"] == 8 and len(read_history(rd)) == 8
    with pytest.raises(ValueError, match="another config"):
        train(_cfg(**{"data.batch_size": 2}), str(smoke_data), run, log=lambda s: None)


@pytest.fixture(scope="module")
def smoke_model(smoke_data, tmp_path_factory):
    run = tmp_path_factory.mktemp("run") / "r"
    train(_cfg(**{"train.epochs": 1}), str(smoke_data), run, log=lambda s: None)
    return run


def test_predict_writes_depth_at_the_image_size(smoke_model, smoke_data, tmp_path):
    (smoke_data / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    images = tmp_path / "in"
    images.mkdir()
    for p in sorted((smoke_data / "images").iterdir())[:2]:
        (images / p.name).write_bytes(p.read_bytes())
    (images / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    report = predict_folder(str(smoke_model), str(images), str(tmp_path / "out"), _cfg(), progress=False)
    assert len(report.done) == 2 and [n for n, _ in report.skipped] == ["broken.png"]
    depth = read_depth(tmp_path / "out" / "depth" / f"{report.done[0]}.png")
    assert depth.shape == read_image(images / f"{report.done[0]}.png").shape[:2]
    assert (depth > 0).all()


def test_errormap_identical_and_perturbed(tmp_path, smoke_data):
    gt_dir, pred_dir = smoke_data / "depth", tmp_path / "pred"
    names = sorted(p.stem for p in gt_dir.iterdir())[:3]
    for k, name in enumerate(names):
        d = read_depth(gt_dir / f"{name}.png")
        write_depth(pred_dir / f"{name}.png", d if k == 0 else d * np.random.default_rng(k).uniform(0.8, 1.2, d.shape))
    write_depth(pred_dir / "extra.png", np.ones((5, 5)))
    lines = []
    report, _ = errormap(str(gt_dir), str(pred_dir), str(tmp_path / "em"), _cfg(), log=lines.append, progress=False)
    assert report.done == names and len(lines) == 3
    ssim = {line.split(":")[0]: float(line.split()[-1]) for line in lines}
    assert ssim[names[0]] == pytest.approx(1.0, abs=1e-6) and ssim[names[1]] < 0.9
    assert (tmp_path / "em" / f"{names[0]}_errormap.png").is_file() and (tmp_path / "em" / "errormap.csv").is_file()
    assert len(report.skipped) == len(list(gt_dir.iterdir())) - 3  # no prediction for the rest
    write_depth(tmp_path / "small.png", np.ones((5, 5)))
    report, _ = errormap(str(gt_dir / f"{names[0]}.png"), str(tmp_path / "small.png"), str(tmp_path / "em2"), _cfg(), progress=False)
    assert report.done == [] and "does not match" in report.skipped[0][1]


def test_evaluate_perfect_predictions_and_bad_ones(tmp_path, smoke_data):
    pred = tmp_path / "pred"
    ids = sorted(p.stem for p in (smoke_data / "depth").iterdir())
    for i in ids[1:]:
        write_depth(pred / f"{i}.png", read_depth(smoke_data / "depth" / f"{i}.png"))
    m = evaluate(str(smoke_data), str(tmp_path / "ev"), _cfg(), pred_dir=str(pred), progress=False)
    assert m["n"] == len(ids) - 1 and m["abs_rel"] == 0.0 and m["delta1"] == 1.0 and m["ssim"] == pytest.approx(1.0)
    assert m["skipped"][0]["id"] == ids[0] and "not found" in m["skipped"][0]["reason"]
    saved = json.loads((tmp_path / "ev" / "metrics.json").read_text())
    assert set(["abs_rel", "sq_rel", "rmse", "rmse_log", "delta1", "delta2", "delta3", "ssim"]) <= set(saved)
    for f in ("per_image.csv", "error_histogram.png", "worst.png"):
        assert (tmp_path / "ev" / f).is_file()


def test_evaluate_all_invalid_depth_is_reported(tmp_path, smoke_data):
    ds = tmp_path / "ds"
    rgb = read_image(next((smoke_data / "images").iterdir()))
    for name, depth in (("a", np.zeros(rgb.shape[:2])), ("b", np.full(rgb.shape[:2], 1.5))):
        write_image(ds / "images" / f"{name}.png", rgb)
        write_depth(ds / "depth" / f"{name}.png", depth)
        write_depth(tmp_path / "pred" / f"{name}.png", np.full(rgb.shape[:2], 1.5))
    m = evaluate(str(ds), str(tmp_path / "ev"), _cfg(), pred_dir=str(tmp_path / "pred"), progress=False)
    assert m["n"] == 1 and m["skipped"] == [{"id": "a", "reason": "no valid ground-truth pixel"}]
