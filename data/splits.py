"""`nie split`: a seeded train / valid split of a dataset root or of a use-case folder of class folders.

The split is stratified by label (meta.jsonl `label`, or the class folder), deterministic for a seed
whatever the file system's listing order, and recorded in `<out>/split.json` (which file went where).
Files are hard-linked where the file system allows it, copied otherwise.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from data.atomic_files import write_text_atomic
from data.images import IMAGE_SUFFIXES
from data.layout import DatasetPaths, link_or_copy, read_meta, write_meta
from data.via import read_via, write_via

SPLITS = ("train", "valid")


def assign(keys: list[str], groups: list[str], val: float, seed: int) -> dict[str, str]:
    """Maps each key to "train" or "valid": per group, round(val * n) keys (at least 1 when n > 1) go to valid."""
    if not 0.0 < val < 1.0:
        raise ValueError(f"--val must be between 0 and 1, got {val}")
    rng = np.random.default_rng(seed)
    out: dict[str, str] = {}
    for group in sorted(set(groups)):
        members = sorted(k for k, g in zip(keys, groups, strict=True) if g == group)
        order = rng.permutation(len(members))
        n_val = int(round(val * len(members)))
        if len(members) > 1:
            n_val = min(max(n_val, 1), len(members) - 1)
        for rank, idx in enumerate(order):
            out[members[idx]] = "valid" if rank < n_val else "train"
    return out


def train_valid(source: str | os.PathLike, load, val_split: float, seed: int):
    """(train, valid, skipped) for a task's sample lister `load(path)`.

    Uses the source's train/ and valid/ folders (from `nie split`) when both exist, else a seeded split
    of the source's samples. `load` returns an object with `ids`, `skipped` and `subset(keep)`.
    """
    source = Path(source)
    if (source / "train" / "images").is_dir() and (source / "valid" / "images").is_dir():
        train, valid = load(source / "train"), load(source / "valid")
        return train, valid, train.skipped + valid.skipped
    samples = load(source)
    if not samples.ids:
        return samples, samples.subset([]), samples.skipped
    where = assign(samples.ids, [""] * len(samples.ids), val_split, seed)
    return (samples.subset([where[i] == "train" for i in samples.ids]), samples.subset([where[i] == "valid" for i in samples.ids]),
            samples.skipped)


def _class_folders(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def split(input_dir: str | os.PathLike, out: str | os.PathLike, val: float = 0.2, seed: int = 0) -> dict[str, Any]:
    """Splits `input_dir` into `out/train` and `out/valid`. Returns the record written to split.json."""
    src, out = Path(input_dir), Path(out)
    if not src.is_dir():
        raise FileNotFoundError(f"{src}: input folder not found")
    if (out / "split.json").exists():
        raise FileExistsError(f"{out} already holds a split; choose a new --out")
    if out.resolve() == src.resolve() or src.resolve() in out.resolve().parents:
        raise ValueError("--out must not be inside --input")
    paths = DatasetPaths(src)
    record = _split_dataset(paths, out, val, seed) if paths.images.is_dir() else _split_classes(src, out, val, seed)
    record.update(input=str(src), val=val, seed=seed)
    write_text_atomic(out / "split.json", json.dumps(record, indent=1) + "\n")
    return record


def _split_classes(src: Path, out: Path, val: float, seed: int) -> dict[str, Any]:
    classes = _class_folders(src)
    files = [(c.name, f) for c in classes for f in sorted(c.iterdir()) if f.suffix.lower() in IMAGE_SUFFIXES]
    if not files:
        raise ValueError(f"{src}: neither a dataset root (images/) nor a folder of class folders with images")
    keys = [f"{c}/{f.name}" for c, f in files]
    where = assign(keys, [c for c, _ in files], val, seed)
    for key, (cls, f) in zip(keys, files, strict=True):
        link_or_copy(f, out / where[key] / cls / f.name)
    return {"kind": "classes", **{s: sorted(k for k in keys if where[k] == s) for s in SPLITS}}


def _split_dataset(paths: DatasetPaths, out: Path, val: float, seed: int) -> dict[str, Any]:
    images = {p.stem: p for p in paths.image_files()}
    if not images:
        raise ValueError(f"{paths.images}: no images")
    meta = {r["id"]: r for r in read_meta(paths.meta)} if paths.meta.exists() else {}
    ids = sorted(images)
    where = assign(ids, [str(meta.get(i, {}).get("label", "")) for i in ids], val, seed)
    via = read_via(paths.annotations) if paths.annotations.exists() else []
    class_files = [(f.relative_to(paths.classes), f) for f in sorted(paths.classes.rglob("*")) if f.is_file()] if paths.classes.is_dir() else []
    for split_name in SPLITS:
        dst = DatasetPaths(out / split_name)
        chosen = {i for i in ids if where[i] == split_name}
        for i in sorted(chosen):
            link_or_copy(images[i], dst.images / images[i].name)
            depth = paths.depth_file(i)
            if depth is not None:
                link_or_copy(depth, dst.depth / depth.name)
        for rel, f in class_files:
            if f.stem in chosen:
                link_or_copy(f, dst.classes / rel)
        if via:
            write_via(dst.annotations, [v for v in via if Path(v.filename).stem in chosen])
        if meta:
            write_meta(dst.meta, [meta[i] for i in sorted(chosen) if i in meta])
    return {"kind": "dataset", **{s: sorted(i for i in ids if where[i] == s) for s in SPLITS}}
