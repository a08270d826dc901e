"""Depth input pipeline and training throughput on this machine.

1. Loader throughput, same images and the same augmentation work (decode, resize to the model input,
   flip + scale-crop of image and depth, colour jitter, batches of 16):
   baseline = a keras.utils.PyDataset (Keras 3's Sequence) that reads and augments one item at a time with
   OpenCV, as the Keras depth-estimation example does; against depth/data.py's tf.data pipeline, uncached
   (every image decoded every epoch, the fair comparison) and cached (the steady state of training).
2. Training images per second (train_on_batch) of the `depth` preset (128 x 96, narrow U-Net) and of the
   default model (256 x 192, about 2 M parameters).

Run: `.venv/bin/python bench/depth_pipeline.py [--n 256] [--repeats 3] [--data datasets/synth2500]`
(makes its own synthetic images when --data is missing). Writes bench/results/depth_pipeline.{json,md}.
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

import cv2  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
from results_io import machine, save  # noqa: E402

import configs  # noqa: E402
from depth.data import list_pairs, make_dataset  # noqa: E402
from depth.train import compile_model  # noqa: E402


class CvSequence(keras.utils.PyDataset):
    """One item at a time: cv2 read, resize, flip, scale-crop, colour jitter (the Keras example's way)."""

    def __init__(self, images, depths, batch_size, size, seed=0):
        super().__init__(workers=1, use_multiprocessing=False)
        self.images, self.depths, self.batch_size, (self.w, self.h) = images, depths, batch_size, size
        self.rng = np.random.default_rng(seed)

    def __len__(self):
        return len(self.images) // self.batch_size

    def _item(self, i):
        img = cv2.cvtColor(cv2.imread(self.images[i]), cv2.COLOR_BGR2RGB)
        dep = cv2.imread(self.depths[i], cv2.IMREAD_UNCHANGED).astype(np.float32) / 1000.0
        img = cv2.resize(img, (self.w, self.h), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
        dep = cv2.resize(dep, (self.w, self.h), interpolation=cv2.INTER_NEAREST)
        if self.rng.random() < 0.5:
            img, dep = img[:, ::-1], dep[:, ::-1]
        s = self.rng.uniform(1.0, 1.25)
        ch, cw = round(self.h / s), round(self.w / s)
        y0, x0 = self.rng.integers(0, self.h - ch + 1), self.rng.integers(0, self.w - cw + 1)
        img = cv2.resize(np.ascontiguousarray(img[y0 : y0 + ch, x0 : x0 + cw]), (self.w, self.h), interpolation=cv2.INTER_LINEAR)
        dep = cv2.resize(np.ascontiguousarray(dep[y0 : y0 + ch, x0 : x0 + cw]), (self.w, self.h), interpolation=cv2.INTER_NEAREST)
        img = img + self.rng.uniform(-0.1, 0.1)
        mean = img.mean()
        img = (img - mean) * self.rng.uniform(0.8, 1.2) + mean
        hsv = cv2.cvtColor(np.clip(img, 0, 1), cv2.COLOR_RGB2HSV)
        hsv[..., 1] *= self.rng.uniform(0.8, 1.2)
        hsv[..., 0] = (hsv[..., 0] + self.rng.uniform(-0.03, 0.03) * 360) % 360
        img = np.clip(cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB), 0, 1)
        return img, np.concatenate([dep[..., None], img], -1)

    def __getitem__(self, idx):
        items = [self._item(i) for i in range(idx * self.batch_size, (idx + 1) * self.batch_size)]
        return np.stack([a for a, _ in items]), np.stack([b for _, b in items])


def time_loader(make_iter, n_images) -> float:
    t0 = time.perf_counter()
    count = 0
    for x, _ in make_iter():
        count += len(x)
    assert count >= n_images - 16
    return count / (time.perf_counter() - t0)


def train_rate(cfg, steps=6) -> float:
    model = compile_model(cfg, 100)
    h, w = cfg.data.image_height, cfg.data.image_width
    rng = np.random.default_rng(0)
    x = rng.random((16, h, w, 3), dtype=np.float32)
    y = np.concatenate([rng.uniform(0.5, 3, (16, h, w, 1)).astype(np.float32), x], -1)
    model.train_on_batch(x, y)
    t0 = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(x, y)
    return 16 * steps / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=256, help="image/depth pairs per pass")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--data", default="datasets/synth2500")
    args = parser.parse_args()
    data = Path(args.data)
    if not (data / "images").is_dir():
        from data.synth.generate import generate

        data = Path(tempfile.mkdtemp()) / "ds"
        generate(data, args.n, 0, configs.SynthConfig(), progress=False)
    pairs = list_pairs(data)
    pairs = pairs.subset([i < args.n for i in range(len(pairs.ids))])
    _, cfg = configs.get_preset("depth")
    size = (cfg.data.image_width, cfg.data.image_height)
    cached = make_dataset(cfg, pairs, training=True, cache=True)
    for _ in cached:  # fill the cache
        pass
    loaders = {
        "keras PyDataset + cv2, one item at a time (baseline)": lambda: (CvSequence(pairs.images, pairs.depths, 16, size)[i] for i in range(len(pairs.ids) // 16)),
        "tf.data, uncached": lambda: make_dataset(cfg, pairs, training=True, cache=False),
        "tf.data, cached": lambda: cached,
    }
    runs = {k: [] for k in loaders}
    for _ in range(args.repeats):
        for name, make in loaders.items():
            runs[name].append(time_loader(make, len(pairs.ids)))
    base = statistics.median(runs[next(iter(loaders))])
    default_cfg = configs.DepthConfig()
    train = {"depth preset (128 x 96, 0.49 M params)": [train_rate(cfg) for _ in range(args.repeats)],
             "default model (256 x 192, 1.97 M params)": [train_rate(default_cfg, steps=3) for _ in range(args.repeats)]}
    result = {
        "machine": machine(),
        "pairs": len(pairs.ids), "repeats": args.repeats, "goal": "tf.data >= 5x the Sequence loader",
        "loader_images_per_s": {k: round(statistics.median(v), 1) for k, v in runs.items()},
        "loader_ratio": {k: round(statistics.median(v) / base, 2) for k, v in runs.items()},
        "train_images_per_s": {k: round(statistics.median(v), 1) for k, v in train.items()},
        "runs": {k: [round(x, 1) for x in v] for k, v in {**runs, **train}.items()},
    }
    lines = [f"# Depth pipeline\n\n{result['machine']}; {result['pairs']} pairs, batch 16, medians of {args.repeats} runs.\n",
             "| loader (decode + resize to 128 x 96 + flip/scale-crop/colour) | images/s | ratio |", "|---|---|---|"]
    lines += [f"| {k} | {result['loader_images_per_s'][k]} | {result['loader_ratio'][k]} |" for k in runs]
    lines += ["", "| training (train_on_batch, batch 16) | images/s |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in result["train_images_per_s"].items()]
    md = "\n".join(lines) + "\n"
    save("depth_pipeline", result, md)


if __name__ == "__main__":
    main()
