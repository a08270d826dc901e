"""A smoke training run (loss goes down, resume), then evaluate / predict / augment-preview on its model."""

from __future__ import annotations

import csv
import json
import shutil

import pytest

from configs import apply_overrides, get_preset
from data.images import read_image
from scripts.nie import main
from tests.conftest import make_dataset

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("classifier_train")]

OVERRIDES = ["train.epochs=6", "train.learning_rate=0.003", "model.dropout=0", "data.batch_size=8", "data.val_split=0.25",
             "data.image_width=48", "data.image_height=36"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("classifier")
    data = make_dataset(root / "ds", 32, 5, "synth_smoke")
    (data / "classes" / "fill" / "NOK" / "zz_broken.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    run = root / "run"
    assert main(["train", "classifier", "--data", str(data), "--run", str(run), "--preset", "classifier_smoke", *OVERRIDES]) == 0
    return data, run


def test_training_lowers_the_loss_and_writes_the_run(trained, capsys):
    data, run = trained
    rows = list(csv.DictReader(open(run / "history.csv")))
    assert len(rows) == 6 and float(rows[-1]["loss"]) < float(rows[0]["loss"])
    for name in ("config.yaml", "best.keras", "last.keras", "backup/state.json", "checkpoints/epoch_006.keras", "split.json"):
        assert (run / name).exists(), name
    split = json.loads((run / "split.json").read_text())
    assert not set(split["train"]) & set(split["valid"]) and len(split["train"]) + len(split["valid"]) == 32
    assert "NOK/zz_broken.png" not in split["train"] + split["valid"]
    assert not list(run.glob(".staged-*"))  # the staging folder is gone
    assert list((run / "logs").rglob("events.out.tfevents*"))


def test_resume_trains_on_from_the_last_epoch(trained, tmp_path, capsys):
    data, run = trained
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    capsys.readouterr()
    assert main(["train", "classifier", "--data", str(data), "--run", str(copy), "--preset", "classifier_smoke",
                 *[o for o in OVERRIDES if not o.startswith("train.epochs")], "train.epochs=7"]) == 0
    out = capsys.readouterr().out
    assert "skipped NOK/zz_broken.png: cannot decode" in out
    assert "7 epochs, resumed after epoch 6" in out
    assert len(list(csv.DictReader(open(copy / "history.csv")))) == 7


def test_evaluate_writes_metrics_and_pictures(trained, tmp_path, capsys):
    data, run = trained
    out = tmp_path / "eval"
    assert main(["evaluate", "classifier", "--model", str(run), "--data", str(data), "--out", str(out), "data.image_width=48",
                 "data.image_height=36"]) == 0
    m = json.loads((out / "metrics.json").read_text())
    assert m["n"] == 32 and sum(map(sum, m["confusion"])) == 32
    assert m["accuracy"] == pytest.approx((m["confusion"][0][0] + m["confusion"][1][1]) / 32)
    assert set(m["f1"]) == {"NOK", "OK"} and m["skipped"][0]["id"] == "NOK/zz_broken.png"
    for name in ("confusion.png", "gradcam.png", "per_image.csv"):
        assert (out / name).exists(), name
    assert (out / "correct.png").exists() or (out / "wrong.png").exists()
    assert read_image(out / "gradcam.png").ndim == 3


def test_predict_folder_csv_and_pictures(trained, tmp_path, capsys):
    data, run = trained
    images = tmp_path / "photos"
    shutil.copytree(data / "images", images)
    (images / "corrupt.jpg").write_bytes(b"\xff\xd8 nope")
    out = tmp_path / "pred"
    assert main(["predict", "classifier", "--model", str(run), "--input", str(images), "--out", str(out)]) == 0
    assert "skipped corrupt.jpg" in capsys.readouterr().out
    rows = list(csv.DictReader(open(out / "predictions.csv")))
    assert len(rows) == 32 and {r["label"] for r in rows} <= {"OK", "NOK"}
    for r in rows:
        assert abs(float(r["p_OK"]) + float(r["p_NOK"]) - 1) < 2e-3 and float(r["probability"]) >= 0.5
    assert (out / "gallery.png").exists() and (out / f"{rows[0]['image'].rsplit('.', 1)[0]}.png").exists()


def test_augment_preview_and_list_layers(trained, tmp_path, capsys):
    data, _ = trained
    out = tmp_path / "aug.png"
    assert main(["augment-preview", "classifier", "--data", str(data), "--out", str(out), "--preset", "classifier_smoke"]) == 0
    img = read_image(out)
    assert img.shape[1] == 6 * (32 + 2)  # the image and five augmentations per row
    assert main(["train", "classifier", "--list-layers", "--preset", "classifier_smoke"]) == 0
    assert "block6a_expand_conv" in capsys.readouterr().out
    cfg = apply_overrides(get_preset("classifier")[1], ["usecase=fill"])
    assert cfg.usecase == "fill"
