"""Class folders: where they are found, what is skipped, the split, class weights and the label order."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from classifier.data import class_weights, list_class_samples, make_dataset, split_samples, stage, usecase_folder
from configs import ClassifierConfig
from data.images import write_image
from data.splits import split


def _folders(root: Path, counts: dict[str, int], colours: dict[str, tuple[int, int, int]] | None = None) -> Path:
    rng = np.random.default_rng(0)
    for name, n in counts.items():
        for i in range(n):
            img = rng.integers(0, 255, (20, 30, 3), dtype=np.uint8) if colours is None else np.full((20, 30, 3), colours[name], np.uint8)
            write_image(root / name / f"{name.lower()}_{i:03d}.png", img)
    return root


def test_usecase_folder_resolution(tmp_path):
    _folders(tmp_path / "ds" / "classes" / "fill", {"OK": 1, "NOK": 1})
    assert usecase_folder(tmp_path / "ds") == tmp_path / "ds" / "classes" / "fill"
    assert usecase_folder(tmp_path / "ds" / "classes" / "fill") == tmp_path / "ds" / "classes" / "fill"
    _folders(tmp_path / "ds" / "classes" / "seal", {"OK": 1, "NOK": 1})
    with pytest.raises(ValueError, match="2 use cases .*usecase=NAME"):
        usecase_folder(tmp_path / "ds")
    assert usecase_folder(tmp_path / "ds", "seal").name == "seal"
    with pytest.raises(ValueError, match="no use case 'sael'"):
        usecase_folder(tmp_path / "ds", "sael")


def test_bad_files_are_skipped_by_name(tmp_path):
    root = _folders(tmp_path / "uc", {"OK": 3, "NOK": 2})
    (root / "OK" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    (root / "NOK" / "scan.tif").write_bytes(b"II*\x00")
    (root / "NOK" / "notes.txt").write_text("x")
    s = list_class_samples(root, ("NOK", "OK"))
    assert len(s.files) == 5 and s.counts(2) == [2, 3]
    reasons = dict(s.skipped)
    assert set(reasons) == {"OK/broken.jpg", "NOK/scan.tif", "NOK/notes.txt"}
    assert "cannot decode" in reasons["OK/broken.jpg"] and "TensorFlow" in reasons["NOK/scan.tif"]
    with pytest.raises(ValueError, match="no class folder GOOD"):
        list_class_samples(root, ("GOOD", "OK"))


def test_split_is_seeded_stratified_and_without_leakage(tmp_path):
    root = _folders(tmp_path / "uc", {"OK": 10, "NOK": 30})
    cfg = ClassifierConfig()
    cfg.data.val_split = 0.25
    a_train, a_val, _ = split_samples(root, cfg)
    b_train, b_val, _ = split_samples(root, cfg)
    assert a_train.keys == b_train.keys and a_val.keys == b_val.keys
    assert not set(a_train.keys) & set(a_val.keys)
    assert sorted(a_train.keys + a_val.keys) == sorted(list_class_samples(root, cfg.class_names).keys)
    assert a_val.counts(2) == [8, 2]  # a quarter of each class
    cfg.train.seed = 1
    assert split_samples(root, cfg)[1].keys != a_val.keys
    # `nie split` on class folders: training then uses its train/ and valid/ as they are
    record = split(root, tmp_path / "split", 0.25, seed=5)
    s_train, s_val, _ = split_samples(tmp_path / "split", cfg)
    assert sorted(s_val.keys) == record["valid"] and sorted(s_train.keys) == record["train"]


def test_class_weights_balance_the_loss(tmp_path):
    s = list_class_samples(_folders(tmp_path / "uc", {"OK": 10, "NOK": 30}), ("NOK", "OK"))
    w = class_weights(s, 2)
    assert w[0] * 30 == pytest.approx(w[1] * 10) and w[0] * 30 + w[1] * 10 == pytest.approx(40)


def test_labels_follow_class_names_not_the_alphabet(tmp_path):
    root = _folders(tmp_path / "uc", {"OK": 3, "NOK": 5}, colours={"OK": (250, 0, 0), "NOK": (0, 0, 250)})
    cfg = ClassifierConfig(class_names=("OK", "NOK"))  # reversed: alphabetical order would make NOK label 0
    cfg.data.image_width, cfg.data.image_height, cfg.data.batch_size = 16, 12, 4
    s = list_class_samples(root, cfg.class_names)
    ds = make_dataset(cfg, stage(s, tmp_path / "staged", cfg.class_names), training=True)
    seen = 0
    for images, labels in ds:
        assert images.shape[1:] == (12, 16, 3)
        red = images.numpy()[..., 0].mean(axis=(1, 2)) > 128
        np.testing.assert_array_equal(red, labels.numpy() == 0)
        seen += len(labels)
    assert seen == 8
