"""Averages models of one architecture weight by weight into one model (a model soup), for shipping.

    python -m scripts.average_models --out runs/fillnet/soup_r36k.keras runs/fillnet/ft_r24k/best.keras runs/fillnet/ft_r36k/best.keras
    python -m scripts.average_models --out soup.keras a.keras b.keras --weights 2 1

Fine-tunings of one model, or late epochs of one run, sit close enough that their mean is a model too, sometimes a
better one than either; often not. For the fill model (the README's Fill results) the first line above is shipped
since 2026-11-28: a model and its own fine-tune over more scenes, averaged, kept most of the fine-tune's gain in
fill error and lost far fewer of the OK / NOK labels the fine-tune alone lost; the other averages tried that day did
not beat the best single model. Check an average on development scenes before shipping it (`nie evaluate fill`).
Sources are .keras files or run folders (their best.keras); the output must not exist: nothing is overwritten. A
fill model with the grid head averages with ones without it when it comes first: the layers they share are averaged,
the head is kept.
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
