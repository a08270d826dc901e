"""`nie import`: users' annotations (VIA or COCO) plus their photos -> the NIE dataset layout.

Every image is either imported (decoded, turned upright per EXIF, written as PNG, corners put in
canonical order) or skipped with a reason; nothing is skipped silently and nothing outside the
image folder is ever read.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from data.coco import read_coco_keypoints
from data.corners import canonical_order
from data.images import ImageReadError, read_image, write_image
from data.layout import DatasetPaths, UnsafePathError, safe_join, write_meta
from data.via import ViaImage, corners_from_regions, polyline_region, read_via, write_via


@dataclass
class ImportReport:
    imported: list[str] = field(default_factory=list)  # dataset ids
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file name, reason)

    def summary(self) -> str:
        return f"imported {len(self.imported)}, skipped {len(self.skipped)}"


def _unique_id(name: str, taken: set[str]) -> str:
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(name).stem).strip("._") or "image"
    image_id, k = stem, 1
    while image_id in taken:
        image_id = f"{stem}_{k}"
        k += 1
    taken.add(image_id)
    return image_id


def _entries(via: str | None, coco: str | None, n_points: int) -> list[tuple[str, np.ndarray | None, str]]:
    if (via is None) == (coco is None):
        raise ValueError("give exactly one of --via FILE or --coco FILE")
    if via is not None:
        return [(img.filename, *corners_from_regions(img, n_points)) for img in read_via(via)]
    return [(img.filename, img.corners, img.reason) for img in read_coco_keypoints(coco, n_points)]


def import_annotations(images_dir: str | os.PathLike, out: str | os.PathLike, via: str | None = None,
                       coco: str | None = None, n_points: int = 4) -> ImportReport:
    """Imports one VIA or COCO annotation file with its image folder into a new dataset at `out`."""
    images_dir = Path(images_dir)
    if not images_dir.is_dir():
        raise FileNotFoundError(f"{images_dir}: image folder not found")
    paths = DatasetPaths(Path(out))
    if paths.annotations.exists():
        raise FileExistsError(f"{out} already holds a dataset; choose a new --out")
    entries = _entries(via, coco, n_points)
    report = ImportReport()
    taken: set[str] = set()
    via_images, meta = [], []
    for name, corners, reason in entries:
        if corners is None:
            report.skipped.append((name, reason))
            continue
        try:
            src = safe_join(images_dir, name)
        except UnsafePathError as err:
            report.skipped.append((name, f"unsafe file name: {err}"))
            continue
        if not src.is_file():
            report.skipped.append((name, "missing file"))
            continue
        try:
            rgb = read_image(src)
        except ImageReadError as err:
            report.skipped.append((name, f"unreadable image: {err}"))
            continue
        image_id = _unique_id(name, taken)
        dst = paths.images / f"{image_id}.png"
        write_image(dst, rgb)
        ordered = canonical_order(corners)
        via_images.append(ViaImage(dst.name, dst.stat().st_size, [polyline_region(ordered)], {"source": name}))
        meta.append({"id": image_id, "image": f"images/{dst.name}", "source": name,
                     "size_hw": [int(rgb.shape[0]), int(rgb.shape[1])],
                     "corners": [[round(float(x), 3), round(float(y), 3)] for x, y in ordered]})
        report.imported.append(image_id)
    if report.imported:
        write_via(paths.annotations, via_images)
        write_meta(paths.meta, meta)
    return report
