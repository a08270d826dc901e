"""VGG Image Annotator (VIA) files: read every variant VIA writes, write VIA 2 JSON.

Read: VIA 2 JSON (`"filename+size"` keys, `regions` a list), VIA 1.x JSON (`regions` a dict keyed
"0", "1", ...), VIA 1.0 JSON (`base64_data`, `fileref`), VIA 2 project files (`_via_img_metadata`),
and CSV exports (JSON columns with doubled quotes, or the VIA 1.0 `key=value;` columns with arrays
written `[a:b:c]`). Polygons and polylines that repeat their first point are closed: the repeat is
dropped. Every problem raises `ViaFormatError` naming the file and the entry.
"""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from data.atomic_files import write_text_atomic

POINT_SHAPES = ("polyline", "polygon", "point")


class ViaFormatError(ValueError):
    """A VIA file that cannot be read; str() names the file and what is wrong."""


@dataclass
class ViaRegion:
    shape: str  # VIA shape name: polyline, polygon, point, rect, circle, ellipse, ...
    shape_attributes: dict[str, Any]
    region_attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def points(self) -> np.ndarray | None:
        """(N, 2) float points of a polyline / polygon / point region; None for other shapes."""
        sa = self.shape_attributes
        if self.shape == "point":
            return np.array([[float(sa["cx"]), float(sa["cy"])]])
        if self.shape in ("polyline", "polygon"):
            pts = np.stack([np.asarray(sa["all_points_x"], float), np.asarray(sa["all_points_y"], float)], axis=1)
            if len(pts) > 1 and np.allclose(pts[0], pts[-1]):
                pts = pts[:-1]  # closed outline: VIA repeats the first point
            return pts
        return None


@dataclass
class ViaImage:
    filename: str
    size: int = -1  # file size in bytes as VIA recorded it; -1 = unknown
    regions: list[ViaRegion] = field(default_factory=list)
    file_attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.filename}{self.size}"


# ----------------------------------------------------------------------------------------------
# Reading
# ----------------------------------------------------------------------------------------------
def read_via(path: str | os.PathLike) -> list[ViaImage]:
    """Reads a VIA JSON, VIA project or VIA CSV file into a list of images, in file order."""
    path = Path(path)
    if not path.is_file():
        raise ViaFormatError(f"{path}: annotation file not found")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (UnicodeDecodeError, OSError) as err:
        raise ViaFormatError(f"{path}: cannot read as UTF-8 text ({err})") from None
    stripped = text.lstrip()
    if path.suffix.lower() == ".csv" or stripped.startswith(("#filename", "filename")):
        return _read_csv(text, path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ViaFormatError(f"{path}: not valid JSON ({err.msg} at line {err.lineno}, column {err.colno})") from None
    return parse_via_json(data, path)


def parse_via_json(data: Any, path: str | os.PathLike = "<via>") -> list[ViaImage]:
    """Parses already-loaded VIA JSON (any version, project files too)."""
    if isinstance(data, dict) and "_via_img_metadata" in data:
        data = data["_via_img_metadata"]
    if not isinstance(data, dict):
        raise ViaFormatError(f"{path}: expected a JSON object of images, got {type(data).__name__}")
    if "images" in data and "annotations" in data:
        raise ViaFormatError(f"{path}: this is a COCO file, not VIA; use --coco")
    images = []
    for key, entry in data.items():
        if not isinstance(entry, dict) or "filename" not in entry:
            raise ViaFormatError(f"{path}: entry {key!r} has no 'filename'; not a VIA image entry")
        regions_raw = entry.get("regions", [])
        if isinstance(regions_raw, dict):
            items = sorted(regions_raw.items(), key=lambda kv: (not str(kv[0]).isdigit(), int(kv[0]) if str(kv[0]).isdigit() else 0, str(kv[0])))
            regions_raw = [v for _, v in items]
        if not isinstance(regions_raw, list):
            raise ViaFormatError(f"{path}: entry {key!r}: 'regions' must be a list or an object")
        regions = [_region(r, path, key, i) for i, r in enumerate(regions_raw)]
        size = entry.get("size", -1)
        try:
            size = int(size)
        except (TypeError, ValueError):
            size = -1
        images.append(ViaImage(str(entry["filename"]), size, regions, dict(entry.get("file_attributes") or {})))
    return images


def _region(raw: Any, path: Any, key: str, index: int) -> ViaRegion:
    where = f"{path}: entry {key!r}, region {index}"
    if not isinstance(raw, dict) or not isinstance(raw.get("shape_attributes"), dict):
        raise ViaFormatError(f"{where}: missing 'shape_attributes'")
    sa = raw["shape_attributes"]
    shape = str(sa.get("name", ""))
    if shape in ("polyline", "polygon"):
        xs, ys = sa.get("all_points_x"), sa.get("all_points_y")
        if not isinstance(xs, list) or not isinstance(ys, list) or len(xs) != len(ys):
            raise ViaFormatError(f"{where}: {shape} needs all_points_x and all_points_y of equal length")
        if not all(isinstance(v, (int, float)) for v in xs + ys):
            raise ViaFormatError(f"{where}: {shape} coordinates must be numbers")
    elif shape == "point":
        if not all(isinstance(sa.get(k), (int, float)) for k in ("cx", "cy")):
            raise ViaFormatError(f"{where}: point needs numeric cx and cy")
    ra = raw.get("region_attributes") or {}
    if not isinstance(ra, dict):
        raise ViaFormatError(f"{where}: 'region_attributes' must be an object")
    return ViaRegion(shape, dict(sa), dict(ra))


def _parse_csv_cell(cell: str, where: str) -> dict[str, Any]:
    """A CSV attribute cell: JSON (VIA 1.x/2) or VIA 1.0 `key=value;` pairs with `[a:b:c]` arrays."""
    cell = cell.strip()
    if not cell:
        return {}
    if cell.startswith("{"):
        try:
            value = json.loads(cell)
        except json.JSONDecodeError as err:
            raise ViaFormatError(f"{where}: bad JSON in CSV cell ({err.msg})") from None
        if not isinstance(value, dict):
            raise ViaFormatError(f"{where}: CSV cell is not a JSON object")
        return value
    out: dict[str, Any] = {}
    for pair in filter(None, (p.strip() for p in cell.split(";"))):
        if "=" not in pair:
            raise ViaFormatError(f"{where}: CSV cell item {pair!r} is not key=value")
        k, v = pair.split("=", 1)
        out[k.strip()] = _parse_v1_value(v.strip())
    return out


def _parse_v1_value(v: str) -> Any:
    if v.startswith("[") and v.endswith("]"):
        return [_parse_v1_value(x) for x in v[1:-1].split(":") if x != ""]
    for cast in (int, float):
        try:
            return cast(v)
        except ValueError:
            pass
    return v


def _read_csv(text: str, path: Path) -> list[ViaImage]:
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header:
        raise ViaFormatError(f"{path}: empty CSV")
    header = [h.strip().lstrip("#") for h in header]
    need = ["filename", "file_size", "file_attributes", "region_count", "region_id", "region_shape_attributes", "region_attributes"]
    missing = [n for n in need if n not in header]
    if missing:
        raise ViaFormatError(f"{path}: CSV header lacks {', '.join(missing)}; not a VIA CSV export")
    col = {n: header.index(n) for n in need}
    images: dict[tuple[str, str], ViaImage] = {}
    for line_no, row in enumerate(reader, start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) < len(header):
            raise ViaFormatError(f"{path}: line {line_no} has {len(row)} columns, expected {len(header)}")
        where = f"{path}: line {line_no}"
        name, size = row[col["filename"]], row[col["file_size"]]
        img = images.get((name, size))
        if img is None:
            try:
                size_int = int(size)
            except ValueError:
                size_int = -1
            img = ViaImage(name, size_int, [], _parse_csv_cell(row[col["file_attributes"]], where))
            images[(name, size)] = img
        shape = _parse_csv_cell(row[col["region_shape_attributes"]], where)
        if not shape:
            continue  # an image without regions
        raw = {"shape_attributes": shape, "region_attributes": _parse_csv_cell(row[col["region_attributes"]], where)}
        img.regions.append(_region(raw, path, name, len(img.regions)))
    return list(images.values())


def corners_from_regions(image: ViaImage, n_points: int = 4, label: str = "box") -> tuple[np.ndarray | None, str]:
    """The box keypoints of one VIA image: one polyline/polygon region, or a set of point regions.

    Regions whose region_attributes carry `label` (any attribute value equal to it) are preferred;
    without such regions, every point-bearing region counts.
    Returns:
      (points (n_points, 2), "") or (None, reason).
    """
    usable = [r for r in image.regions if r.shape in POINT_SHAPES]
    labelled = [r for r in usable if label in [str(v) for v in r.region_attributes.values()]]
    regions = labelled or usable
    if not regions:
        shapes = sorted({r.shape for r in image.regions})
        return None, "no regions" if not shapes else f"no polyline/polygon/point region (found {', '.join(shapes)})"
    outlines = [r for r in regions if r.shape != "point"]
    if len(outlines) > 1:
        return None, f"{len(outlines)} polyline/polygon regions; expected one box outline"
    pts = outlines[0].points if outlines else np.concatenate([r.points for r in regions])
    if len(pts) != n_points:
        return None, f"wrong number of points: found {len(pts)}, need {n_points}"
    if not np.all(np.isfinite(pts)):
        return None, "points are not finite numbers"
    return pts, ""


def corners_by_stem(path: str | os.PathLike, n_points: int = 4, label: str = "box") -> dict[str, np.ndarray]:
    """{file stem: (n_points, 2)} of a VIA file's images that have a usable box outline (e.g. the predicted corners
    `nie predict keypoints` writes to predictions_via.json); images without one are left out. ValueError (one line)
    for a file that is not VIA."""
    try:
        entries = read_via(path)
    except ViaFormatError as err:
        raise ValueError(str(err)) from None
    out = {}
    for entry in entries:
        pts, _ = corners_from_regions(entry, n_points, label)
        if pts is not None:
            out[Path(entry.filename).stem] = pts
    return out


# ----------------------------------------------------------------------------------------------
# Writing
# ----------------------------------------------------------------------------------------------
def polyline_region(points: np.ndarray, label: str = "box", decimals: int = 2) -> ViaRegion:
    pts = np.asarray(points, dtype=np.float64)
    sa = {
        "name": "polyline",
        "all_points_x": [round(float(x), decimals) for x in pts[:, 0]],
        "all_points_y": [round(float(y), decimals) for y in pts[:, 1]],
    }
    return ViaRegion("polyline", sa, {"label": label})


def via_json_dict(images: list[ViaImage]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for img in images:
        out[img.key] = {
            "filename": img.filename,
            "size": img.size,
            "regions": [{"shape_attributes": r.shape_attributes, "region_attributes": r.region_attributes} for r in img.regions],
            "file_attributes": img.file_attributes,
        }
    return out


def write_via(path: str | os.PathLike, images: list[ViaImage]) -> None:
    """Writes VIA 2 JSON (`filename+size` keys, regions as lists) atomically."""
    write_text_atomic(path, json.dumps(via_json_dict(images), indent=1, ensure_ascii=False) + "\n")
