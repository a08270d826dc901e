"""The corner model's training loader, augmentation included: albumentations in worker processes (the baseline:
how keypoints_gpu ran on the second GPU lease, 540 images/s with the GPU mostly idle, bench/results/gpu_train.md)
against the one-warp OpenCV transform (`augment.engine=opencv`, keypoints/warp_augment.py) on loader threads,
which hand batches over in memory instead of pickling them through pipes.

Each test reads one epoch of batches the way fit reads them (Keras' PyDataset adapter over
training/batches.IndexedBatches, the pool's start included) from decoded images held in memory, at the GPU preset's
settings: 256 x 192, batches of 128, half of the images augmented (`augment.p=0.5`). A second table gives one core's
rate of each transform alone on every image (`augment.p=1`).

Run: `.venv/bin/python bench/keypoints_augment.py [--data datasets/dev5000] [--workers 2] [--batches 8] [--repeats 3]`
(on a GPU machine `--workers 14`). Without --data's scenes it renders 256 of seed 1000. Writes
bench/results/keypoints_augment.{json,md}.
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
import numpy as np  # noqa: E402
from epoch_reader import read_epoch  # noqa: E402
from results_io import machine, rates, ratio_table, save  # noqa: E402

import configs  # noqa: E402
from keypoints.augment import augment, build_transform  # noqa: E402
from keypoints.data import KeypointSamples, list_samples  # noqa: E402
from keypoints.warp_augment import WarpAugment  # noqa: E402
from training.batches import IndexedBatches  # noqa: E402

N_IMAGES = 256


def gpu_config(engine: str):
    _, cfg = configs.get_preset("keypoints_gpu")
    return configs.apply_overrides(cfg, [f"augment.engine={engine}"])


def one_epoch(loads: KeypointSamples, batch: int, workers: int, workers_as: str, batches: int) -> None:
    read_epoch(IndexedBatches(len(loads.samples.ids), batch, loads, True, workers=workers, workers_as=workers_as, steps=batches))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="datasets/dev5000")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batches", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(args.data)
        if not (data / "annotations.json").is_file():
            from data.synth.generate import generate

            data = Path(tmp) / "scenes"
            generate(data, N_IMAGES, 1000, configs.SynthConfig(), progress=False)
        samples = list_samples(data)
        samples = samples.subset([i < N_IMAGES for i in range(len(samples.ids))])
        loads = {e: KeypointSamples(gpu_config(e), samples, True, 0, cache=True) for e in ("albumentations", "opencv")}
        for lo in loads.values():
            lo.resized.preload(args.workers)
        batch, images = gpu_config("opencv").data.batch_size, args.batches * gpu_config("opencv").data.batch_size
        cv_threads = cv2.getNumThreads()

        def on_threads(engine):
            def run():
                cv2.setNumThreads(1)  # as keypoints/data.py sets it for loader threads
                try:
                    one_epoch(loads[engine], batch, args.workers, "threads", args.batches)
                finally:
                    cv2.setNumThreads(cv_threads)
            return run

        tests = {
            "albumentations, loader processes (baseline: the second lease)": (
                lambda: one_epoch(loads["albumentations"], batch, args.workers, "processes", args.batches), images),
            "albumentations, loader threads": (on_threads("albumentations"), images),
            "opencv warp, loader processes": (lambda: one_epoch(loads["opencv"], batch, args.workers, "processes", args.batches), images),
            "opencv warp, loader threads (keypoints_gpu now)": (on_threads("opencv"), images),
        }
        med, runs = rates(tests, args.repeats)
        ratio, table = ratio_table(med, next(iter(tests)), "| corner training batches, augmented as keypoints_gpu | images/s | ratio to the baseline |")

        full = configs.KeypointsAugmentConfig(p=1.0)
        albu, warp = build_transform(full, seed=0), WarpAugment(full)
        rng = np.random.default_rng(0)
        decoded = [loads["opencv"].resized(i) for i in range(len(samples.ids))]
        one = {"albumentations, every image": (lambda: [augment(albu, *d) for d in decoded], len(decoded)),
               "opencv warp, every image": (lambda: [warp(*d, rng) for d in decoded], len(decoded))}
        med_one, runs_one = rates(one, args.repeats)
        ratio_one, table_one = ratio_table(med_one, next(iter(one)), "| one core, the transform alone | images/s | ratio |")
    result = {"machine": machine(), "workers": args.workers, "batch": [batch, 192, 256, 3], "batches_per_epoch": args.batches,
              "images_per_s": med, "ratio_to_baseline": ratio, "runs": runs, "one_core_images_per_s": med_one,
              "one_core_ratio": ratio_one, "one_core_runs": runs_one}
    lines = [f"# Corner training loader: albumentations against one OpenCV warp\n\n{result['machine']}; {args.workers} loader "
             f"workers; batches of {batch} x 256 x 192, {args.batches} a run (the pool's start included), half the images "
             f"augmented; medians of {args.repeats} runs.\n", *table, "", *table_one]
    save("keypoints_augment", result, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
