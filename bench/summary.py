"""One table of every benchmark figure in bench/results/*.json, with the machine each was measured on:
bench/results/README.md. `make bench` runs it after the benchmarks; run it alone to rebuild the table.

A figure is a median from a map whose name says its unit (`images_per_s`, `ms_per_image`, ...); its ratio to
the benchmark's baseline comes from the matching `*ratio*` map when there is one.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
UNITS = {"images_per_s": "images/s", "loader_images_per_s": "images/s", "train_images_per_s": "images/s (training)",
         "median_scenes_per_s": "scenes/s", "ms_per_image": "ms/image"}
RATIOS = {"images_per_s": ("ratio_to_baseline",), "loader_images_per_s": ("loader_ratio",),
          "median_scenes_per_s": ("ratio_to_baseline",), "ms_per_image": ("ratio_to_baseline", "speedup_onnx_over_keras")}


def rows(results: Path = RESULTS) -> list[tuple[str, str, float, str, str, str]]:
    """(benchmark, what, value, unit, ratio, machine) for every figure."""
    out = []
    for path in sorted(results.glob("*.json")):
        data = json.loads(path.read_text())
        for key, unit in UNITS.items():
            ratios = {k: v for name in RATIOS.get(key, ()) for k, v in data.get(name, {}).items()}
            for what, value in data.get(key, {}).items():
                ratio = ratios.get(what)
                out.append((path.stem, what, value, unit, "" if ratio is None else f"{ratio}", data.get("machine", "?")))
    return out


def main() -> int:
    table = rows()
    if not table:
        print(f"no results in {RESULTS}; run `make bench`", file=sys.stderr)
        return 1
    lines = ["# Benchmark results", "", "Every figure of `bench/results/*.json` (medians; ratios are to the baseline measured in the same run).",
             "Rebuilt by `make bench` (or `python bench/summary.py`).", "",
             "| benchmark | what | value | unit | ratio to baseline | machine |", "|---|---|---|---|---|---|"]
    lines += [f"| {b} | {w} | {v} | {u} | {r} | {m} |" for b, w, v, u, r, m in table]
    (RESULTS / "README.md").write_text("\n".join(lines) + "\n")
    print(f"{len(table)} figures -> {RESULTS / 'README.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
