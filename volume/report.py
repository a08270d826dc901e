"""What `nie fill` writes (shared/conventions.md, section 4): per image <id>.json and <id>.png (the photo with the
opening and the numbers, beside the top-down height map with a colour bar), summary.csv and index.html."""

from __future__ import annotations

import html
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from configs import VolumeConfig
from data.atomic_files import write_csv_atomic, write_text_atomic
from data.contact_sheet import caption, colour_scalar, draw_corners
from data.images import write_image
from data.inputs import ItemReport, iter_images, list_inputs
from volume.chain import READ_ERRORS, Models, Result, make_photo, meta_beside, run_photo

SUMMARY_FIELDS = ["id", "image", "fill", "empty_volume_l", "overfill", "label", "corners"]


def colour_bar(height: int, lo: float, hi: float, width: int = 64) -> np.ndarray:
    """A vertical colour bar (high at the top) with 5 tick labels, in the colours of colour_scalar."""
    ramp = np.linspace(hi, lo, height)[:, None].repeat(14, axis=1)
    bar = np.full((height, width, 3), 255, np.uint8)
    bar[:, 4:18] = colour_scalar(ramp, lo, hi)
    for k in range(5):
        y = int(round(k / 4 * (height - 1)))
        value = hi - k / 4 * (hi - lo)
        cv2.line(bar, (18, y), (22, y), (0, 0, 0), 1)
        cv2.putText(bar, f"{value:.2f}", (24, min(height - 3, max(9, y + 4))), cv2.FONT_HERSHEY_SIMPLEX, 0.32, (0, 0, 0), 1, cv2.LINE_AA)
    return bar


def overlay(result: Result, method: str) -> np.ndarray:
    """Photo with the opening and the numbers | the top-down height map (share of H) with its colour bar."""
    f = result.fills[method]
    photo = draw_corners(result.photo.rgb, result.corners, thickness=max(1, result.photo.rgb.shape[1] // 320))
    lines = [f"fill {100 * f.fill:.1f}%  empty {f.empty_volume_l:.1f} l", f"{result.label}" + (" OVERFILL" if f.overfill else "")]
    caption(photo, lines)
    h = photo.shape[0]
    H = result.photo.lwh[2]
    grid = f.heights / H if method == "metric" else f.heights
    hw = max(8, int(round(h * grid.shape[1] / grid.shape[0])))
    if hw > photo.shape[1]:
        hw = photo.shape[1]
    gh = max(8, int(round(hw * grid.shape[0] / grid.shape[1])))
    hmap = cv2.resize(colour_scalar(np.clip(grid, 0, 1.2), 0.0, 1.2), (hw, gh), interpolation=cv2.INTER_NEAREST)
    panel = np.full((h, hw + 70, 3), 255, np.uint8)
    top = (h - gh) // 2
    panel[top : top + gh, :hw] = hmap
    panel[:, hw + 4 : hw + 68] = colour_bar(h, 0.0, 1.2)
    cv2.putText(panel, "height / H, top-down", (2, max(10, top - 4)), cv2.FONT_HERSHEY_SIMPLEX, 0.35, (0, 0, 0), 1, cv2.LINE_AA)
    return np.hstack([photo, panel])


def record(result: Result, method: str) -> dict[str, Any]:
    f = result.fills[method]
    out = {"id": result.photo.id, "image": result.photo.path.name, "fill": round(f.fill, 6), "empty_volume_l": round(f.empty_volume_l, 3),
           "overfill": f.overfill, "label": result.label, "label_source": result.label_source,
           "corners": [[round(float(x), 2), round(float(y), 2)] for x, y in result.corners], "box_lwh_m": list(result.photo.lwh),
           "method": f.method, "intrinsics": result.photo.K_source,
           "details": {k: (round(v, 6) if isinstance(v, float) else v) for k, v in f.extra.items()},
           "seconds": {k: round(v, 4) for k, v in result.seconds.items()}}
    if result.probability is not None:
        out["probability"] = round(result.probability, 4)
    if len(result.fills) > 1:
        out["by_method"] = {m: {"fill": round(x.fill, 6), "overfill": x.overfill} for m, x in result.fills.items()}
    return out


def summary_row(rec: dict[str, Any]) -> dict[str, Any]:
    return {"id": rec["id"], "image": rec["image"], "fill": f"{rec['fill']:.6f}", "empty_volume_l": f"{rec['empty_volume_l']:.3f}",
            "overfill": str(rec["overfill"]).lower(), "label": rec["label"], "corners": " ".join(f"{v:.2f}" for p in rec["corners"] for v in p)}


def index_html(records: list[dict[str, Any]], title: str) -> str:
    rows = []
    for r in records:
        rows.append(f"<tr><td><a href='{html.escape(r['id'])}.png'><img src='{html.escape(r['id'])}.png' height='140'></a></td>"
                    f"<td>{html.escape(r['id'])}</td><td>{100 * r['fill']:.1f} %</td><td>{r['empty_volume_l']:.1f} l</td>"
                    f"<td>{html.escape(r['label'])}</td><td>{'yes' if r['overfill'] else ''}</td></tr>")
    return ("<!doctype html><html><head><meta charset='utf-8'><title>" + html.escape(title) + "</title><style>"
            "body{font-family:sans-serif}td,th{padding:4px 10px;text-align:left;border-bottom:1px solid #ddd}</style></head><body>"
            f"<h1>{html.escape(title)}</h1><p>{len(records)} images. Each picture: the photo with the box opening, and the "
            "top-down height map (height above the floor / box height) with its colour bar.</p>"
            "<table><tr><th>picture</th><th>id</th><th>fill</th><th>empty</th><th>label</th><th>overfill</th></tr>"
            + "\n".join(rows) + "</table></body></html>\n")


@dataclass
class FillRun:
    report: ItemReport
    records: list[dict[str, Any]]
    seconds: dict[str, float] = field(default_factory=dict)  # total per stage

    def ms_per_image(self) -> dict[str, float]:
        """Mean milliseconds per measured image, per stage."""
        return {k: round(v / max(1, len(self.records)) * 1000, 2) for k, v in self.seconds.items()}


def fill_folder(source: str | os.PathLike, out: str | os.PathLike, cfg: VolumeConfig, models: Models | None, oracle: str | None = None,
                box: tuple[float, float, float] | None = None, methods: tuple[str, ...] | None = None, progress: bool = True,
                write_pictures: bool = True) -> FillRun:
    """`nie fill`: measures every image; one that cannot be measured is skipped with its reason, the rest go on."""
    if (Path(source) / "images").is_dir():  # a dataset root
        source = Path(source) / "images"
    files = list_inputs(source)
    meta = meta_beside(Path(source) if Path(source).is_dir() else Path(source).parent)
    if not meta and oracle:  # photos copied out of the dataset: its meta still has their K and box
        meta = meta_beside(Path(oracle))
    methods = methods or (cfg.method,)
    out_dir = Path(out)
    report = ItemReport()
    records, totals = [], {}
    for path, rgb in iter_images(files, report, "fill", progress):
        t = time.perf_counter()
        try:
            photo = make_photo(path, rgb, meta, cfg, box)
            result = run_photo(photo, models, cfg, methods, oracle)
        except READ_ERRORS as err:
            report.skipped.append((path.name, str(err).splitlines()[0]))
            continue
        rec = record(result, methods[0])
        t_write = time.perf_counter()
        write_text_atomic(out_dir / f"{photo.id}.json", json.dumps(rec, indent=1) + "\n")
        if write_pictures:
            write_image(out_dir / f"{photo.id}.png", overlay(result, methods[0]))
        result.seconds["write"] = time.perf_counter() - t_write
        result.seconds["total"] = time.perf_counter() - t
        for k, v in result.seconds.items():
            totals[k] = totals.get(k, 0.0) + v
        records.append(rec)
        report.done.append(photo.id)
    run = FillRun(report, records, totals)
    if records:
        write_csv_atomic(out_dir / "summary.csv", (summary_row(r) for r in records), SUMMARY_FIELDS)
        write_text_atomic(out_dir / "index.html", index_html(records, f"NIE fill: {Path(source).name}"))
        write_text_atomic(out_dir / "timings.json", json.dumps(run.ms_per_image(), indent=1) + "\n")
    return run
