"""`nie fill` latency per image on this machine, end to end and per stage, with the shipped models on Keras (the
baseline) and on onnxruntime (`nie fill --backend onnx`, the models exported with `nie export --format onnx`).

Each scene goes through volume.chain.run_photo one at a time, as on a packing line, with the default method
(learned): keypoints, the fill model (its open-box gate and its fill), depth, classifier, then the geometry; the
corners with their default second looks (keypoints/refine.py), and on Keras also read once
(`corner_refine.flip=false corner_refine.zoom_passes=0`). Also timed: the metric method alone in the last stage (the
depth height map, with the depth scale fix), and the geometry alone with ground-truth inputs (`--oracle`).
Scenes: 256 x 192, freshly generated. Goal: onnxruntime at least 2x faster end to end, at most 100 ms.

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
from deploy.export import export_model  # noqa: E402
from deploy.onnx_model import onnx_runner  # noqa: E402
from volume.chain import load_models, make_photo, measure, meta_beside, run_photo  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=24)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--models", default=str(configs.MODELS_DIR))
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp()) / "ds"
    generate(data, args.n, 4242, configs.SynthConfig(), progress=False)
    cfg = configs.VolumeConfig()
    once = configs.VolumeConfig(corner_refine=configs.CornerRefineConfig(flip=False, zoom_passes=0))
    onnx_dir = data.parent / "onnx"
    for task in ("keypoints", "fillnet", "depth", "classifier"):
        export_model(Path(args.models) / f"{task}.keras", "onnx", onnx_dir / f"{task}.onnx")
    backends = {"keras": load_models(args.models), "onnx": load_models(onnx_dir, runner=onnx_runner())}
    meta = meta_beside(data / "images")
    photos = [make_photo(p, read_image(p), meta, cfg, None) for p in sorted((data / "images").iterdir())]
    method = (cfg.method,)
    for models in backends.values():
        run_photo(photos[0], models, cfg, method)  # warm-up: graph tracing
    stages: dict[str, list[float]] = {}
    for _ in range(args.repeats):
        per: dict[str, list[float]] = {}
        for photo in photos:
            for name, models, c in [*((n, m, cfg) for n, m in backends.items()), ("once", backends["keras"], once)]:
                t0 = time.perf_counter()
                r = run_photo(photo, models, c, method)
                r.seconds["end to end"] = time.perf_counter() - t0
                for k, v in r.seconds.items():
                    per.setdefault(f"{name}: {k}", []).append(v * 1000)
                if name != "once":  # the last stage once more on the same corners and depth, by the metric method
                    t0 = time.perf_counter()
                    measure(photo, r.corners, r.depth, c, ("metric",), measured_depth=False)
                    per.setdefault(f"{name}: volume, metric method", []).append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            run_photo(photo, None, cfg, ("metric",), oracle=str(data))
            per.setdefault("geometry alone, oracle inputs", []).append((time.perf_counter() - t0) * 1000)
        for k, v in per.items():
            stages.setdefault(k, []).append(statistics.median(v))
    med = {k: round(statistics.median(v), 1) for k, v in stages.items()}
    ratio = {k: round(med[k.replace("onnx:", "keras:")] / v, 2) for k, v in med.items() if k.startswith("onnx:")}
    once_rows = {k[6:]: v for k, v in med.items() if k.startswith("once: ") and k[6:] in ("keypoints", "end to end")}
    result = {"machine": machine(), "images": len(photos), "ms_per_image": med, "speedup_onnx_over_keras": ratio,
              "goal": "onnxruntime >= 2x Keras end to end, <= 100 ms per 256 x 192 image"}
    lines = [f"# Fill latency\n\n{result['machine']}; shipped models, method={cfg.method} (the default); 256 x 192 scenes, one at a time; "
             f"medians over {len(photos)} images and {args.repeats} runs.\n", "| stage | Keras ms (baseline) | onnxruntime ms | speed-up |",
             "|---|---|---|---|"]
    lines += [f"| {k[6:]} | {med['keras: ' + k[6:]]} | {med[k]} | {ratio[k]} |" for k in ratio]
    lines += [f"| {k}, corners read once | {v} | | |" for k, v in once_rows.items()]
    lines += [f"| geometry alone, oracle inputs | {med['geometry alone, oracle inputs']} | | |"]
    md = "\n".join(lines) + "\n"
    save("fill_latency", result, md)


if __name__ == "__main__":
    main()
