"""`nie predict keypoints` over a folder with the shipped corner model: a JSON and a drawn picture per image (the
baseline, `results.pictures=true`) against the JSON alone (`results.pictures=false`, for big folders such as the
fill model's training scenes), and that with the photos decoded in turn instead of by background threads ahead of
the model (`decode_ahead=0`). Everything `predict_folder` does counts: reading, the model in batches of 32, writing.

Run: `.venv/bin/python bench/predict_folder.py [--data datasets/eval1000] [--n 128] [--repeats 3]` (without that
folder: 100 rendered scenes of seed 1000). Writes bench/results/predict_folder.{json,md}.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from results_io import held_out_scenes, machine, rates, ratio_table, save  # noqa: E402

import configs  # noqa: E402
from keypoints.results import DECODE_AHEAD, predict_folder  # noqa: E402

MODEL = Path(__file__).resolve().parents[1] / "models" / "keypoints.keras"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="datasets/eval1000")
    parser.add_argument("--n", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        scenes = held_out_scenes(args.data, Path(tmp))
        folder = Path(tmp) / "photos"
        folder.mkdir()
        for path in sorted((scenes / "images").iterdir())[: args.n]:
            shutil.copy(path, folder / path.name)
        n = len(list(folder.iterdir()))

        def run(pictures: bool, ahead: int = DECODE_AHEAD) -> None:
            cfg = configs.apply_overrides(configs.default_config("keypoints"), [f"results.pictures={str(pictures).lower()}"])
            out = Path(tmp) / "out"
            shutil.rmtree(out, ignore_errors=True)
            report = predict_folder(str(MODEL), str(folder), str(out), cfg, progress=False, decode_ahead=ahead)
            assert len(report.done) == n

        run(False)  # the model loaded and warmed once before any timing
        tests = {"JSON + picture per image (baseline)": (lambda: run(True), n), "JSON only (results.pictures=false)": (lambda: run(False), n),
                 "JSON only, photos decoded in turn (decode_ahead=0)": (lambda: run(False, 0), n)}
        med, runs = rates(tests, args.repeats)
    ratio, table = ratio_table(med, "JSON + picture per image (baseline)", "| writes | images/s | ratio to the baseline |")
    result = {"machine": machine(), "model": "models/keypoints.keras", "images": n, "images_per_s": med,
              "ratio_to_baseline": ratio, "runs": runs}
    lines = [f"# nie predict keypoints over a folder\n\n{result['machine']}; the shipped corner model, {n} photos of "
             f"256 x 192, batches of 32, {DECODE_AHEAD} decoded ahead unless said (model loading included); medians of {args.repeats} runs.\n", *table]
    save("predict_folder", result, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
