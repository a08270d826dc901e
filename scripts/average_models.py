"""Averages models of one architecture weight by weight into one model (a model soup), for shipping.

    python -m scripts.average_models --out runs/fillnet/soup.keras models/fillnet.keras runs/fillnet/ft_r24k/best.keras
    python -m scripts.average_models --out soup.keras a.keras b.keras --weights 2 1

Fine-tunings of one model, or late epochs of one run, sit close enough that their mean is a model too, sometimes a
better one than either; often not (for the fill model on 2026-11-28 every average tried was worse than the best
fine-tune alone: the README's Fill results). Check it on development scenes before shipping it (`nie evaluate fill`). Sources are .keras files or run folders (their best.keras); the output
must not exist: nothing is overwritten.
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="the averaged model's .keras file (must not exist)")
    parser.add_argument("--weights", nargs="+", type=float, help="one weight per model (default: equal)")
    parser.add_argument("models", nargs="+", help=".keras files or run folders, two or more, of one architecture")
    args = parser.parse_args(argv)
    from deploy.export import register_task_objects
    from training.model_files import average_weights

    register_task_objects()
    try:
        out = average_weights(args.models, args.out, args.weights)
    except (OSError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"{len(args.models)} models averaged -> {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
