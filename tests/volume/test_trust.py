"""Issue 13: nothing a user owns is lost, one bad picture never stops a folder, and `nie fill` says when there is
nothing to measure; the evidence range; big photos."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil

import numpy as np
import pytest
from PIL import Image

from data.images import read_image, read_image_scaled
from scripts.nie import main
from tests.conftest import ROOT
from tests.volume.analytic import render
from volume.fill import metric_fill
from volume.report import overlay, unique_ids


def _digests(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def _photos(synth_dataset, tmp_path, n=3):
    photos = tmp_path / "photos"
    photos.mkdir()
    for p in sorted((synth_dataset / "images").iterdir())[:n]:
        shutil.copy(p, photos / p.name)
    shutil.copy(synth_dataset / "meta.jsonl", tmp_path / "meta.jsonl")  # K and the box for the photos
    return photos


def test_fill_refuses_to_write_into_its_input(synth_dataset, tmp_path, capsys):
    photos = _photos(synth_dataset, tmp_path)
    before = _digests(photos)
    for out in (photos, photos / "report"):
        assert main(["fill", "--input", str(photos), "--out", str(out), "--oracle", str(synth_dataset)]) == 2
        assert "inside the input folder" in capsys.readouterr().err
    one = next(photos.iterdir())
    assert main(["fill", "--input", str(one), "--out", str(photos), "--oracle", str(synth_dataset)]) == 2
    assert _digests(photos) == before and not (photos / "report").exists()


def test_same_stem_files_get_their_own_ids_and_rows(synth_dataset, tmp_path):
    photos = _photos(synth_dataset, tmp_path, n=1)
    src = next(photos.iterdir())
    Image.open(src).convert("RGB").save(photos / f"{src.stem}.jpg", quality=95)
    ids = unique_ids(sorted(photos.iterdir()))
    assert sorted(ids.values()) == [f"{src.stem}_jpg", f"{src.stem}_png"]
    out = tmp_path / "out"
    assert main(["fill", "--input", str(photos), "--out", str(out), "--oracle", str(synth_dataset), "use_classifier=false"]) == 0
    rows = list(csv.DictReader(open(out / "summary.csv")))
    assert sorted(r["id"] for r in rows) == sorted(ids.values()) and len({r["image"] for r in rows}) == 2
    assert (out / f"{src.stem}_jpg.json").is_file() and (out / f"{src.stem}_png.json").is_file()


def test_a_fault_in_one_photo_is_counted_and_the_rest_measured(synth_dataset, tmp_path, monkeypatch, capsys):
    import volume.report as report

    photos = _photos(synth_dataset, tmp_path, n=3)
    victim = sorted(photos.iterdir())[1].name
    real = report.run_photo

    def faulty(photo, *args, **kwargs):
        if photo.path.name == victim:
            raise RuntimeError("a bug\nwith a second line")
        return real(photo, *args, **kwargs)

    monkeypatch.setattr(report, "run_photo", faulty)
    monkeypatch.delenv("NIE_DEBUG", raising=False)
    out = tmp_path / "out"
    assert main(["fill", "--input", str(photos), "--out", str(out), "--oracle", str(synth_dataset), "use_classifier=false"]) == 0
    text = capsys.readouterr().out
    assert "2 measured" in text and "1 errors (1 internal" in text
    rows = {r["image"]: r for r in csv.DictReader(open(out / "summary.csv"))}
    assert rows[victim]["status"] == "error" and "internal error (RuntimeError: a bug)" in rows[victim]["reason"]
    assert "fault of the program" in (out / "index.html").read_text()
    monkeypatch.setenv("NIE_DEBUG", "1")
    with pytest.raises(RuntimeError, match="a bug"):
        main(["fill", "--input", str(photos), "--out", str(tmp_path / "out2"), "--oracle", str(synth_dataset), "use_classifier=false"])


def test_overlay_of_a_long_narrow_box_fits_its_panel(synth_dataset, tmp_path):
    """The map of a long, narrow box is taller than the photo's panel once turned: it must be scaled to fit, not crash."""
    from volume.chain import Photo, Result
    from volume.fill import Fill

    rgb = np.zeros((60, 115, 3), np.uint8)
    photo = Photo(tmp_path / "x.png", "x", rgb, None, "fov", (0.2, 0.8, 0.3))
    fill = Fill(0.5, 10.0, False, "metric", np.random.default_rng(0).uniform(0, 0.3, (193, 115)), {"fill_low": 0.4, "fill_high": 0.6})
    result = Result(photo, np.array([[10.0, 10], [100, 10], [100, 50], [10, 50]]), np.zeros((60, 115)), {"metric": fill}, "NOK", None)
    picture = overlay(result, "metric")
    assert picture.shape[0] == 60 and picture.shape[2] == 3


def test_box_in_centimetres_is_refused_in_one_line(synth_dataset, tmp_path, capsys):
    photos = _photos(synth_dataset, tmp_path, n=1)
    assert main(["fill", "--input", str(photos), "--out", str(tmp_path / "o"), "--box", "60x40x30"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "in metres" in err and "0.6x0.4x0.3" in err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("tilt", [0.0, 30.0])
def test_the_evidence_range_holds_the_fill_and_narrows_when_all_is_seen(tilt):
    L, W, H = 0.5, 0.4, 0.3
    view = render(L, W, H, 0.12, tilt_deg=tilt, yaw_deg=20.0)
    f = metric_fill(view.depth, view.K, view.corners, (L, W, H))
    low, high = f.extra["fill_low"], f.extra["fill_high"]
    assert low <= f.fill <= high
    assert f.fill == pytest.approx(0.4, abs=0.01)
    if tilt == 0.0:
        assert high - low < 0.02  # straight down: the whole floor is seen
    else:
        assert high - low > 0.02  # the near wall hides a band of the layer


def test_big_photos_are_read_small_and_reported_in_their_own_pixels(synth_dataset, tmp_path):
    src = sorted((synth_dataset / "images").iterdir())[0]
    small = read_image(src)
    big = Image.fromarray(small).resize((6000, 4500), Image.BILINEAR)
    (tmp_path / "in").mkdir()
    big.save(tmp_path / "in" / "big.jpg", quality=90)
    rgb, full = read_image_scaled(tmp_path / "in" / "big.jpg", 1024)
    assert full == (6000, 4500) and max(rgb.shape[:2]) == 1024
    assert np.abs(rgb.astype(float).mean() - small.astype(float).mean()) < 3
    out = tmp_path / "out"
    assert main(["fill", "--input", str(tmp_path / "in" / "big.jpg"), "--out", str(out), "--models", str(ROOT / "models"),
                 "--box", "0.5x0.4x0.3", "use_classifier=false"]) in (0, 2)
    rec = json.loads((out / "big.json").read_text())
    if rec["status"] in ("measured", "uncertain"):
        assert np.max(rec["corners"]) > 300  # in the 6000 x 4500 photo's pixels, not the working copy's
        assert (out / "big.png").stat().st_size < 1_000_000


def test_export_never_replaces_what_is_not_its_own(tmp_path, capsys):
    from deploy.export import check_target

    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "a.jpg").write_bytes(b"a photo")
    for force in (False, True):
        with pytest.raises(FileExistsError):
            check_target(photos, "saved_model", force)
    earlier = tmp_path / "old.onnx"
    earlier.write_bytes(b"an earlier export")
    with pytest.raises(FileExistsError, match="--force"):
        check_target(earlier, "onnx", False)
    check_target(earlier, "onnx", True)  # its own kind of file: allowed with --force
    with pytest.raises(ValueError, match=".tflite"):
        check_target(tmp_path / "x.onnx", "litert", True)
    saved = tmp_path / "sm"
    saved.mkdir()
    (saved / "saved_model.pb").write_bytes(b"")
    check_target(saved, "saved_model", True)
    check_target(tmp_path / "new.onnx", "onnx", False)
    # through the command line: the photo folder survives, in one line
    assert main(["export", "--model", str(ROOT / "models" / "depth.keras"), "--format", "saved_model", "--out", str(photos)]) == 2
    assert "exists" in capsys.readouterr().err
    assert main(["export", "--model", str(ROOT / "models" / "depth.keras"), "--format", "saved_model", "--out", str(photos), "--force"]) == 2
    assert "not a saved_model export" in capsys.readouterr().err
    assert (photos / "a.jpg").read_bytes() == b"a photo"


def test_no_box_gates_apply_in_fill_order_and_follow_the_thresholds():
    from configs import VolumeConfig
    from volume.chain import Gates

    cfg = VolumeConfig(min_corner_confidence=0.35, min_open_probability=0.7)
    corners = np.array([[10.0, 10], [50, 10], [50, 40], [10, 40]])
    sure, unsure = np.full(4, 0.9), np.full(4, 0.2)
    assert Gates(corners, sure, learned=(0.5, 0.1, 0.95)).no_box_reason(cfg) is None
    assert "corner confidence 0.20 < 0.35" in Gates(corners, unsure, learned=(0.5, 0.1, 0.95)).no_box_reason(cfg)
    assert Gates(corners, unsure).no_box_reason(VolumeConfig(min_corner_confidence=0.1)) is None  # the threshold decides
    assert "65 % open" in Gates(corners, sure, learned=(0.5, 0.1, 0.65)).no_box_reason(cfg)
    assert Gates(corners, sure, learned=(0.5, 0.1, 0.65)).no_box_reason(VolumeConfig(min_open_probability=0.6)) is None
    both = Gates(corners, unsure, box_error="the corners make no box", learned=None)
    assert "confidence" in both.no_box_reason(cfg)  # confidence is checked before the box's geometry, as nie fill does
    assert Gates(corners, unsure, quad_error="no open box found (crossed)").no_box_reason(cfg) == "no open box found (crossed)"
    assert Gates(corners, None, box_error="the corners make no box").no_box_reason(cfg) == "the corners make no box"
