"""Copies the best model of each task's preset run into models/ without optimizer state: the shipped models.

    python -m scripts.ship_models [--runs runs] [--out models]

Reads runs/classifier/classifier, runs/keypoints/keypoints and runs/depth/depth (the run directories of
`nie train TASK --preset TASK`); models/README.md lists the commands that make those runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

SHIPPED = {"keypoints": "keypoints/keypoints", "depth": "depth/depth", "classifier": "classifier/classifier"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default="runs", help="folder of run directories (default runs)")
    parser.add_argument("--out", default="models", help="output folder (default models)")
    args = parser.parse_args(argv)
    from deploy.export import register_task_objects
    from training.model_files import strip_optimizer

    register_task_objects()

    total = 0
    for task, run in SHIPPED.items():
        path = strip_optimizer(Path(args.runs) / run, Path(args.out) / f"{task}.keras")
        size = path.stat().st_size
        total += size
        print(f"{task}: {Path(args.runs) / run} -> {path} ({size / 2**20:.1f} MiB)")
    print(f"models: {total / 2**20:.1f} MiB in all")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
