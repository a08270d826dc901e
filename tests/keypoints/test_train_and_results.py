"""`nie train keypoints` (smoke run lowers the loss; staged run resumes in its stage), predict and evaluate."""

from __future__ import annotations

import json

import numpy as np
import pytest

import configs
from data.images import read_image
from data.via import corners_from_regions, read_via, write_via
from keypoints.model import build_model
from keypoints.results import augment_preview, evaluate, predict_folder
from keypoints.train import train
from training.checkpoints import read_history
from training.run_dir import RunDir


def _cfg(*over):
    _, cfg = configs.get_preset("keypoints_smoke")
    return configs.apply_overrides(cfg, ["results.panels=2", *over])


@pytest.mark.slow
def test_smoke_training_lowers_the_loss(synth_dataset, tmp_path):
    run = tmp_path / "run"
    result = train(_cfg("train.epochs=6", "train.learning_rate=0.003"), str(synth_dataset), run, log=lambda s: None)
    history = read_history(RunDir(run))
    assert result["epochs"] == 6 and history[-1]["loss"] < history[0]["loss"]
    assert any((RunDir(run).logs / "images").iterdir())


@pytest.mark.slow
def test_staged_training_resumes_in_its_stage(synth_dataset, tmp_path):
    path = tmp_path / "backbone.weights.h5"
    build_model(_cfg()).get_layer("mobilenetv2").save_weights(path)
    over = [f"model.weights={path}", "train.head_epochs=2", "model.unfreeze_from=block_15_expand"]
    run = tmp_path / "run"
    lines = []
    train(_cfg(*over, "train.epochs=2"), str(synth_dataset), run, log=lines.append)
    assert "stage 1 (frozen backbone) for 2 epochs" in lines[-1]
    result = train(_cfg(*over, "train.epochs=3"), str(synth_dataset), run, log=lambda s: None)
    assert result["resumed_from"] == 2 and result["epochs"] == 3
    import keras

    import keypoints.losses  # noqa: F401

    model = keras.models.load_model(RunDir(run).last)
    backbone = model.get_layer("mobilenetv2")
    names = [layer.name for layer in backbone.layers]
    assert backbone.layers[names.index("block_15_expand")].trainable and not backbone.layers[names.index("block_14_expand")].trainable


@pytest.fixture(scope="module")
def smoke_run(synth_dataset, tmp_path_factory):
    run = tmp_path_factory.mktemp("kp") / "run"
    train(_cfg("train.epochs=1", "results.panels=0"), str(synth_dataset), run, log=lambda s: None)
    return run


def test_predict_writes_json_pictures_and_a_via_file(smoke_run, synth_dataset, tmp_path):
    report = predict_folder(str(smoke_run), str(synth_dataset / "images"), str(tmp_path / "out"), _cfg(), progress=False)
    assert len(report.done) == 16
    record = json.loads((tmp_path / "out" / f"{report.done[0]}.json").read_text())
    assert len(record["corners"]) == 4 and record["width"] == 256
    via = read_via(tmp_path / "out" / "predictions_via.json")
    pts, reason = corners_from_regions(via[0])
    assert reason == "" and np.allclose(pts, record["corners"], atol=0.01)
    assert (tmp_path / "out" / f"{report.done[0]}.png").is_file()


def test_predict_without_pictures_writes_the_same_corners(smoke_run, synth_dataset, tmp_path):
    report = predict_folder(str(smoke_run), str(synth_dataset / "images"), str(tmp_path / "out"),
                            _cfg("results.pictures=false"), progress=False)
    assert len(report.done) == 16 and not list((tmp_path / "out").glob("*.png"))
    assert len(list((tmp_path / "out").glob("*.json"))) == 17  # per image + predictions_via.json
    assert len(read_via(tmp_path / "out" / "predictions_via.json")) == 16


def test_predict_in_batches_gives_the_corners_of_one_by_one(smoke_run, synth_dataset, tmp_path):
    import shutil

    from PIL import Image

    folder = tmp_path / "photos"
    shutil.copytree(synth_dataset / "images", folder)
    big = Image.open(folder / "000003.png").resize((512, 384))
    big.save(folder / "zz_big.png")  # another size inside a batch
    (folder / "broken.png").write_bytes(b"not a picture")  # skipped, the rest predicted
    runs = {b: predict_folder(str(smoke_run), str(folder), str(tmp_path / f"b{b}"), _cfg(), progress=False, batch_size=b)
            for b in (1, 5)}
    assert runs[1].done == runs[5].done and len(runs[5].done) == 17 and [n for n, _ in runs[5].skipped] == ["broken.png"]
    for name in runs[5].done:
        one, five = (json.loads((tmp_path / f"b{b}" / f"{name}.json").read_text())["corners"] for b in (1, 5))
        np.testing.assert_allclose(five, one, atol=0.02)
    small = np.array(json.loads((tmp_path / "b5" / "000003.json").read_text())["corners"])
    np.testing.assert_allclose(np.array(json.loads((tmp_path / "b5" / "zz_big.json").read_text())["corners"]), 2 * small + 0.5, atol=0.6)


def test_evaluate_perfect_and_perturbed_predictions_compared(synth_dataset, tmp_path):
    perfect = read_via(synth_dataset / "annotations.json")
    write_via(tmp_path / "perfect.json", perfect)
    rng = np.random.default_rng(0)
    noisy = read_via(synth_dataset / "annotations.json")
    for img in noisy[:-1]:
        sa = img.regions[0].shape_attributes
        sa["all_points_x"] = [x + float(rng.normal(0, 4)) for x in sa["all_points_x"]]
        sa["all_points_y"] = [y + float(rng.normal(0, 4)) for y in sa["all_points_y"]]
    noisy = noisy[:-1]  # one image without a prediction
    write_via(tmp_path / "noisy.json", noisy)
    one = evaluate(str(synth_dataset), str(tmp_path / "ev1"), _cfg(), preds=[str(tmp_path / "perfect.json")], progress=False)
    assert one["iou"] == pytest.approx(1.0) and one["mean_px"] == pytest.approx(0.0, abs=0.01) and one["pck_05"] == 1.0
    both = evaluate(str(synth_dataset), str(tmp_path / "ev2"), _cfg(), preds=[str(tmp_path / "noisy.json"), str(tmp_path / "perfect.json")],
                    progress=False)
    assert both["best"] == "pred-perfect"
    assert both["sources"]["pred-noisy"]["n"] == 15 and both["sources"]["pred-noisy"]["iou"] < 1.0
    table = (tmp_path / "ev2" / "comparison.md").read_text().splitlines()
    assert table[2].startswith("| pred-perfect") and table[3].startswith("| pred-noisy")
    for f in ("metrics.json", "per_image.csv", "error_histogram.png", "worst.png"):
        assert (tmp_path / "ev2" / "pred-noisy" / f).is_file()


def test_evaluate_a_model_and_preview(smoke_run, synth_dataset, tmp_path):
    m = evaluate(str(synth_dataset), str(tmp_path / "ev"), _cfg(), models=[str(smoke_run)], progress=False)
    assert m["n"] == 16 and 0.0 <= m["iou"] <= 1.0
    out = augment_preview(_cfg(), str(synth_dataset), str(tmp_path / "p.png"), n=3, variants=2)
    assert out.is_file()
    warped = augment_preview(configs.apply_overrides(_cfg(), ["augment.engine=opencv"]), str(synth_dataset), str(tmp_path / "w.png"),
                             n=3, variants=2)
    a, b = read_image(out), read_image(warped)
    assert a.shape == b.shape and not np.array_equal(a, b)  # the same grid, drawn by the other transform
