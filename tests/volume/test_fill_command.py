"""`nie fill` and `nie evaluate fill` on small synthetic datasets: outputs, bad input per image, scoring."""

from __future__ import annotations

import csv
import json
import shutil

import numpy as np
import pytest

from data.depth_io import write_depth
from data.intrinsics import intrinsics_from_exif
from data.layout import read_meta, write_meta
from scripts.nie import main
from volume.chain import parse_box
from volume.evaluate import read_summary, score


def test_oracle_fill_writes_the_conventions_outputs(synth_dataset, tmp_path, capsys):
    out = tmp_path / "fill"
    assert main(["fill", "--input", str(synth_dataset / "images"), "--out", str(out), "--oracle", str(synth_dataset),
                 "use_classifier=false"]) == 0
    assert "16 photos: 16 measured, 0 uncertain, 0 no box, 0 errors" in capsys.readouterr().out
    rows = list(csv.DictReader(open(out / "summary.csv")))
    assert list(rows[0]) == ["id", "image", "status", "reason", "fill", "fill_low", "fill_high", "empty_volume_l", "overfill", "label",
                             "method", "corners"]
    assert all(r["status"] == "measured" and float(r["fill_low"]) <= float(r["fill"]) <= float(r["fill_high"]) for r in rows)
    assert len(rows) == 16 and len(rows[0]["corners"].split()) == 8
    rec = json.loads((out / f"{rows[0]['id']}.json").read_text())
    assert rec["intrinsics"] == "meta" and rec["method"] == "metric" and 0 <= rec["fill"] <= 1
    L, W, H = rec["box_lwh_m"]
    assert rec["empty_volume_l"] == pytest.approx((1 - rec["fill"]) * L * W * H * 1000, abs=1e-2)
    assert (out / f"{rows[0]['id']}.png").is_file() and "<table" in (out / "index.html").read_text()
    # scoring the summary against meta.jsonl, checked by hand
    meta = {r["id"]: r for r in read_meta(synth_dataset / "meta.jsonl")}
    ev = tmp_path / "ev"
    assert main(["evaluate", "fill", "--pred", str(out / "summary.csv"), "--data", str(synth_dataset), "--out", str(ev)]) == 0
    m = json.loads((ev / "metrics.json").read_text())
    errs = [abs(float(r["fill"]) - meta[r["id"]]["fill"]) * 100 for r in rows]
    assert m["n"] == 16 and m["mae_pp"] == pytest.approx(np.mean(errs), abs=1e-4) and m["max_err_pp"] == pytest.approx(max(errs), abs=1e-4)
    assert m["class_accuracy"] == pytest.approx(np.mean([r["label"] == meta[r["id"]]["label"] for r in rows]))
    assert (ev / "scatter.png").is_file() and (ev / "error_histogram.png").is_file()


def test_bad_input_is_reported_per_image_and_the_rest_measured(synth_dataset, tmp_path, capsys):
    ds = tmp_path / "ds"
    shutil.copytree(synth_dataset, ds)
    rows = read_meta(ds / "meta.jsonl")
    c = np.array(rows[0]["corners"])
    rows[0]["corners"] = [*c[:3].tolist(), c[:3].mean(axis=0).tolist()]  # a point inside the others' triangle: not convex in any order
    rows[1]["corners"][2] = [5000.0, 10.0]  # outside the image
    write_meta(ds / "meta.jsonl", rows)
    write_depth(ds / "depth" / f"{rows[2]['id']}.png", np.zeros((192, 256), np.float32))  # all invalid
    (ds / "images" / "zz_broken.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    out = tmp_path / "fill"
    assert main(["fill", "--input", str(ds / "images"), "--out", str(out), "--oracle", str(ds), "use_classifier=false"]) == 0
    text = capsys.readouterr().out
    assert f"skipped {rows[0]['id']}.png: no_box: the corners do not form a convex quadrilateral" in text
    assert f"skipped {rows[1]['id']}.png: no_box: corner" in text and "lies outside the 256x192 image" in text
    assert f"skipped {rows[2]['id']}.png: no_box: no valid depth inside the box opening" in text
    assert "skipped zz_broken.png: error: " in text and "17 photos: 13 measured, 0 uncertain, 3 no box, 1 errors" in text
    assert len(read_summary(out / "summary.csv")) == 13
    statuses = {r["id"]: r["status"] for r in csv.DictReader(open(out / "summary.csv"))}
    assert len(statuses) == 17 and statuses["zz_broken"] == "error" and statuses[rows[0]["id"]] == "no_box"


def test_model_chain_and_the_fallbacks(synth_dataset, tmp_path, capsys):
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in sorted((synth_dataset / "images").iterdir())[:2]:
        shutil.copy(name, photos / name.name)
    out = tmp_path / "fill"
    assert main(["fill", "--input", str(photos), "--out", str(out), "--box", "0.5x0.3x0.25", "use_classifier=false"]) == 0
    assert "keypoints" in capsys.readouterr().out  # per-stage timings
    rec = json.loads(next(out.glob("*.json")).read_text())
    assert rec["intrinsics"] == "fov" and rec["box_lwh_m"] == [0.5, 0.3, 0.25] and rec["box_source"] == "option"
    assert rec["status"] in ("uncertain", "no_box") and "field of view was assumed" in rec["reason"]  # default intrinsics
    if rec["status"] == "uncertain":
        assert rec["label_reason"] and rec["label"] in ("OK", "NOK")
    assert set(rec["seconds"]) >= {"keypoints", "depth", "volume"}
    out2 = tmp_path / "fill2"
    assert main(["fill", "--input", str(photos), "--out", str(out2), "fov_deg=0", "use_classifier=false"]) == 0
    assert json.loads(next(out2.glob("*.json")).read_text())["method"] == "normalised"  # no intrinsics: the seed's method


def test_box_and_exif_intrinsics(tmp_path):
    assert parse_box("0.3x0.4x0.2") == (0.4, 0.3, 0.2)
    with pytest.raises(ValueError, match="LxWxH"):
        parse_box("0.3x0.4")
    from PIL import Image

    img = Image.new("RGB", (400, 300))
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0xA405] = 28  # FocalLengthIn35mmFilm
    img.save(tmp_path / "p.jpg", exif=exif)
    K = intrinsics_from_exif(tmp_path / "p.jpg", 400, 300)
    assert K is not None and K[0, 0] == pytest.approx(28 / 36 * 400)
    Image.new("RGB", (40, 30)).save(tmp_path / "q.jpg")
    assert intrinsics_from_exif(tmp_path / "q.jpg", 40, 30) is None


def test_score_matches_by_id():
    m, rows = score({"a": {"fill": 0.5, "overfill": False, "label": "NOK"}, "x": {"fill": 0.1, "overfill": False, "label": "NOK"}},
                    {"a": {"fill": 0.7, "overfill": True, "label": "OK"}, "b": {"fill": 0.2, "overfill": False, "label": "NOK"}})
    assert m["n"] == 1 and m["mae_pp"] == pytest.approx(20.0) and m["overfill_accuracy"] == 0 and m["class_accuracy"] == 0


def test_oracle_for_photos_outside_the_dataset(synth_dataset, tmp_path, capsys):
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in sorted((synth_dataset / "images").iterdir())[:2]:
        shutil.copy(name, photos / name.name)
    assert main(["fill", "--input", str(photos), "--out", str(tmp_path / "o"), "--oracle", str(synth_dataset), "use_classifier=false"]) == 0
    assert "2 photos: 2 measured" in capsys.readouterr().out
    rec = json.loads(next((tmp_path / "o").glob("0*.json")).read_text())
    assert rec["intrinsics"] == "meta"  # no meta beside these photos: the oracle dataset's gives K and the box
