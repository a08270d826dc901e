"""Batches per second through Keras' loader processes, float32 images (the baseline) against uint8, and the fill
model's 8-channel inputs as float32 against float16.

The corner model's GPU preset loads batches of 128 images of 256 x 192 in forked worker processes
(`data.workers_as=processes`); Keras' process pool pickles every batch back through a pipe to the training process.
On one H200 that training ran at 540 images/s with the GPU 12-24 % busy (bench/results/gpu_train.md). This measures
the transfer alone: the same cached images, no augmentation, float32 (75 MiB a batch) against uint8 (19 MiB), the
loader NIE uses (training/batches.IndexedBatches) read the way fit reads it (Keras' PyDataset adapter).

The fill model's samples (96 x 96 x 8: the opening and 5 constant pose planes) cannot be uint8; they travel as
float16 since 2026-11-27 (fillnet/data.py TRANSFER_DTYPE), half the bytes of float32, in batches of 128 as on a GPU.

Run: `.venv/bin/python bench/loader_transfer.py [--workers 2] [--batches 24] [--repeats 3]` (on a GPU machine
`--workers 14`). Writes bench/results/loader_transfer.{json,md}.
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
from epoch_reader import read_epoch  # noqa: E402
from results_io import machine, rates, ratio_table, save  # noqa: E402

from training.batches import IndexedBatches  # noqa: E402

BATCH, H, W = 128, 192, 256
IMAGES = np.random.default_rng(0).integers(0, 256, (2 * BATCH, H, W, 3), dtype=np.uint8)  # shared with forked workers


def _float32(i: int, rng: np.random.Generator):
    return IMAGES[i].astype(np.float32), np.zeros(8, np.float32)


def _uint8(i: int, rng: np.random.Generator):
    return IMAGES[i], np.zeros(8, np.float32)


OPENINGS = np.random.default_rng(1).uniform(0, 255, (2 * BATCH, 96, 96, 8)).astype(np.float32)


def _fill_float32(i: int, rng: np.random.Generator):
    return OPENINGS[i], np.zeros(3, np.float32)


def _fill_float16(i: int, rng: np.random.Generator):
    return OPENINGS[i].astype(np.float16), np.zeros(3, np.float32)


def one_epoch(load, workers: int, batches: int) -> None:
    """Every batch of one epoch as fit would read it (the first one included: the pool's start counts)."""
    read_epoch(IndexedBatches(len(IMAGES), BATCH, load, True, workers=workers, workers_as="processes", steps=batches))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batches", type=int, default=24)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    images = args.batches * BATCH
    tests = {
        "float32 images (baseline)": (lambda: one_epoch(_float32, args.workers, args.batches), images),
        "uint8 images (keypoints/data.py now)": (lambda: one_epoch(_uint8, args.workers, args.batches), images),
        "fill inputs 96 x 96 x 8, float32 (baseline)": (lambda: one_epoch(_fill_float32, args.workers, args.batches), images),
        "fill inputs 96 x 96 x 8, float16 (fillnet/data.py now)": (lambda: one_epoch(_fill_float16, args.workers, args.batches), images),
    }
    med, runs = rates(tests, args.repeats)
    baseline = {k: "fill inputs 96 x 96 x 8, float32 (baseline)" if k.startswith("fill") else "float32 images (baseline)"
                for k in med}
    ratio, table = ratio_table(med, baseline, "| images through the process pool | images/s | ratio to the baseline |")
    result = {"machine": machine(), "workers": args.workers, "batch": [BATCH, H, W, 3], "batches_per_epoch": args.batches,
              "images_per_s": med, "ratio_to_baseline": ratio, "runs": runs}
    lines = [f"# Loader transfer\n\n{result['machine']}; {args.workers} loader processes; batches of {BATCH} x {W} x {H} "
             f"(fill inputs: {BATCH} x 96 x 96 x 8), {args.batches} a run (the pool's start included); medians of {args.repeats} runs.\n",
             *table]
    save("loader_transfer", result, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
