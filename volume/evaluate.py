"""`nie evaluate fill`: `nie fill` on a dataset's images, scored against its meta.jsonl.

With models, both methods (metric height map, the seed's normalised depth) are run with model inputs and
with the ground-truth (oracle) corners and depth, and compared side by side in methods.md. With --pred, a
summary.csv from any source is scored.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from configs import VolumeConfig
from data.atomic_files import write_bytes_atomic, write_csv_atomic, write_text_atomic
from data.figures import figure_png, pyplot
from data.label_rule import label_for
from data.layout import DatasetPaths, read_meta
from volume.chain import Models
from volume.fill import METHODS
from volume.report import WITH_NUMBERS, fill_folder

FULLY_SEEN = 0.99  # top_visible from which a synthetic scene counts as fully seen


def score(predicted: dict[str, dict[str, Any]], truth: dict[str, dict[str, Any]]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Metrics of the conventions (plus bias_pp, the mean signed error) over the ids in both; per-image rows."""
    rows = []
    for i in sorted(set(predicted) & set(truth)):
        p, t = predicted[i], truth[i]
        rows.append({"id": i, "fill": p["fill"], "true_fill": t["fill"], "err_pp": 100 * (p["fill"] - t["fill"]),
                     "overfill": p["overfill"], "true_overfill": bool(t["overfill"]), "label": p["label"], "true_label": t["label"]})
    if not rows:
        raise ValueError("no prediction matches an image of the dataset")
    err = np.array([r["err_pp"] for r in rows])
    metrics = {"mae_pp": float(np.abs(err).mean()), "max_err_pp": float(np.abs(err).max()), "bias_pp": float(err.mean()), "n": len(rows),
               "overfill_accuracy": float(np.mean([r["overfill"] == r["true_overfill"] for r in rows])),
               "class_accuracy": float(np.mean([r["label"] == r["true_label"] for r in rows]))}
    # synthetic ground truth says how much of the floor's top the camera sees; hidden floor is where the rule guesses
    seen = [abs(r["err_pp"]) for r in rows if truth[r["id"]].get("top_visible", 0) >= FULLY_SEEN]
    if seen:
        metrics["fully_seen"] = {"mae_pp": float(np.mean(seen)), "n": len(seen), "top_visible_at_least": FULLY_SEEN}
    return metrics, rows


def read_summary(path: str | os.PathLike) -> dict[str, dict[str, Any]]:
    """summary.csv (`nie fill`) -> {id: {fill, overfill, label}} of the rows with numbers (status measured or
    uncertain; a summary without a status column has numbers in every row)."""
    try:
        reader = csv.DictReader(io.StringIO(Path(path).read_text()))
        out = {r["id"]: {"fill": float(r["fill"]), "overfill": r["overfill"].strip().lower() in ("true", "1", "yes"), "label": r["label"]}
               for r in reader if r.get("status", "measured") in WITH_NUMBERS}
    except (KeyError, ValueError, AttributeError) as err:
        raise ValueError(f"{path}: not a summary.csv of nie fill (columns id, fill, overfill, label needed; {err})") from None
    return out


def _by_method(records: list[dict[str, Any]], method: str, cfg: VolumeConfig) -> dict[str, dict[str, Any]]:
    """Per photo id the method's fill, overfill and label; photos where that method alone failed are left out."""
    out = {}
    for r in records:
        m = r.get("by_method", {}).get(method, {"fill": r["fill"], "overfill": r["overfill"]})
        if "failed" in m:
            continue
        label = label_for(m["fill"], m["overfill"], cfg.label_rule)
        out[r["id"]] = {"fill": m["fill"], "overfill": m["overfill"], "label": label}
    return out


def _plots(out: Path, rows: list[dict[str, Any]], title: str) -> None:
    plt = pyplot()
    true = np.array([r["true_fill"] for r in rows]) * 100
    pred = np.array([r["fill"] for r in rows]) * 100
    fig, ax = plt.subplots(figsize=(4.8, 4.6), constrained_layout=True)
    ax.scatter(true, pred, s=10, alpha=0.6)
    ax.plot([0, 100], [0, 100], color="grey", lw=0.8)
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 100)
    ax.set_xlabel("true fill, %")
    ax.set_ylabel("predicted fill, %")
    ax.set_title(title, fontsize=9)
    write_bytes_atomic(out / "scatter.png", figure_png(fig))
    fig, ax = plt.subplots(figsize=(5.5, 3.6), constrained_layout=True)
    ax.hist(pred - true, bins=40, color="tab:blue")
    ax.set_xlabel("fill error, percentage points (predicted - true)")
    ax.set_ylabel("images")
    write_bytes_atomic(out / "error_histogram.png", figure_png(fig))


def _write(out: Path, metrics: dict[str, Any], rows: list[dict[str, Any]], title: str) -> None:
    write_text_atomic(out / "metrics.json", json.dumps(metrics, indent=1) + "\n")
    write_csv_atomic(out / "per_image.csv", ({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()} for r in rows), list(rows[0]))
    _plots(out, rows, title)


def evaluate(data: str, out: str, cfg: VolumeConfig, models: Models | None = None, pred: str | None = None,
             progress: bool = True) -> dict[str, Any]:
    """Writes out/metrics.json (the main method with models, or the --pred summary), per_image.csv, scatter.png,
    error_histogram.png; with models also out/methods.md and out/fill/ (the `nie fill` report)."""
    paths = DatasetPaths(Path(data))
    if not paths.meta.is_file():
        raise FileNotFoundError(f"{data}: no meta.jsonl with the true fill to score against")
    truth = {r["id"]: r for r in read_meta(paths.meta) if "fill" in r}
    if not truth:
        raise ValueError(f"{data}: meta.jsonl gives no true fill (imported photos?): nie evaluate fill scores scenes whose fill is "
                         "known; nie fill measures photos")
    out_dir = Path(out)
    if pred:
        metrics, rows = score(read_summary(pred), truth)
        metrics["source"] = {"kind": "pred", "path": str(pred)}
        _write(out_dir, metrics, rows, f"{Path(pred).name}: MAE {metrics['mae_pp']:.2f} pp")
        return metrics
    if models is None:
        raise ValueError("give --model (a models folder) or --pred (a summary.csv)")
    methods = (cfg.method, *(m for m in METHODS if m != cfg.method))  # the configured one first: the report shows it
    # the oracle run: exact corners and depth, and the fill model (if any) on the exact corners
    oracle_models = Models(fillnet=models.fillnet) if models.fillnet is not None else None
    runs = {"models": fill_folder(paths.images, out_dir / "fill", cfg, models, methods=methods, progress=progress),
            "oracle": fill_folder(paths.images, out_dir / "oracle", cfg, oracle_models, oracle=str(paths.root), methods=methods,
                                  progress=progress, write_pictures=False)}
    table = {}
    for inputs, run in runs.items():
        for method in methods:
            answers = _by_method(run.records, method, cfg)
            if answers:
                m, rows = score(answers, truth)
                table[f"{method} / {inputs}"] = (m, rows, len(run.report.skipped) + len(run.records) - len(answers))
    if f"{cfg.method} / models" not in table:
        raise ValueError(f"{data}: no image could be measured with the models ({len(runs['models'].report.skipped)} skipped)")
    main, rows, _ = table[f"{cfg.method} / models"]
    metrics = {**main, "method": cfg.method, "skipped": [{"id": n, "reason": r} for n, r in runs["models"].report.skipped],
               "methods": {k: {**m, "skipped": s} for k, (m, _, s) in table.items()},
               "ms_per_image": runs["models"].ms_per_image()}
    _write(out_dir, metrics, rows, f"{cfg.method} method, model inputs: MAE {main['mae_pp']:.2f} pp")
    lines = ["| method / inputs | mae_pp | max_err_pp | bias_pp | overfill_accuracy | class_accuracy | n | skipped | mae_pp, fully seen (n) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for k, (m, _, s) in table.items():
        fs = m.get("fully_seen")
        seen = f"{fs['mae_pp']:.2f} ({fs['n']})" if fs else "-"
        lines.append(f"| {k} | {m['mae_pp']:.2f} | {m['max_err_pp']:.1f} | {m['bias_pp']:+.2f} | {m['overfill_accuracy']:.3f} | "
                     f"{m['class_accuracy']:.3f} | {m['n']} | {s} | {seen} |")
    write_text_atomic(out_dir / "methods.md", "\n".join(lines) + "\n")
    return metrics
