"""`nie fill` latency per image on this machine, end to end and per stage, with the shipped models (Keras).

Each scene goes through volume.chain.run_photo one at a time, as on a packing line: keypoints, depth,
classifier, then the geometry (both methods timed apart). The baseline is the geometry alone with
ground-truth inputs (`--oracle`), i.e. what the models add. Scenes: 256 x 192, freshly generated.

Run: `.venv/bin/python bench/fill_latency.py [--n 24] [--repeats 3]`. Writes bench/results/fill_latency.{json,md}.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from results_io import machine, save  # noqa: E402

import configs  # noqa: E402
from data.images import read_image  # noqa: E402
from data.synth.generate import generate  # noqa: E402
from volume.chain import load_models, make_photo, meta_beside, run_photo  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=24)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--models", default=str(configs.MODELS_DIR))
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp()) / "ds"
    generate(data, args.n, 4242, configs.SynthConfig(), progress=False)
    cfg = configs.VolumeConfig()
    models = load_models(args.models)
    meta = meta_beside(data / "images")
    photos = [make_photo(p, read_image(p), meta, cfg, None) for p in sorted((data / "images").iterdir())]
    run_photo(photos[0], models, cfg, ("metric",))  # warm-up: graph tracing
    stages: dict[str, list[float]] = {}
    for _ in range(args.repeats):
        per: dict[str, list[float]] = {}
        for photo in photos:
            t0 = time.perf_counter()
            r = run_photo(photo, models, cfg, ("metric",))
            r.seconds["end to end (models + metric geometry)"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            run_photo(photo, None, cfg, ("metric",), oracle=str(data))
            r.seconds["geometry alone, oracle inputs (baseline)"] = time.perf_counter() - t0
            for k, v in r.seconds.items():
                per.setdefault(k, []).append(v * 1000)
        for k, v in per.items():
            stages.setdefault(k, []).append(statistics.median(v))
    med = {k: round(statistics.median(v), 1) for k, v in stages.items()}
    base = med["geometry alone, oracle inputs (baseline)"]
    result = {"machine": machine(),
              "backend": "keras", "images": len(photos), "ms_per_image": med,
              "ratio_to_baseline": {k: round(v / base, 2) for k, v in med.items()}}
    lines = [f"# Fill latency\n\n{result['machine']}; shipped models, Keras; 256 x 192 scenes, one at a time; "
             f"medians over {len(photos)} images and {args.repeats} runs.\n", "| stage | ms per image | ratio to the baseline |", "|---|---|---|"]
    lines += [f"| {k} | {v} | {result['ratio_to_baseline'][k]} |" for k, v in med.items()]
    md = "\n".join(lines) + "\n"
    save("fill_latency", result, md)


if __name__ == "__main__":
    main()
