"""Classifier inference speed on this machine: images per second of the `classifier` preset model (EfficientNetB0
at 128 x 96; weights none: the speed does not depend on them), full-size 256 x 192 images in, probabilities out.
One image per call (the baseline) against batches of 32, and the default 224 x 224 model batched.

Run: `.venv/bin/python bench/classifier_inference.py [--n 128] [--repeats 3]`. Writes bench/results/classifier_inference.{json,md}.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from results_io import machine, rates, ratio_table, save  # noqa: E402

import configs  # noqa: E402
from classifier.model import build_model  # noqa: E402
from classifier.results import predict_probabilities  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 255, (192, 256, 3), dtype=np.uint8) for _ in range(args.n)]
    _, preset = configs.get_preset("classifier")
    default = configs.ClassifierConfig()
    default.model.weights = "none"
    models = {"preset 128x96": build_model(preset), "default 224x224": build_model(default)}
    for m in models.values():
        predict_probabilities(m, images[:32])
    one = images[: max(8, args.n // 4)]
    tests = {
        "preset 128x96, 1 image per call (baseline)": (lambda: [predict_probabilities(models["preset 128x96"], [i], 1) for i in one], len(one)),
        "preset 128x96, batches of 32": (lambda: predict_probabilities(models["preset 128x96"], images, 32), len(images)),
        "default 224x224, batches of 32": (lambda: predict_probabilities(models["default 224x224"], images, 32), len(images)),
    }
    med, runs = rates(tests, args.repeats)
    ratio, table = ratio_table(med, "preset 128x96, 1 image per call (baseline)", "| what | images/s | ratio to the baseline |")
    result = {"machine": machine(),
              "images_per_s": med, "ratio_to_baseline": ratio, "runs": runs}
    lines = [f"# Classifier inference\n\n{result['machine']}; EfficientNetB0, 256 x 192 images in; medians of {args.repeats} runs.\n",
             *table]
    md = "\n".join(lines) + "\n"
    save("classifier_inference", result, md)


if __name__ == "__main__":
    main()
