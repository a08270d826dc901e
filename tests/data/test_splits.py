"""`nie split` (data/splits.py): seeded, stratified, no leakage, a record of what went where."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from data.layout import DatasetPaths, read_meta
from data.splits import assign, split
from data.via import read_via


def test_assign_is_deterministic_stratified_and_complete():
    keys = [f"k{i:03d}" for i in range(100)]
    groups = ["OK" if i % 4 == 0 else "NOK" for i in range(100)]
    a = assign(keys, groups, 0.2, seed=5)
    assert a == assign(list(reversed(keys)), list(reversed(groups)), 0.2, seed=5)  # listing order does not matter
    assert a != assign(keys, groups, 0.2, seed=6)
    assert set(a) == set(keys)
    valid = [k for k in keys if a[k] == "valid"]
    assert sum(groups[keys.index(k)] == "OK" for k in valid) == 5 and len(valid) == 20


def test_bad_val_share():
    with pytest.raises(ValueError, match="between 0 and 1"):
        assign(["a"], ["x"], 1.5, 0)


def test_dataset_split_keeps_everything_together(tmp_path, synth_dataset):
    record = split(synth_dataset, tmp_path / "split", val=0.25, seed=3)
    assert not set(record["train"]) & set(record["valid"])
    assert sorted(record["train"] + record["valid"]) == sorted(p.stem for p in DatasetPaths(synth_dataset).image_files())
    for name in ("train", "valid"):
        part = DatasetPaths(tmp_path / "split" / name)
        ids = {p.stem for p in part.image_files()}
        assert ids == set(record[name])
        assert {p.stem for p in part.depth.iterdir()} == ids
        assert {r["id"] for r in read_meta(part.meta)} == ids
        assert {i.filename.rsplit(".", 1)[0] for i in read_via(part.annotations)} == ids
        labels = {r["id"]: r["label"] for r in read_meta(part.meta)}
        for f in part.classes.rglob("*.png"):
            assert f.stem in ids and f.parent.name == labels[f.stem]
    assert json.loads((tmp_path / "split" / "split.json").read_text())["seed"] == 3
    again = split(synth_dataset, tmp_path / "split2", val=0.25, seed=3)
    assert again["valid"] == record["valid"]
    with pytest.raises(FileExistsError):
        split(synth_dataset, tmp_path / "split", val=0.25, seed=3)


def test_class_folder_split(tmp_path):
    src = tmp_path / "usecase"
    for cls, n in (("OK", 10), ("NOK", 5)):
        (src / cls).mkdir(parents=True)
        for i in range(n):
            Image.fromarray(np.full((4, 4, 3), i, np.uint8)).save(src / cls / f"{cls}_{i}.png")
    record = split(src, tmp_path / "out", val=0.2, seed=0)
    assert record["kind"] == "classes"
    assert sorted(p.name for p in (tmp_path / "out/valid").iterdir()) == ["NOK", "OK"]
    assert len(list((tmp_path / "out/valid/OK").iterdir())) == 2 and len(list((tmp_path / "out/valid/NOK").iterdir())) == 1
    assert len(record["train"]) + len(record["valid"]) == 15
