"""Images per second of the NumPy colour jitter (training/colour_jitter.py) that every PyDataset loader applies per
sample: the four steps in turn with NumPy (the baseline: how it was written until 2026-11-27) against the composed
3 x 4 matrix applied by OpenCV (what the loaders use now). Sizes: the fill model's 96 x 96 opening and a 256 x 192
photo (the corner, depth and classifier loaders). On the fill model's CPU training the jitter was the largest single
cost of a sample (about 2 of 5 ms, profiled).

Run: `.venv/bin/python bench/colour_jitter.py [--repeats 5]`. Writes bench/results/colour_jitter.{json,md}.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from results_io import machine, rates, save  # noqa: E402

from training.colour_jitter import LUMA, apply_colour_np, hue_matrices  # noqa: E402


def steps_in_turn(images, shift, contrast, saturation, angle, value_range):
    """The baseline: brightness, contrast, saturation and hue as separate NumPy passes over the batch."""
    col = (-1, 1, 1, 1)
    images = images.astype(np.float32) + shift.reshape(col).astype(np.float32) * value_range
    mean = images.mean(axis=(1, 2), keepdims=True)
    images = (images - mean) * contrast.reshape(col).astype(np.float32) + mean
    grey = (images * LUMA).sum(-1, keepdims=True)
    images = grey + (images - grey) * saturation.reshape(col).astype(np.float32)
    flat = images.reshape(images.shape[0], -1, 3) @ np.transpose(hue_matrices(angle), (0, 2, 1))
    return np.clip(flat.reshape(images.shape), 0.0, value_range)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--calls", type=int, default=300, help="single-image calls per timed run")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    factors = (np.array([0.05]), np.array([1.1]), np.array([0.9]), np.array([0.1]))
    result = {"machine": machine(), "images_per_s": {}, "runs": {}, "max_abs_difference": {}}
    rows = []
    for name, (h, w) in {"opening 96 x 96": (96, 96), "photo 256 x 192": (192, 256)}.items():
        x = rng.uniform(0, 255, (1, h, w, 3)).astype(np.float32)
        tests = {f"{name}, steps in turn (baseline)": (lambda x=x: [steps_in_turn(x, *factors, 255.0) for _ in range(args.calls)], args.calls),
                 f"{name}, composed, OpenCV": (lambda x=x: [apply_colour_np(x, *factors, 255.0) for _ in range(args.calls)], args.calls)}
        medians, runs = rates(tests, args.repeats)
        result["images_per_s"].update(medians)
        result["runs"].update(runs)
        diff = float(np.abs(steps_in_turn(x, *factors, 255.0) - apply_colour_np(x, *factors, 255.0)).max())
        result["max_abs_difference"][name] = diff
        base = next(iter(medians.values()))
        rows += [f"| {k} | {v:,.0f} | {v / base:.1f} | {'' if v == base else f'{diff:.1e}'} |" for k, v in medians.items()]
    md = "\n".join([
        "# Colour jitter (training/colour_jitter.py), one image per call", "",
        f"Machine: {result['machine']}. Median of {args.repeats} runs of {args.calls} calls.", "",
        "| colour jitter | images/s | ratio | largest difference (of 255) |", "|---|---|---|---|", *rows, ""])
    save("colour_jitter", result, md)


if __name__ == "__main__":
    main()
