"""A 6000 x 4000 phone-sized photo through `nie fill` (issue 13): seconds beyond the models, peak memory, and the size
of the report picture, measured on a copy of at most 1024 px (the default `work_max_side`) against the whole photo
(the baseline: `work_max_side=8192`, how `nie fill` worked before), each in its own process.

Run: `.venv/bin/python bench/big_photo.py`. Writes bench/results/big_photo.{json,md}.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

MODEL_STAGES = ("keypoints", "depth", "classifier", "fillnet")


def peak_mb() -> float:
    """This process's peak resident memory (VmHWM; getrusage's ru_maxrss would include the parent's, which Linux keeps
    across exec)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 0)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 0)


def worker(photo_dir: str, out: str, side: int) -> dict:
    import configs
    from volume.chain import load_models
    from volume.report import fill_folder

    cfg = configs.apply_overrides(configs.VolumeConfig(), [f"work_max_side={side}", "use_classifier=false"])
    models = load_models(ROOT / "models", need_classifier=False)
    t0 = time.perf_counter()
    run = fill_folder(photo_dir, out, cfg, models, box=(0.6, 0.4, 0.3), progress=False)
    total = time.perf_counter() - t0
    rec = run.rows[0]
    seconds = rec.get("seconds", {})
    model_s = sum(seconds.get(k, 0.0) for k in MODEL_STAGES)
    picture = Path(out) / f"{rec['id']}.png"
    return {"status": rec["status"], "total_s": round(total, 2), "models_s": round(model_s, 2), "beyond_models_s": round(total - model_s, 2),
            "peak_mb": peak_mb(),
            "picture_kb": round(picture.stat().st_size / 1024, 0) if picture.exists() else None}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        print("RESULT " + json.dumps(worker(sys.argv[2], sys.argv[3], int(sys.argv[4]))))
        return
    import numpy as np
    from PIL import Image
    from results_io import machine, save

    import configs
    from data.synth.generate import generate

    tmp = Path(tempfile.mkdtemp())
    generate(tmp / "ds", 1, 3, configs.SynthConfig(), progress=False)
    scene = Image.open(next((tmp / "ds" / "images").iterdir())).convert("RGB")
    photos = tmp / "photos"
    photos.mkdir()
    big = scene.resize((6000, 4000), Image.BICUBIC)
    noise = np.random.default_rng(0).normal(0, 4, (4000, 6000, 3))  # sensor grain: a realistic JPEG size
    Image.fromarray(np.clip(np.asarray(big) + noise, 0, 255).astype(np.uint8)).save(photos / "phone.jpg", quality=90)
    results = {}
    for name, side in (("whole photo (baseline, work_max_side=8192)", 8192), ("copy of at most 1024 px (default)", 1024)):
        proc = subprocess.run([sys.executable, __file__, "--worker", str(photos), str(tmp / f"out{side}"), str(side)],
                              capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
        line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")), None)
        results[name] = json.loads(line[7:]) if line else {"failed": proc.stderr.strip().splitlines()[-1:]}
    size_mb = round((photos / "phone.jpg").stat().st_size / 2**20, 1)
    lines = [f"# A 6000 x 4000 photo through nie fill\n\n{machine()}; a {size_mb} MB JPEG; shipped models, no classifier. "
             "Goal (issue 13): at most 3 s beyond the models, at most 1.5 GB peak memory, a report picture under 1 MB.\n",
             "| how | status | total s | models s | beyond the models s | peak memory MB | report picture kB |", "|---|---|---|---|---|---|---|"]
    for name, r in results.items():
        if "failed" in r:
            lines.append(f"| {name} | failed: {' '.join(r['failed'])} | | | | | |")
            continue
        lines.append(f"| {name} | {r['status']} | {r['total_s']} | {r['models_s']} | {r['beyond_models_s']} | {r['peak_mb']:.0f} | {r['picture_kb']} |")
    save("big_photo", {"machine": machine(), "photo": "6000 x 4000 JPEG", "results": results,
                       "ms_per_image": {k: round(1000 * v["beyond_models_s"], 0) for k, v in results.items() if "beyond_models_s" in v}},
         "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
