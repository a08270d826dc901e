"""Loader and training images per second, per Keras backend, on this machine (issue 11).

For the `keypoints` and `depth` presets (weights none), in one subprocess per backend (Keras picks its backend
once per process): the data loaders alone over one augmented training pass (tf.data: TensorFlow only; the
PyDataset of training/batches.py with its worker processes, as Keras' fit runs it: every backend), and
training (model.fit) with the loader that backend uses by default. The baseline is TensorFlow with tf.data, the
default on this CPU. Backends that are not installed are listed as such (PyTorch is not, here: its PyPI wheel
brings CUDA; the GPU machine has it).

Run: `.venv/bin/python bench/backends.py [--n 256] [--steps 12] [--backends tensorflow,jax,torch]`.
Writes bench/results/backends.{json,md}. On a GPU machine the same script measures the card (README).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

TASKS = ("keypoints", "depth")


def dataset(n: int, data: str) -> Path:
    path = Path(data)
    if (path / "annotations.json").is_file():
        return path
    import configs
    from data.synth.generate import generate

    path = Path(tempfile.gettempdir()) / f"nie_bench_backends_{n}"
    if not (path / "meta.jsonl").is_file():
        generate(path, n, 0, configs.SynthConfig(), progress=False)
    return path


def loader_rate(ds) -> float:
    """Images per second over one pass; a PyDataset through Keras' own iterator (its workers), as fit runs it."""
    import keras

    t0 = time.perf_counter()
    n = 0
    if isinstance(ds, keras.utils.PyDataset):
        from keras.src.trainers.data_adapters.py_dataset_adapter import PyDatasetAdapter

        adapter = PyDatasetAdapter(ds, shuffle=False)
        for x, _ in adapter.get_numpy_iterator():
            n += len(x)
        adapter.on_epoch_end()
    else:
        for x, _ in ds:
            n += int(x.shape[0])
    return n / (time.perf_counter() - t0)


def worker(backend: str, n: int, steps: int, data: str) -> dict:
    import keras

    import configs
    from tasks import registry

    assert keras.backend.backend() == backend
    root = dataset(n, data)
    out: dict = {"backend": backend, "keras": keras.__version__, "device": device_name(backend)}
    for task in TASKS:
        record = registry.get(task)
        _, cfg = configs.get_preset(task)
        if hasattr(cfg.model, "weights"):
            cfg.model.weights = "none"
        cfg.data.cache_mb = 0  # every pass decodes: the loader's own speed
        if task == "keypoints":
            from keypoints.data import make_dataset, split_samples

            train, _, _ = split_samples(root, cfg)
            compile_model = _compile_keypoints
        else:
            from depth.data import make_dataset, split_pairs

            train, _, _ = split_pairs(root, cfg.data.val_split, cfg.train.seed)
            compile_model = _compile_depth
        rates = {}
        loaders = ("tfdata", "pydataset") if backend == "tensorflow" else ("pydataset",)
        for loader in loaders:
            cfg.data.loader = loader
            rates[f"loader {loader}"] = round(loader_rate(make_dataset(cfg, train, training=True)), 1)
        cfg.data.loader = "auto"
        cfg.train.steps_per_epoch = steps
        cfg.data.cache_mb = 4096
        model = compile_model(record.build(cfg), cfg)
        ds = make_dataset(cfg, train, training=True)
        py = isinstance(ds, keras.utils.PyDataset)
        ds = ds if py else ds.repeat()
        model.fit(ds, epochs=1, steps_per_epoch=None if py else steps, verbose=0)  # warm-up: compiling, first batches
        t0 = time.perf_counter()
        model.fit(ds, epochs=1, steps_per_epoch=None if py else steps, verbose=0)
        rates["training (model.fit)"] = round(steps * cfg.data.batch_size / (time.perf_counter() - t0), 1)
        out[task] = {"images_per_s": rates, "input": f"{cfg.data.image_width} x {cfg.data.image_height}",
                     "batch": cfg.data.batch_size, "params": int(model.count_params())}
    return out


def _compile_keypoints(model, cfg):
    import keras

    from keypoints.losses import CyclicCornerLoss

    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=CyclicCornerLoss(cfg.model.num_keypoints))
    return model


def _compile_depth(model, cfg):
    import keras

    from depth.losses import DepthLoss

    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=DepthLoss(cfg.model.max_depth_m - cfg.model.min_depth_m))
    return model


def device_name(backend: str) -> str:
    if backend == "torch":
        import torch

        return torch.cuda.get_device_name(0) if torch.cuda.is_available() else "CPU"
    if backend == "jax":
        import jax

        return str(jax.devices()[0].device_kind)
    return "CPU"


def installed(backend: str) -> bool:
    return importlib.util.find_spec(backend) is not None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=256, help="scenes (a temporary dataset unless --data has one)")
    parser.add_argument("--steps", type=int, default=12, help="timed training steps per task")
    parser.add_argument("--data", default="datasets/synth2500")
    parser.add_argument("--backends", default="tensorflow,jax,torch")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print("RESULT " + json.dumps(worker(args.worker, args.n, args.steps, args.data)))
        return
    from results_io import machine, save

    dataset(args.n, args.data)  # made once, before the workers
    results = {}
    for backend in args.backends.split(","):
        if not installed(backend):
            results[backend] = {"backend": backend, "missing": f"{backend} is not installed here"}
            continue
        env = {**os.environ, "KERAS_BACKEND": backend}
        proc = subprocess.run([sys.executable, __file__, "--worker", backend, "--n", str(args.n), "--steps", str(args.steps), "--data", args.data],
                              env=env, capture_output=True, text=True)
        line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")), None)
        results[backend] = json.loads(line[7:]) if line else {"backend": backend, "failed": proc.stderr.strip().splitlines()[-1:]}
    base = results.get("tensorflow", {})
    lines = [f"# Loader and training images/s per Keras backend\n\n{machine()}; presets keypoints and depth (weights none); "
             f"{args.steps} timed training steps after a warm-up; loaders over one augmented pass, nothing cached. "
             "Baseline: TensorFlow with tf.data (the default here).\n",
             "| backend | device | task | loader tf.data | loader PyDataset | training | training vs TensorFlow |", "|---|---|---|---|---|---|---|"]
    for backend, r in results.items():
        if "missing" in r or "failed" in r:
            lines.append(f"| {backend} | - | - | - | - | {r.get('missing') or 'failed: ' + ' '.join(r['failed'])} | - |")
            continue
        for task in TASKS:
            rates = r[task]["images_per_s"]
            ref = base.get(task, {}).get("images_per_s", {}).get("training (model.fit)")
            ratio = f"{rates['training (model.fit)'] / ref:.2f}" if ref else "-"
            lines.append(f"| {backend} | {r['device']} | {task} ({r[task]['input']}, batch {r[task]['batch']}) | "
                         f"{rates.get('loader tfdata', '-')} | {rates['loader pydataset']} | {rates['training (model.fit)']} | {ratio} |")
    save("backends", {"machine": machine(), **flat(results), "results": results}, "\n".join(lines) + "\n")


def flat(results: dict) -> dict:
    """The figures as one `images_per_s` map ("<backend> <device>, <task>, <what>") with ratios to TensorFlow's
    training (bench/summary.py reads these)."""
    rates, ratios = {}, {}
    base = results.get("tensorflow", {})
    for backend, r in results.items():
        for task in TASKS:
            if task not in r:
                continue
            ref = base.get(task, {}).get("images_per_s", {}).get("training (model.fit)")
            for what, value in r[task]["images_per_s"].items():
                key = f"{backend} ({r['device']}), {task}, {what}"
                rates[key] = value
                if what.startswith("training") and ref:
                    ratios[key] = round(value / ref, 2)
    return {"images_per_s": rates, "ratio_to_baseline": ratios}


if __name__ == "__main__":
    main()
