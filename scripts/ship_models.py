"""Copies the best model of each task's preset run into models/ without optimizer state: the shipped models.

    python -m scripts.ship_models [--runs runs] [--out models] [--tasks keypoints fillnet]

Reads the run directory of each task's shipped preset (runs/keypoints/long, runs/depth/depth,
runs/classifier/classifier, runs/fillnet/long); models/README.md lists the commands that make those runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

SHIPPED = {"keypoints": "keypoints/long", "depth": "depth/depth", "classifier": "classifier/classifier", "fillnet": "fillnet/long"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default="runs", help="folder of run directories (default runs)")
    parser.add_argument("--out", default="models", help="output folder (default models)")
    parser.add_argument("--tasks", nargs="+", choices=list(SHIPPED), default=list(SHIPPED), help="ship only these (default: all)")
    args = parser.parse_args(argv)
    from deploy.export import register_task_objects
    from training.model_files import strip_optimizer

    register_task_objects()

    total = 0
    for task in args.tasks:
        run = SHIPPED[task]
        path = strip_optimizer(Path(args.runs) / run, Path(args.out) / f"{task}.keras")
        size = path.stat().st_size
        total += size
        print(f"{task}: {Path(args.runs) / run} -> {path} ({size / 2**20:.1f} MiB)")
    shipped = sum(p.stat().st_size for p in Path(args.out).glob("*.keras"))
    print(f"shipped now: {total / 2**20:.1f} MiB; models/ holds {shipped / 2**20:.1f} MiB of .keras files")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
