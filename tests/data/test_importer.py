"""`nie import` (data/importer.py): VIA and COCO files + photos -> dataset, with a reason per skipped image."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from data.coco import CocoFormatError
from data.importer import import_annotations
from data.layout import DatasetPaths, read_meta
from data.via import corners_from_regions, read_via


def _polyline(xs, ys):
    return {"shape_attributes": {"name": "polyline", "all_points_x": xs, "all_points_y": ys}, "region_attributes": {"label": "box"}}


@pytest.fixture
def photo_folder(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name in ("good1.jpg", "good2.png", "fewpoints.jpg"):
        Image.fromarray(rng.integers(0, 255, (40, 60, 3), dtype=np.uint8)).save(folder / name)
    Image.fromarray(rng.integers(0, 255, (40, 60, 3), dtype=np.uint8)).save(folder / "cut.jpg")
    data = (folder / "cut.jpg").read_bytes()
    (folder / "cut.jpg").write_bytes(data[: len(data) // 3])
    (tmp_path / "secret.jpg").write_bytes((folder / "good1.jpg").read_bytes())
    return folder


def test_via_import_counts_and_reasons(tmp_path, photo_folder):
    quad = ([50, 10, 12, 48], [5, 6, 35, 33])  # any order; the importer sorts the corners
    via = {
        "good1.jpg1": {"filename": "good1.jpg", "size": 1, "regions": [_polyline(*quad)]},
        "good2.png1": {"filename": "good2.png", "size": 1, "regions": [_polyline([10, 50, 48, 12, 10], [6, 5, 33, 35, 6])]},
        "missing.jpg1": {"filename": "missing.jpg", "size": 1, "regions": [_polyline(*quad)]},
        "fewpoints.jpg1": {"filename": "fewpoints.jpg", "size": 1, "regions": [_polyline([1, 2, 3], [1, 2, 3])]},
        "cut.jpg1": {"filename": "cut.jpg", "size": 1, "regions": [_polyline(*quad)]},
        "up1": {"filename": "../secret.jpg", "size": 1, "regions": [_polyline(*quad)]},
    }
    (tmp_path / "via.json").write_text(json.dumps(via))
    out = tmp_path / "ds"
    report = import_annotations(photo_folder, out, via=str(tmp_path / "via.json"))
    assert sorted(report.imported) == ["good1", "good2"]
    reasons = dict(report.skipped)
    assert reasons["missing.jpg"] == "missing file"
    assert reasons["fewpoints.jpg"].startswith("wrong number of points: found 3")
    assert reasons["cut.jpg"].startswith("unreadable image") and "cut.jpg" in reasons["cut.jpg"]
    assert reasons["../secret.jpg"].startswith("unsafe file name")
    paths = DatasetPaths(out)
    assert sorted(p.name for p in paths.image_files()) == ["good1.png", "good2.png"]
    images = read_via(paths.annotations)
    for img in images:
        pts, _ = corners_from_regions(img)
        assert pts.tolist() == [[10, 6], [50, 5], [48, 33], [12, 35]]  # canonical order, closing point dropped
    assert {r["id"] for r in read_meta(paths.meta)} == {"good1", "good2"}


def test_coco_import_with_string_ids(tmp_path, photo_folder):
    coco = {
        "images": [{"id": "1", "file_name": "good1.jpg", "width": 60, "height": 40},
                   {"id": "2", "file_name": "good2.png", "width": 60, "height": 40}],
        "annotations": [{"id": "7", "image_id": "1", "num_keypoints": 4, "keypoints": [10, 6, 2, 50, 5, 2, 48, 33, 2, 12, 35, 2]},
                        {"id": "8", "image_id": "2", "num_keypoints": 3, "keypoints": [10, 6, 2, 50, 5, 2, 0, 0, 0, 12, 35, 2]}],
        "categories": [{"id": 1, "name": "box", "keypoints": ["c1", "c2", "c3", "c4"]}],
    }
    (tmp_path / "coco.json").write_text(json.dumps(coco))
    report = import_annotations(photo_folder, tmp_path / "ds", coco=str(tmp_path / "coco.json"))
    assert report.imported == ["good1"]
    assert report.skipped == [("good2.png", "1 keypoints not labelled (visibility 0)")]


def test_coco_person_keypoints_are_refused_clearly(tmp_path, fixtures_dir, photo_folder):
    with pytest.raises(CocoFormatError, match=r"\[17\] keypoints .* expects 4"):
        import_annotations(photo_folder, tmp_path / "ds", coco=str(fixtures_dir / "coco/keypoints_annotations.json"))


def test_via_fixture_with_renamed_images_reports_missing_files(tmp_path, fixtures_dir):
    report = import_annotations(fixtures_dir / "via/ox-vgg", tmp_path / "ds", via=str(fixtures_dir / "via/ox-vgg/unit_test_annotation2.json"))
    assert report.imported == []
    reasons = dict(report.skipped)
    assert reasons["sinus_test_pattern.jpg"] == "wrong number of points: found 11, need 4"
    assert reasons["a_swan_swimming_in_geneve_lake.jpg"] == "wrong number of points: found 1, need 4"
    # 4 point regions make a usable box, but the file is stored under another name
    assert reasons["test_pattern_qbist.jpg"] == "missing file"
    assert not (tmp_path / "ds" / "annotations.json").exists()


def test_real_photos_with_one_quad_each(tmp_path, fixtures_dir):
    """The icevision images with one of their rotated quadrilaterals kept per image."""
    data = json.loads((fixtures_dir / "via/icevision/via_bbox.json").read_text())
    for entry in data.values():
        entry["regions"] = [r for r in entry["regions"] if len(r["shape_attributes"].get("all_points_x", [])) == 4][:1]
    (tmp_path / "one.json").write_text(json.dumps(data))
    report = import_annotations(fixtures_dir / "via/icevision", tmp_path / "ds", via=str(tmp_path / "one.json"))
    assert report.imported == ["IMG_4908", "IMG_4909"] and report.skipped == []
    meta = read_meta(tmp_path / "ds" / "meta.jsonl")
    assert all(len(m["corners"]) == 4 for m in meta)
