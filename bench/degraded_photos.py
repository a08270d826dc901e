"""How much a camera's blur and JPEG compression cost `nie fill` (issue 12: photos as cameras deliver them): the
held-out scenes as rendered, and the same scenes blurred and saved as JPEG, measured with the same models in the
same run (the clean row is the baseline).

Run: `.venv/bin/python bench/degraded_photos.py [--models models] [--data datasets/eval1000]`.
Writes bench/results/degraded_photos.{json,md}.
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

SETTINGS = {"as rendered (PNG)": (0.0, 0), "JPEG quality 80": (0.0, 80), "blur 0.8 px + JPEG quality 50": (0.8, 50)}


def degraded_copy(data: Path, out: Path, sigma: float, quality: int) -> Path:
    """The dataset's photos blurred by `sigma` px and saved as JPEG at `quality` under out/images, with its meta.jsonl
    pointing at them (K, box size and truth unchanged)."""
    import cv2

    from data.layout import DatasetPaths, read_meta, write_meta

    src, dst = DatasetPaths(data), DatasetPaths(out)
    dst.images.mkdir(parents=True)
    rows = []
    for row in read_meta(src.meta):
        bgr = cv2.imread(str(data / row["image"]))
        if sigma > 0:
            bgr = cv2.GaussianBlur(bgr, (0, 0), sigma)
        name = f"{Path(row['image']).stem}.jpg"
        cv2.imwrite(str(dst.images / name), bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
        rows.append(dict(row, image=f"images/{name}"))
    write_meta(dst.meta, rows)
    return out


def scores(rows: list[dict], truth: dict[str, dict], rule) -> dict:
    from data.label_rule import label_for

    measured = [r for r in rows if r["status"] in ("measured", "uncertain")]
    errors = [abs(r["fill"] - truth[r["id"]]["fill"]) * 100 for r in measured]
    right = [label_for(r["fill"], bool(r["overfill"]), rule) == label_for(truth[r["id"]]["fill"], truth[r["id"]]["overfill"], rule)
             for r in measured]
    return {"n": len(rows), "measured": len(measured), "no_box": sum(r["status"] == "no_box" for r in rows),
            "mae_pp": round(sum(errors) / max(1, len(errors)), 2), "ok_nok_right_pct": round(100 * sum(right) / max(1, len(right)), 1)}


def main() -> None:
    from results_io import fill_without_classifier, held_out_scenes, machine, save

    from data.layout import read_meta
    from volume.report import fill_folder

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="models")
    parser.add_argument("--data", default="datasets/eval1000", help="held-out scenes (made if missing: 100 of seed 1000)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    data = held_out_scenes(args.data, tmp)
    truth = {r["id"]: r for r in read_meta(data / "meta.jsonl")}
    cfg, models = fill_without_classifier(args.models)
    result = {}
    for i, (name, (sigma, quality)) in enumerate(SETTINGS.items()):
        source = data if quality == 0 else degraded_copy(data, tmp / f"degraded{i}", sigma, quality)
        run = fill_folder(source, tmp / f"out{i}", cfg, models, write_pictures=False)
        result[name] = scores(run.rows, truth, cfg.label_rule)
    lines = ["# nie fill on degraded photos", "",
             f"{machine()}; models {args.models}; {len(truth)} held-out scenes ({args.data}); the same scenes in every row.", "",
             "| photos | mae_pp | OK/NOK right % | no_box of n |", "|---|---|---|---|"]
    lines += [f"| {k} | {v['mae_pp']} | {v['ok_nok_right_pct']} | {v['no_box']} of {v['n']} |" for k, v in result.items()]
    save("degraded_photos", {"machine": machine(), "models": args.models, "data": str(args.data), "settings": result},
         "\n".join(lines) + "\n")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
