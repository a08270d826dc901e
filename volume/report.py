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

from configs import LabelRule, VolumeConfig
from data.atomic_files import write_csv_atomic, write_text_atomic
from data.box_pose import GeometryError
from data.contact_sheet import caption, colour_scalar, draw_corners
from data.images import read_image_scaled, write_image
from data.inputs import ItemReport, list_inputs
from volume.chain import READ_ERRORS, Models, Result, make_photo, meta_beside, run_photo
from volume.checks import NoBox

SUMMARY_FIELDS = ["id", "image", "status", "reason", "fill", "fill_low", "fill_high", "empty_volume_l", "overfill", "label", "method",
                  "corners"]


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


WITH_NUMBERS = ("measured", "uncertain")  # the statuses whose rows carry a fill (conventions section 4)
PICTURE_MAX_SIDE = 640  # px of the photo in each report picture: a phone photo's picture stays well under 1 MB


def overlay(result: Result, method: str) -> np.ndarray:
    """Photo with the opening and the numbers | the top-down height map (share of H) with a legend.

    The panel is fitted into the photo's height whatever the box's aspect ratio (a long, narrow box's map is
    taller than wide)."""
    f = result.fills[method]
    rgb, corners = result.photo.rgb, result.corners
    scale = min(1.0, PICTURE_MAX_SIDE / max(rgb.shape[:2]))
    if scale < 1:
        rgb = cv2.resize(rgb, (max(1, int(round(rgb.shape[1] * scale))), max(1, int(round(rgb.shape[0] * scale)))), interpolation=cv2.INTER_AREA)
        corners = (np.asarray(corners) + 0.5) * scale - 0.5
    photo = draw_corners(rgb, corners, thickness=max(1, rgb.shape[1] // 320))
    low, high = f.extra.get("fill_low"), f.extra.get("fill_high")
    span = f" ({100 * low:.0f}-{100 * high:.0f}%)" if low is not None and high is not None else ""
    lines = [f"fill {100 * f.fill:.1f}%{span}", f"empty {f.empty_volume_l:.1f} l", f"{result.label}" + (" OVERFILL" if f.overfill else "")]
    caption(photo, lines)
    h = photo.shape[0]
    H = result.photo.lwh[2]
    grid = f.heights / H if method == "metric" else f.heights
    legend_h = 30
    room_h, room_w = max(8, h - legend_h - 14), photo.shape[1]
    fit = min(room_w / grid.shape[1], room_h / grid.shape[0])
    hw, gh = max(4, int(grid.shape[1] * fit)), max(4, int(grid.shape[0] * fit))
    hmap = cv2.resize(colour_scalar(np.clip(grid, 0, 1.2), 0.0, 1.2), (hw, gh), interpolation=cv2.INTER_NEAREST)
    panel = np.full((h, hw + 70, 3), 255, np.uint8)
    top = 12
    panel[top : top + gh, :hw] = hmap
    panel[:, hw + 4 : hw + 68] = colour_bar(h, 0.0, 1.2)
    cv2.putText(panel, "height / H, from above", (2, 9), cv2.FONT_HERSHEY_SIMPLEX, 0.33, (0, 0, 0), 1, cv2.LINE_AA)
    for k, text in enumerate(("black: floor (empty); 1.0 = rim (H)", "above 1.0: over the rim")):
        cv2.putText(panel, text, (2, min(h - 3, top + gh + 11 + 11 * k)), cv2.FONT_HERSHEY_SIMPLEX, 0.3, (0, 0, 0), 1, cv2.LINE_AA)
    return np.hstack([photo, panel])


def record(result: Result, method: str, rule: LabelRule) -> dict[str, Any]:
    """The <id>.json of one measured photo (corners in the stored photo's pixels)."""
    f = result.fills[method]
    photo = result.photo
    out = {"id": photo.id, "image": photo.path.name, "status": "uncertain" if result.uncertain else "measured",
           "reason": "; ".join(result.uncertain), "fill": round(f.fill, 6),
           "fill_low": round(f.extra.get("fill_low", f.fill), 6), "fill_high": round(f.extra.get("fill_high", f.fill), 6),
           "empty_volume_l": round(f.empty_volume_l, 3), "overfill": f.overfill, "label": result.label,
           "label_reason": label_reason(f.overfill, result.label, rule),
           "corners": [[round(float(x), 2), round(float(y), 2)] for x, y in photo.to_full(result.corners)], "box_lwh_m": list(photo.lwh),
           "box_source": photo.box_source, "method": f.method, "intrinsics": photo.K_source,
           "details": {k: (round(v, 6) if isinstance(v, float) else v) for k, v in f.extra.items()},
           "seconds": {k: round(v, 4) for k, v in result.seconds.items()}}
    if result.confidence is not None:
        out["corner_confidence"] = [round(float(c), 3) for c in result.confidence]
    if result.classifier_label is not None:
        out["classifier"] = {"label": result.classifier_label, "probability": round(result.probability, 4),
                             "agrees": result.classifier_label == result.label}
    if photo.truth and "fill" in photo.truth:
        out["true_fill"] = photo.truth["fill"]
    if len(result.fills) + len(result.failed) > 1:
        out["by_method"] = {m: {"fill": round(x.fill, 6), "overfill": x.overfill} for m, x in result.fills.items()}
        out["by_method"].update({m: {"failed": reason} for m, reason in result.failed.items()})
    return out


def label_reason(overfill: bool, label: str, rule: LabelRule) -> str:
    """Why the label rule gave this label."""
    if overfill and rule.nok_if_overfill:
        return "content over the rim"
    if label == "NOK":
        return f"fill under {100 * rule.nok_below_fill:.0f} %"
    return f"fill at least {100 * rule.nok_below_fill:.0f} %" + (", nothing over the rim" if rule.nok_if_overfill else "")


def unmeasured(path: Path, photo_id: str, status: str, reason: str) -> dict[str, Any]:
    """The row of a photo without numbers: no_box or error."""
    return {"id": photo_id, "image": path.name, "status": status, "reason": reason}


def unique_ids(files: list[Path]) -> dict[Path, str]:
    """An id per file: its stem, or stem_suffix where two files share a stem (box.jpg, box.png -> box_jpg, box_png)."""
    stems: dict[str, int] = {}
    for p in files:
        stems[p.stem] = stems.get(p.stem, 0) + 1
    ids, taken = {}, set()
    for p in files:
        base = p.stem if stems[p.stem] == 1 else f"{p.stem}_{p.suffix.lstrip('.').lower()}"
        candidate, k = base, 1
        while candidate in taken:
            k += 1
            candidate = f"{base}_{k}"
        taken.add(candidate)
        ids[p] = candidate
    return ids


def check_output_folder(source: str | os.PathLike, out: str | os.PathLike) -> None:
    """`nie fill` never writes into its input: the output folder must not be the input folder nor lie inside it (for
    a single photo, the folder holding it)."""
    src = Path(source).resolve()
    folder = src if src.is_dir() else src.parent
    target = Path(out).resolve()
    if target == folder or folder in target.parents:
        raise ValueError(f"--out {out} is inside the input folder {folder}: choose an output folder elsewhere (nie fill never writes into its input)")


def summary_row(rec: dict[str, Any]) -> dict[str, Any]:
    row = {"id": rec["id"], "image": rec["image"], "status": rec["status"], "reason": rec.get("reason", "")}
    if rec["status"] in WITH_NUMBERS:
        row.update({"fill": f"{rec['fill']:.6f}", "fill_low": f"{rec['fill_low']:.6f}", "fill_high": f"{rec['fill_high']:.6f}",
                    "empty_volume_l": f"{rec['empty_volume_l']:.3f}", "overfill": str(rec["overfill"]).lower(), "label": rec["label"],
                    "method": rec["method"], "corners": " ".join(f"{v:.2f}" for p in rec["corners"] for v in p)})
    return row


SORT_SCRIPT = """
function sortBy(col, numeric) {
  const body = document.querySelector('#rows tbody');
  const rows = Array.from(body.rows);
  const th = document.querySelectorAll('#rows th')[col];
  const dir = th.dataset.dir === 'asc' ? 'desc' : 'asc';
  document.querySelectorAll('#rows th').forEach(h => delete h.dataset.dir);
  th.dataset.dir = dir;
  rows.sort((a, b) => {
    const x = a.cells[col].dataset.key, y = b.cells[col].dataset.key;
    const c = numeric ? (parseFloat(x) - parseFloat(y)) : x.localeCompare(y);
    return dir === 'asc' ? c : -c;
  });
  rows.forEach(r => body.appendChild(r));
}
// index.html#sort=fill (or #sort=fill-desc, #sort=status, #sort=id): open the page already sorted
window.addEventListener('DOMContentLoaded', () => {
  const m = location.hash.match(/sort=([a-z_ ]+?)(-desc)?$/);
  if (!m) return;
  const th = Array.from(document.querySelectorAll('#rows th')).find(h => h.dataset.name === m[1]);
  if (!th) return;
  th.click();
  if (m[2]) th.click();
});
"""

STYLE = ("body{font-family:sans-serif;margin:16px}td,th{padding:4px 8px;text-align:left;border-bottom:1px solid #ddd;vertical-align:top}"
         "th{cursor:pointer;background:#f4f4f4;position:sticky;top:0}th[data-dir=asc]::after{content:' \\25B2'}"
         "th[data-dir=desc]::after{content:' \\25BC'}tr.nok{background:#fff0f0}tr.error{background:#ffe0e0}tr.no_box{background:#f0f0f0;color:#555}"
         ".big{font-size:120%;font-weight:bold}.counts span{margin-right:18px}"
         ".flag{color:#b00;font-weight:bold}.small{font-size:85%;color:#555}td:nth-child(4),td:nth-child(5){white-space:nowrap}")


def index_html(run: FillRun, title: str, cfg: VolumeConfig, pictures: bool = True) -> str:
    """The report page: counts and the NOK rule at the top, then one sortable row per input file."""
    esc = html.escape
    counts = run.counts()
    nok = sum(1 for r in run.records if r["label"] == "NOK")
    rule = cfg.label_rule
    header = (f"<div class='counts big'><span>{len(run.rows)} photos</span><span>{counts['measured'] + counts['uncertain']} measured"
              f" ({counts['uncertain']} uncertain)</span><span>{nok} NOK</span><span>{counts['no_box']} no box</span>"
              f"<span>{counts['error']} errors</span></div>"
              f"<p>NOK when the fill is under {100 * rule.nok_below_fill:.0f} %"
              + (" or content sticks out over the rim (overfill)" if rule.nok_if_overfill else "") + ". "
              "Fill is the share of the box's inner volume below the topmost content; the range beside it is what the photo "
              "allows where the floor is hidden. <i>uncertain</i>: measured, but a check failed (the reason says which); "
              "<i>no box</i>: no open box was found.</p>")
    if run.internal_errors:
        header += (f"<p class='flag'>{run.internal_errors} photos failed through a fault of the program (see their reason; "
                   "run again with NIE_DEBUG=1 for the traceback, and report it).</p>")
    columns = [("picture", None), ("id", False), ("status", False), ("fill", True), ("empty", True), ("label", False),
               ("classifier", False), ("true fill", True), ("method", False), ("box, K", False), ("reason", False)]
    head = "".join(f"<th data-name='{esc(name)}' onclick='sortBy({i}, {str(num).lower()})'>{esc(name)}</th>" if num is not None
                   else f"<th>{esc(name)}</th>" for i, (name, num) in enumerate(columns))
    body = []
    for r in run.rows:
        status = r["status"]
        measured = status in WITH_NUMBERS
        cls = status if not measured else ("nok" if r["label"] == "NOK" else "ok")
        pic = (f"<a href='{esc(r['id'])}.png'><img src='{esc(r['id'])}.png' height='150'></a>" if measured and pictures else "")
        if measured:
            fill = (f"<span class='big'>{100 * r['fill']:.0f} %</span><br><span class='small'>"
                    f"({100 * r['fill_low']:.0f}-{100 * r['fill_high']:.0f} %)</span>")
            label = f"<b>{esc(r['label'])}</b>{' OVERFILL' if r['overfill'] else ''}<br><span class='small'>{esc(r['label_reason'])}</span>"
            c = r.get("classifier")
            opinion = (f"{esc(c['label'])} {100 * c['probability']:.0f} %" + ("" if c["agrees"] else " <span class='flag'>disagrees</span>")
                       if c else "")
            truth = f"{100 * r['true_fill']:.0f} %" if "true_fill" in r else ""
            box = (f"{'x'.join(f'{v:.2f}' for v in r['box_lwh_m'])} m ({esc(r['box_source'])})<br>"
                   f"<span class='small'>K: {esc(r['intrinsics'])}</span>")
            cells = [(pic, ""), (esc(r["id"]), r["id"]), (esc(status), status), (fill, f"{r['fill']:.6f}"),
                     (f"{r['empty_volume_l']:.1f} l", f"{r['empty_volume_l']:.3f}"), (label, r["label"]), (opinion, opinion),
                     (truth, f"{r.get('true_fill', -1)}"), (esc(r["method"]), r["method"]), (box, ""), (esc(r["reason"]), r["reason"])]
        else:
            cells = [("", ""), (esc(r["id"]), r["id"]), (esc(status), status), ("", "-1"), ("", "-1"), ("", ""), ("", ""), ("", "-1"),
                     ("", ""), ("", ""), (esc(r["reason"]), r["reason"])]
        tds = "".join(f"<td class='{('status' if k == 2 else '')}' data-key='{esc(str(key))}'>{content}</td>"
                      for k, (content, key) in enumerate(cells))
        body.append(f"<tr class='{cls}'>{tds}</tr>")
    legend = ("<p class='small'>Each picture: the photo with the box opening (corner 1 first), and the box seen from above: "
              "height of the topmost content over the floor as a share of the box height H (black = empty floor, 1.0 = the rim, "
              "above 1.0 = over the rim). Click a column title to sort.</p>")
    return ("<!doctype html><html><head><meta charset='utf-8'><title>" + esc(title) + f"</title><style>{STYLE}</style>"
            f"<script>{SORT_SCRIPT}</script></head><body><h1>{esc(title)}</h1>{header}{legend}"
            f"<table id='rows'><thead><tr>{head}</tr></thead><tbody>" + "\n".join(body) + "</tbody></table></body></html>\n")


@dataclass
class FillRun:
    report: ItemReport  # done: ids measured (or uncertain); skipped: (file name, reason) of no_box and error rows
    records: list[dict[str, Any]]  # the measured and uncertain rows
    seconds: dict[str, float] = field(default_factory=dict)  # total per stage
    rows: list[dict[str, Any]] = field(default_factory=list)  # every input file's row, in input order
    internal_errors: int = 0  # failures that are the program's fault (NIE_DEBUG=1 shows their tracebacks)

    def ms_per_image(self) -> dict[str, float]:
        """Mean milliseconds per measured image, per stage."""
        return {k: round(v / max(1, len(self.records)) * 1000, 2) for k, v in self.seconds.items()}

    def counts(self) -> dict[str, int]:
        out = {"measured": 0, "uncertain": 0, "no_box": 0, "error": 0}
        for r in self.rows:
            out[r["status"]] += 1
        return out


def fill_folder(source: str | os.PathLike, out: str | os.PathLike, cfg: VolumeConfig, models: Models | None, oracle: str | None = None,
                box: tuple[float, float, float] | None = None, methods: tuple[str, ...] | None = None, progress: bool = True,
                write_pictures: bool = True, title: str | None = None) -> FillRun:
    """`nie fill`: one row per input file; a photo that cannot be measured becomes a no_box or error row with its
    reason and the rest go on. A failure that is the program's fault is counted and reported too (its traceback
    with NIE_DEBUG=1), never silently swallowed."""
    from tqdm import tqdm

    given = Path(source)
    if (given / "images").is_dir():  # a dataset root
        source = given / "images"
    check_output_folder(given, out)
    files = list_inputs(source)
    ids = unique_ids(files)
    meta = meta_beside(Path(source) if Path(source).is_dir() else Path(source).parent)
    if not meta and oracle:  # photos copied out of the dataset: its meta still has their K and box
        meta = meta_beside(Path(oracle))
    methods = methods or (cfg.method,)
    out_dir = Path(out)
    run = FillRun(ItemReport(), [])
    for path in tqdm(files, desc="fill", unit="img", disable=not progress or len(files) < 2):
        t = time.perf_counter()
        try:
            rgb, full_wh = read_image_scaled(path, cfg.work_max_side)
            photo = make_photo(path, rgb, meta, cfg, box, ids[path], full_wh)
            result = run_photo(photo, models, cfg, methods, oracle)
            rec = record(result, methods[0], cfg.label_rule)
            t_write = time.perf_counter()
            if write_pictures:
                write_image(out_dir / f"{photo.id}.png", overlay(result, methods[0]))
        except NoBox as err:
            rec = unmeasured(path, ids[path], "no_box", str(err))
        except READ_ERRORS as err:
            reason = str(err).splitlines()[0] if str(err) else type(err).__name__
            rec = unmeasured(path, ids[path], "no_box" if isinstance(err, GeometryError) else "error", reason)
        except Exception as err:  # the program's fault: reported, counted, and the run goes on
            if os.environ.get("NIE_DEBUG"):
                raise
            run.internal_errors += 1
            first = str(err).splitlines()[0] if str(err) else ""
            rec = unmeasured(path, ids[path], "error", f"internal error ({type(err).__name__}: {first}); NIE_DEBUG=1 shows the traceback")
        write_text_atomic(out_dir / f"{rec['id']}.json", json.dumps(rec, indent=1) + "\n")
        run.rows.append(rec)
        if rec["status"] in WITH_NUMBERS:
            result.seconds["write"] = time.perf_counter() - t_write
            result.seconds["total"] = time.perf_counter() - t
            for k, v in result.seconds.items():
                run.seconds[k] = run.seconds.get(k, 0.0) + v
            run.records.append(rec)
            run.report.done.append(rec["id"])
        else:
            run.report.skipped.append((path.name, f"{rec['status']}: {rec['reason']}"))
    write_csv_atomic(out_dir / "summary.csv", (summary_row(r) for r in run.rows), SUMMARY_FIELDS)
    write_text_atomic(out_dir / "index.html", index_html(run, title or f"NIE fill: {given.name}", cfg, write_pictures))
    if run.records:
        write_text_atomic(out_dir / "timings.json", json.dumps(run.ms_per_image(), indent=1) + "\n")
    return run
