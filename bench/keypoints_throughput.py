"""Keypoint inference and augmentation throughput on this machine.

1. Inference, images per second of the `keypoints` preset model (weights none: the speed does not depend on
   them), full-size 256 x 192 images in, corners in original pixels out: one reading per image, one image per call
   (the baseline) against batches of 16; and batches of 16 with the default second looks (keypoints/refine.py: the
   mirrored picture and a window around the corners, four readings an image).
2. Augmentation, images per second at the model input size: the albumentations transform in a plain loop
   (the baseline) against the whole training pipeline (keypoints/data.py, tf.data with parallel calls), which
   also decodes and resizes every image (a first pass, nothing cached yet).

Run: `.venv/bin/python bench/keypoints_throughput.py [--n 256] [--repeats 3]`. Writes bench/results/keypoints_throughput.{json,md}.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import cv2  # noqa: E402
from results_io import machine, rates, ratio_table, save  # noqa: E402

import configs  # noqa: E402
from configs import CornerRefineConfig  # noqa: E402
from data.images import read_image  # noqa: E402
from keypoints.augment import augment, build_transform  # noqa: E402
from keypoints.data import list_samples, make_dataset  # noqa: E402
from keypoints.model import build_model  # noqa: E402
from keypoints.refine import PLAIN  # noqa: E402
from keypoints.results import predict_corners  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--data", default="datasets/synth2500")
    args = parser.parse_args()
    data = Path(args.data)
    if not (data / "annotations.json").is_file():
        from data.synth.generate import generate

        data = Path(tempfile.mkdtemp()) / "ds"
        generate(data, args.n, 0, configs.SynthConfig(), progress=False)
    samples = list_samples(data)
    samples = samples.subset([i < args.n for i in range(len(samples.ids))])
    _, cfg = configs.get_preset("keypoints")
    cfg.model.weights = "none"
    model = build_model(cfg)
    images = [read_image(p) for p in samples.images]
    predict_corners(model, images[:16])
    h, w = cfg.data.image_height, cfg.data.image_width
    small = [cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA) for img in images]
    transform = build_transform(cfg.augment, seed=0)
    pts = [c * [w / s[0], h / s[1]] for c, s in zip(samples.corners, samples.sizes, strict=True)]
    n = len(images)
    tests = {
        "inference, 1 image per call (baseline)": lambda: [predict_corners(model, [img], 1, PLAIN) for img in images[:64]],
        "inference, batches of 16": lambda: predict_corners(model, images, 16, PLAIN),
        "inference, batches of 16, refined (flip + a window: the default)": lambda: predict_corners(model, images, 16, CornerRefineConfig()),
        "augmentation, plain loop (baseline)": lambda: [augment(transform, img, p) for img, p in zip(small, pts, strict=True)],
        "augmentation, tf.data pipeline incl. PNG decode + resize (first pass)": lambda: [None for _ in make_dataset(cfg, samples, training=True)],
    }
    med, runs = rates({k: (fn, 64 if "1 image" in k else n) for k, fn in tests.items()}, args.repeats)
    baseline_of = {k: next(b for b in tests if "baseline" in b and b.split(",")[0] == k.split(",")[0]) for k in tests}
    ratio, table = ratio_table(med, baseline_of, "| what | images/s | ratio to its baseline |")
    result = {"machine": machine(),
              "model": f"keypoints preset: MobileNetV2 alpha {cfg.model.alpha}, input {w} x {h}", "images": n,
              "images_per_s": med, "ratio_to_baseline": ratio, "runs": runs}
    lines = [f"# Keypoints throughput\n\n{result['machine']}; {result['model']}; medians of {args.repeats} runs.\n", *table]
    md = "\n".join(lines) + "\n"
    save("keypoints_throughput", result, md)


if __name__ == "__main__":
    main()
