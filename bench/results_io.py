"""What every benchmark shares: the machine it ran on, and writing its numbers to bench/results/<name>.{json,md}; for
the benchmarks that run `nie fill`, its held-out scenes and the shipped models without the classifier."""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}"


def rates(tests: dict[str, tuple[Callable[[], object], int]], repeats: int) -> tuple[dict[str, float], dict[str, list[float]]]:
    """Items per second of each (function, items it handles) test, run `repeats` times in turn:
    (medians, every run), rounded to 0.1."""
    runs: dict[str, list[float]] = {k: [] for k in tests}
    for _ in range(repeats):
        for k, (fn, n) in tests.items():
            t0 = time.perf_counter()
            fn()
            runs[k].append(n / (time.perf_counter() - t0))
    return ({k: round(statistics.median(v), 1) for k, v in runs.items()}, {k: [round(x, 1) for x in v] for k, v in runs.items()})


def ratio_table(med: dict[str, float], baseline: str | dict[str, str], header: str) -> tuple[dict[str, float], list[str]]:
    """Each median's ratio to its baseline (one test's name for all, or a baseline name per test), rounded to 0.01,
    and the markdown table: `header` (three columns: test, figure, ratio), its rule, a row per test."""
    ratio = {k: round(v / med[baseline if isinstance(baseline, str) else baseline[k]], 2) for k, v in med.items()}
    return ratio, [header, "|---|---|---|"] + [f"| {k} | {v} | {ratio[k]} |" for k, v in med.items()]


def save(name: str, result: dict[str, Any], markdown: str) -> None:
    """Writes bench/results/<name>.json and <name>.md (the markdown also goes to stdout)."""
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=1) + "\n")
    (RESULTS / f"{name}.md").write_text(markdown)
    print(markdown)


def held_out_scenes(given: str | os.PathLike, tmp: Path) -> Path:
    """The held-out scenes at `given` (a dataset root with meta.jsonl), or, where it has none, 100 scenes of seed 1000
    (the seed of datasets/eval1000) rendered into tmp/scenes."""
    data = Path(given)
    if (data / "meta.jsonl").is_file():
        return data
    import configs
    from data.synth.generate import generate

    generate(tmp / "scenes", 100, 1000, configs.SynthConfig(), progress=False)
    return tmp / "scenes"


def fill_without_classifier(models_dir: str | os.PathLike):
    """(VolumeConfig, Models) for `nie fill` with the models in `models_dir` and no classifier (no bench counts it)."""
    import configs
    from volume.chain import load_models

    return configs.apply_overrides(configs.VolumeConfig(), ["use_classifier=false"]), load_models(models_dir, need_classifier=False)
