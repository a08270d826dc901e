"""Where to set `nie fill`'s two no_box thresholds (`min_corner_confidence`, `min_open_probability`), on calibration
pictures that neither training nor bench/no_box.py uses: open-box scenes (seed 4000), closed boxes and box-free scenes
(seed 4001), noise, gradients, flat colours and black (another random seed than bench/no_box.py's).

Each picture goes once through the gates that need no threshold (the corners make a convex quadrilateral, a rim
pose fits them, the rim fits a box of the size) and gives its mean corner confidence and the fill model's open-box
probability; then every pair of thresholds on a grid gives its no_box rates. Chosen: the pair that says no_box most
often without a box while saying it for at most 1.5 % of the open boxes (issue 13's 2 %, less a margin: the rate
differs more than that between sets of scenes), ties to the lower thresholds. Check the choice on bench/no_box.py's
held-out pictures.

Run: `.venv/bin/python bench/no_box_thresholds.py [--models models] [--open 1000] [--negatives 400]`.
Writes bench/results/no_box_thresholds.{json,md}.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

CONFIDENCE = (0.0, 0.2, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55)
OPEN = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
GOAL_OPEN_NO_BOX = 2.0  # % of open boxes called no_box, at most (issue 13)
MARGIN = 0.5  # % kept below that goal here: held-out sets differ by more (bench/no_box.py's scenes, same thresholds: 2 -> 6 %)


def gate_inputs(paths: list[Path], meta: dict, cfg, models, box) -> list[dict]:
    """Per picture what nie fill's gates read (volume/chain.read_gates): whether a threshold-free check (the corners'
    geometry) already says no_box, the mean corner confidence, the fill model's open probability."""
    import numpy as np

    from data.images import read_image
    from volume.chain import make_photo, read_gates

    rows = []
    for path in paths:
        gates = read_gates(make_photo(path, read_image(path), meta, cfg, box), models, ("learned",), cfg)
        geometry = bool(gates.quad_error or gates.box_error)
        rows.append({"image": path.name, "geometry": geometry, "confidence": float(np.mean(gates.confidence)),
                     "open": float("nan") if gates.open_probability is None else float(gates.open_probability)})
    return rows


def no_box_percent(rows: list[dict], min_confidence: float, min_open: float) -> float:
    said = [r["geometry"] or r["confidence"] < min_confidence or r["open"] < min_open for r in rows]
    return 100.0 * sum(said) / max(1, len(said))


def choose(open_rows: list[dict], free_rows: list[dict]) -> tuple[list[dict], dict]:
    """Every grid pair's rates, and the chosen pair (the best box-free rate within the open-box goal)."""
    grid = [{"min_corner_confidence": c, "min_open_probability": o, "open_no_box": round(no_box_percent(open_rows, c, o), 1),
             "box_free_no_box": round(no_box_percent(free_rows, c, o), 1)} for c in CONFIDENCE for o in OPEN]
    within = [g for g in grid if g["open_no_box"] <= GOAL_OPEN_NO_BOX - MARGIN] or [min(grid, key=lambda g: g["open_no_box"])]
    best = max(within, key=lambda g: (g["box_free_no_box"], -g["min_corner_confidence"], -g["min_open_probability"]))
    return grid, best


def main() -> None:
    from no_box import nonsense
    from results_io import fill_without_classifier, machine, save

    import configs
    from data.layout import read_meta
    from data.synth.generate import generate
    from volume.chain import meta_beside

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="models")
    parser.add_argument("--open", type=int, default=1000, help="open-box scenes (seed 4000)")
    parser.add_argument("--negatives", type=int, default=400, help="closed boxes and box-free scenes (seed 4001)")
    parser.add_argument("--n", type=int, default=25, help="pictures of each nonsense kind")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    generate(tmp / "open", args.open, 4000, configs.SynthConfig(), progress=False)
    _, neg_cfg = configs.get_preset("synth_negatives")
    generate(tmp / "negatives", args.negatives, 4001, neg_cfg, progress=False)
    nonsense(tmp / "nonsense", args.n, seed=1)
    cfg, models = fill_without_classifier(args.models)
    open_rows = gate_inputs(sorted((tmp / "open" / "images").iterdir()), meta_beside(tmp / "open" / "images"), cfg, models, None)
    neg = gate_inputs(sorted((tmp / "negatives" / "images").iterdir()), meta_beside(tmp / "negatives" / "images"), cfg, models, None)
    free = gate_inputs(sorted((tmp / "nonsense").iterdir()), {}, cfg, models, (0.5, 0.4, 0.3))
    kind = {r["id"]: r["scene"] for r in read_meta(tmp / "negatives" / "meta.jsonl")}
    grid, best = choose(open_rows, neg + free)
    pairs = {"chosen": (best["min_corner_confidence"], best["min_open_probability"]),
             "defaults": (cfg.min_corner_confidence, cfg.min_open_probability)}
    now = {"min_corner_confidence": cfg.min_corner_confidence, "min_open_probability": cfg.min_open_probability,
           "open_no_box": round(no_box_percent(open_rows, *pairs["defaults"]), 1),
           "box_free_no_box": round(no_box_percent(neg + free, *pairs["defaults"]), 1)}
    per_kind = {}
    for name, rows in [("closed boxes", [r for r in neg if kind[Path(r["image"]).stem] == "closed"]),
                       ("box-free scenes", [r for r in neg if kind[Path(r["image"]).stem] != "closed"]), ("nonsense pictures", free)]:
        per_kind[name] = {"n": len(rows), **{k: round(no_box_percent(rows, *pair), 1) for k, pair in pairs.items()}}
    geometry = round(100 * sum(r["geometry"] for r in open_rows) / len(open_rows), 1)
    lines = [f"# no_box thresholds on calibration pictures\n\n{machine()}; models {args.models}; {len(open_rows)} open-box scenes "
             f"(seed 4000), {len(neg)} closed boxes and box-free scenes (seed 4001), {len(free)} nonsense pictures. "
             f"{geometry} % of the open boxes are no_box by the geometry gates alone (no threshold).\n",
             "| min_corner_confidence | min_open_probability | open boxes no_box % | box-free no_box % |", "|---|---|---|---|",
             f"| {now['min_corner_confidence']} (defaults) | {now['min_open_probability']} | {now['open_no_box']} | {now['box_free_no_box']} |",
             f"| **{best['min_corner_confidence']}** (chosen) | **{best['min_open_probability']}** | {best['open_no_box']} | {best['box_free_no_box']} |",
             "", "| box-free kind | n | no_box % (chosen) | no_box % (defaults) |", "|---|---|---|---|"]
    lines += [f"| {k} | {v['n']} | {v['chosen']} | {v['defaults']} |" for k, v in per_kind.items()]
    lines += ["", "The whole grid: bench/results/no_box_thresholds.json."]
    save("no_box_thresholds", {"machine": machine(), "models": args.models, "defaults": now, "chosen": best, "per_kind": per_kind,
                               "open_no_box_by_geometry": geometry, "grid": grid}, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
