"""Synthetic scenes per second at 256 x 192 on this machine: all cores against one worker (the baseline).

Run: `make bench` or `.venv/bin/python bench/synth_throughput.py [--n 300] [--repeats 3]`.
Writes bench/results/synth_throughput.json and .md; quotes medians over the repeats.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from results_io import machine, save  # noqa: E402

import configs  # noqa: E402
from data.synth.generate import generate  # noqa: E402


def measure(n: int, workers: int, seed: int) -> float:
    cfg = configs.apply_overrides(configs.SynthConfig(), [f"workers={workers}"])
    out = Path(tempfile.mkdtemp(prefix="nie-bench-"))
    try:
        t0 = time.perf_counter()
        generate(out / "ds", n, seed, cfg, progress=False)
        return n / (time.perf_counter() - t0)
    finally:
        shutil.rmtree(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=600, help="scenes per measurement")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    measure(8, 1, 999)  # compile the kernels (numba caches them on disk)
    rows = {"1 worker (baseline)": [], f"{cores} workers": []}
    for r in range(args.repeats):  # interleaved, so drift hits both alike
        rows["1 worker (baseline)"].append(measure(args.n, 1, r))
        rows[f"{cores} workers"].append(measure(args.n, cores, r))
    base = statistics.median(rows["1 worker (baseline)"])
    result = {
        "what": "synthetic scenes per second, 256 x 192, default SynthConfig, files written (PNG image + depth)",
        "machine": machine(),
        "n_per_run": args.n,
        "repeats": args.repeats,
        "goal": ">= 50 scenes/s on 2 cores",
        "median_scenes_per_s": {k: round(statistics.median(v), 1) for k, v in rows.items()},
        "ratio_to_baseline": {k: round(statistics.median(v) / base, 2) for k, v in rows.items()},
        "runs": {k: [round(x, 1) for x in v] for k, v in rows.items()},
    }
    lines = ["| setting | scenes/s (median) | ratio |", "|---|---|---|"]
    lines += [f"| {k} | {result['median_scenes_per_s'][k]} | {result['ratio_to_baseline'][k]} |" for k in rows]
    md = f"# Synthetic scene throughput\n\n{result['what']}; {result['machine']}; {args.repeats} runs of {args.n} scenes.\n\n" + "\n".join(lines) + "\n"
    save("synth_throughput", result, md)


if __name__ == "__main__":
    main()
