"""scripts/merge_datasets.py: dataset roots joined under prefixed names, VIA files following, nothing overwritten."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from data.fill_grids import read_fill_grids
from data.layout import DatasetPaths, read_meta
from data.via import ViaImage, corners_by_stem, polyline_region, write_via
from fillnet.data import list_scenes
from scripts.merge_datasets import main, merge
from tests.conftest import make_dataset


@pytest.fixture(scope="module")
def two_roots(tmp_path_factory, synth_dataset):
    base = tmp_path_factory.mktemp("merge")
    a = base / "a"
    shutil.copytree(synth_dataset, a)
    b = make_dataset(base / "b", 3, 12)
    vias = []
    for root, shift in ((a, 1.0), (b, 2.0)):  # "predicted" corners: the true ones moved by a known amount
        rows = read_meta(DatasetPaths(root).meta)
        images = [ViaImage(f"{r['id']}.png", 1, [polyline_region(np.asarray(r["corners"]) + shift)]) for r in rows]
        write_via(base / f"{root.name}_via.json", images)
        vias.append(base / f"{root.name}_via.json")
    return a, b, vias


def test_merge_joins_files_meta_and_via_under_prefixed_names(tmp_path, two_roots):
    a, b, vias = two_roots
    out = tmp_path / "joined"
    counts = merge([a, b], out, vias)
    assert counts == {"a": 16, "b": 3}
    paths = DatasetPaths(out)
    names = [p.name for p in paths.image_files()]
    assert len(names) == 19 and all(n.startswith(("a_", "b_")) for n in names)
    assert (paths.images / "b_000002.png").read_bytes() == (DatasetPaths(b).images / "000002.png").read_bytes()
    assert len(list(paths.depth.iterdir())) == 19 and len([f for f in paths.classes.rglob("*") if f.is_file()]) == 19
    rows = read_meta(paths.meta)
    assert {r["id"] for r in rows} == {n[:-4] for n in names}
    assert all((out / r["image"]).is_file() and (out / r["depth"]).is_file() for r in rows)
    scenes = list_scenes(out)  # the fill model's loader reads the joined root
    assert len(scenes.ids) == 19 and not scenes.skipped
    predicted = corners_by_stem(out / "predictions_via.json")
    src_b = {r["id"]: r for r in read_meta(DatasetPaths(b).meta)}
    np.testing.assert_allclose(predicted["b_000001"], np.asarray(src_b["000001"]["corners"]) + 2.0, atol=0.01)
    assert len(corners_by_stem(out / "annotations.json")) == 19
    grids, from_a, from_b = (read_fill_grids(DatasetPaths(r).fill_grids) for r in (out, a, b))  # nie synth wrote them
    assert from_b and set(grids) == {f"a_{i}" for i in from_a} | {f"b_{i}" for i in from_b}
    for i, grid in from_b.items():
        np.testing.assert_array_equal(grids[f"b_{i}"], grid)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no work folder left behind


def test_merge_refuses_and_leaves_nothing(tmp_path, two_roots, capsys):
    a, b, vias = two_roots
    out = tmp_path / "joined"
    out.mkdir()
    (out / "mine.txt").write_text("keep")
    assert main([str(a), str(b), "--out", str(out)]) == 2
    assert "exists" in capsys.readouterr().err and (out / "mine.txt").read_text() == "keep"
    with pytest.raises(ValueError, match="distinct folder names"):
        merge([a, a], tmp_path / "x")
    with pytest.raises(ValueError, match="one file per source"):
        merge([a, b], tmp_path / "x", vias[:1])
    bad = tmp_path / "bad"
    shutil.copytree(b, bad)
    (bad / "meta.jsonl").write_text("{not json\n")
    with pytest.raises(ValueError):
        merge([a, bad], tmp_path / "x")  # fails after a's files were linked: no half-written dataset stays
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad", "joined"]
