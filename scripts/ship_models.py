"""Copies the best model of each task's preset run into models/ without optimizer state: the shipped models.

    python -m scripts.ship_models [--runs runs] [--out models] [--tasks keypoints fillnet]
    python -m scripts.ship_models --out DIR --run keypoints=runs/keypoints/gpu_gpu   # another run (a file or a run folder)

Reads the model of each shipped run (`SHIPPED`: the best epoch of runs/keypoints/banks16k, runs/depth/ft_r48k,
runs/classifier/classifier, and runs/fillnet/soup70k.keras: the weight mean of the last epochs of runs/fillnet/more70k
(fillnet_more70k_cpu) and runs/fillnet/matched70k (fillnet_matched70k_cpu), both trained on from the last epoch of
runs/fillnet/more50k: fillnet_more50k_cpu, trained on from the last epoch of runs/fillnet/gpu21_cpu:
fillnet_gpu30k_cpu, trained on from the GPU's fine-tune (runs/fillnet/gpu21) of the last epoch of
runs/fillnet/deeper48k_l1, itself grown from runs/fillnet/deeper48k, grown from runs/fillnet/soup_r36k.keras, the mean
of the best epochs of runs/fillnet/ft_r24k and ft_r36k; the means by `python -m scripts.average_models`);
models/README.md lists the commands that make those runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

SHIPPED = {"keypoints": "keypoints/banks16k/best.keras", "depth": "depth/ft_r48k/best.keras", "classifier": "classifier/classifier", "fillnet": "fillnet/soup70k.keras"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default="runs", help="folder of run directories (default runs)")
    parser.add_argument("--out", default="models", help="output folder (default models)")
    parser.add_argument("--tasks", nargs="+", choices=list(SHIPPED), default=list(SHIPPED), help="ship only these (default: all)")
    parser.add_argument("--run", action="append", default=[], metavar="TASK=PATH",
                        help="ship TASK from this run folder or .keras file instead (repeatable; then only the tasks named)")
    args = parser.parse_args(argv)
    sources = {task: Path(args.runs) / run for task, run in SHIPPED.items() if task in args.tasks}
    if args.run:
        sources = {}
        for item in args.run:
            task, sep, path = item.partition("=")
            if not sep or task not in SHIPPED or not path:
                parser.error(f"--run {item!r}: expected TASK=PATH with TASK one of {', '.join(SHIPPED)}")
            sources[task] = Path(path)
    from deploy.export import register_task_objects
    from training.model_files import strip_optimizer

    register_task_objects()

    total = 0
    for task, source in sources.items():
        path = strip_optimizer(source, Path(args.out) / f"{task}.keras")
        size = path.stat().st_size
        total += size
        print(f"{task}: {source} -> {path} ({size / 2**20:.1f} MiB)")
    shipped = sum(p.stat().st_size for p in Path(args.out).glob("*.keras"))
    print(f"shipped now: {total / 2**20:.1f} MiB; models/ holds {shipped / 2**20:.1f} MiB of .keras files")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
