"""How much a corner model's error depends on the texture bank a test set drew (issue 12: robust to rendering it was
not trained on). Every `nie synth` dataset draws its textures from one bank of its seed (README, "Texture banks"),
so one held-out set is one draw of floors and cardboards: this renders `--n` default scenes for each of several new
seeds and scores each model on each seed's scenes, read once (`plain`) and with the second looks that predict and
`nie fill` use by default (`refined`, keypoints/refine.py); the first model read the first way is the baseline.

Run: `.venv/bin/python bench/texture_banks.py [--models models/keypoints.keras OTHER.keras ...] [--seeds 20-27]
[--n 150] [--refine plain refined] [--scenes DIR]` (`--scenes` keeps the rendered sets for the next run). Writes
bench/results/texture_banks.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))


def seed_list(text: str) -> list[int]:
    """'20-27' or '20,23,26' -> the seeds."""
    if "-" in text:
        lo, hi = (int(v) for v in text.split("-"))
        return list(range(lo, hi + 1))
    return [int(v) for v in text.split(",")]


def scenes(root: Path, seed: int, n: int) -> Path:
    """n default scenes of `seed` (one texture bank) under root/seed<seed>, rendered unless already there."""
    import configs
    from data.synth.generate import generate

    out = root / f"seed{seed}"
    if not (out / "meta.jsonl").is_file():
        generate(out, n, seed, configs.SynthConfig(), progress=False)
    return out


def score(model, data: Path, refine) -> dict[str, float]:
    """Mean corner metrics of the model over the dataset's open boxes (shared/conventions.md, section 5)."""
    import numpy as np

    from data.images import read_image
    from data.layout import read_meta
    from keypoints.metrics import keypoint_metrics
    from keypoints.results import corners_with_confidence

    rows = [r for r in read_meta(data / "meta.jsonl") if r.get("open", True)]
    images = [read_image(data / r["image"]) for r in rows]
    corners, _ = corners_with_confidence(model, images, refine=refine)
    per = [keypoint_metrics(p, np.asarray(r["corners"]), (img.shape[1], img.shape[0]))
           for p, r, img in zip(corners, rows, images, strict=True)]
    keys = ("mean_pct_diag", "mean_pct_diag_any_start", "iou")
    return {"n": len(per), **{k: round(float(np.mean([m[k] for m in per])), 3) for k in keys}}


def main() -> None:
    from results_io import machine, save

    from tasks import registry

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["models/keypoints.keras"], help="corner models; the first is the baseline")
    parser.add_argument("--seeds", default="20-27", help="seeds no training set uses, e.g. 20-27 or 20,23")
    parser.add_argument("--n", type=int, default=150, help="scenes per seed")
    parser.add_argument("--refine", nargs="+", choices=("plain", "refined"), default=["plain", "refined"],
                        help="how the corners are read: once, and / or with the default second looks")
    parser.add_argument("--scenes", help="folder for the rendered scenes (kept; default: a temporary folder)")
    args = parser.parse_args()
    root = Path(args.scenes) if args.scenes else Path(tempfile.mkdtemp())
    seeds = seed_list(args.seeds)
    sets = {s: scenes(root, s, args.n) for s in seeds}
    result: dict[str, dict] = {}
    from configs import CornerRefineConfig
    from keypoints.refine import PLAIN

    for path in args.models:
        model = registry.get("keypoints").load(path)
        for mode in args.refine:
            refine = PLAIN if mode == "plain" else CornerRefineConfig()
            result[f"{path} ({mode})"] = {str(s): score(model, d, refine) for s, d in sets.items()}
    for per in result.values():
        values = [v["mean_pct_diag"] for v in per.values()]
        free = [v["mean_pct_diag_any_start"] for v in per.values()]
        per["all"] = {"mean": round(sum(values) / len(values), 3), "worst": max(values), "best": min(values),
                      "mean_any_start": round(sum(free) / len(free), 3), "worst_any_start": max(free),
                      "mean_iou": round(sum(v["iou"] for v in per.values()) / len(per), 3)}
    names = list(result)
    lines = ["# Corner error per texture bank", "",
             f"{machine()}; {args.n} default scenes of each seed {args.seeds} (one texture bank each); mean corner error, "
             "% of the image diagonal (at the best cyclic start in brackets); the first model is the baseline.", "",
             "| seed | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for s in seeds:
        lines.append(f"| {s} | " + " | ".join(f"{result[m][str(s)]['mean_pct_diag']} ({result[m][str(s)]['mean_pct_diag_any_start']})"
                                              for m in names) + " |")
    lines.append("| mean over seeds | " + " | ".join(f"{result[m]['all']['mean']} ({result[m]['all']['mean_any_start']})" for m in names) + " |")
    lines.append("| worst seed | " + " | ".join(f"{result[m]['all']['worst']} ({result[m]['all']['worst_any_start']})" for m in names) + " |")
    lines.append("| mean IoU | " + " | ".join(f"{result[m]['all']['mean_iou']}" for m in names) + " |")
    save("texture_banks", {"machine": machine(), "seeds": seeds, "n": args.n, "models": result}, "\n".join(lines) + "\n")
    print(json.dumps({m: result[m]["all"] for m in names}))


if __name__ == "__main__":
    main()
