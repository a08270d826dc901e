"""The dataset layout of shared/conventions.md, section 3: paths, meta.jsonl, and safe file names."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from data.atomic_files import write_text_atomic
from data.images import IMAGE_SUFFIXES


class UnsafePathError(ValueError):
    """A file name that would reach outside its dataset folder."""


def safe_join(root: str | os.PathLike, name: str) -> Path:
    """root / name, refusing absolute names, drive letters and any name that climbs out of root."""
    if not name or "\x00" in name:
        raise UnsafePathError(f"{name!r}: empty or invalid file name")
    norm = name.replace("\\", "/")
    if norm.startswith("/") or (len(norm) > 1 and norm[1] == ":"):
        raise UnsafePathError(f"{name!r}: absolute paths are refused; names must stay inside {root}")
    if ".." in norm.split("/"):
        raise UnsafePathError(f"{name!r}: '..' would leave {root}; refused")
    root_path = Path(root).resolve()
    path = (root_path / norm).resolve()
    if root_path != path and root_path not in path.parents:
        raise UnsafePathError(f"{name!r}: resolves outside {root} (through a link?); refused")
    return path


@dataclass(frozen=True)
class DatasetPaths:
    root: Path

    @property
    def images(self) -> Path:
        return self.root / "images"

    @property
    def depth(self) -> Path:
        return self.root / "depth"

    @property
    def annotations(self) -> Path:
        return self.root / "annotations.json"

    @property
    def meta(self) -> Path:
        return self.root / "meta.jsonl"

    @property
    def classes(self) -> Path:
        return self.root / "classes"

    @property
    def fill_grids(self) -> Path:
        """Synthetic scenes' fill grids (data/fill_grids.py), for the fill model's grid head; optional."""
        return self.root / "fill_grids.npz"

    def image_files(self) -> list[Path]:
        """Image files under images/, sorted by name."""
        if not self.images.is_dir():
            return []
        return sorted(p for p in self.images.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith("."))

    def depth_file(self, image_id: str) -> Path | None:
        for suffix in (".png", ".npy"):
            path = self.depth / f"{image_id}{suffix}"
            if path.is_file():
                return path
        return None


def read_meta(path: str | os.PathLike) -> list[dict[str, Any]]:
    """meta.jsonl as a list of dicts; a bad line raises ValueError naming the line."""
    rows = []
    path = Path(path)
    for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise ValueError(f"{path}: line {no} is not JSON ({err.msg})") from None
        if not isinstance(row, dict) or "id" not in row:
            raise ValueError(f"{path}: line {no} has no 'id'")
        rows.append(row)
    return rows


def write_meta(path: str | os.PathLike, rows: Iterable[dict[str, Any]]) -> None:
    write_text_atomic(path, "".join(json.dumps(r, ensure_ascii=False, sort_keys=False) + "\n" for r in rows))


def link_or_copy(src: Path, dst: Path) -> None:
    """Hard-links src to dst (replacing dst), or copies where links are not possible."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    if dst.exists():
        dst.unlink()
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)
