"""Writes the fill grids of a synthetic dataset made before `nie synth` wrote them (data/synth/fill_grid.py) beside its
meta.jsonl, for the fill model's grid head (`model.grid_head=true`).

    python -m scripts.fill_grids --data datasets/mix48k_r closed_prob=0.15 no_box_prob=0.1

Each scene is drawn again from its meta.jsonl `seed` with the generator's settings (give the `key=value` overrides
the dataset was made with; without rendering, about 14 ms a scene), and its fill must come out as meta.jsonl says,
or nothing is written: settings other than the dataset's would give other scenes. Works on joined datasets
(scripts/merge_datasets.py) of sources made with the same settings. Writes `<data>/fill_grids.npz` (data/fill_grids.py;
G = `--grid`); an existing file is not overwritten.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
from pathlib import Path

import numpy as np

FILL_TOLERANCE = 1e-5  # meta.jsonl stores fills to 6 decimals
_BANK: dict[str, object] = {}  # each worker's texture bank, made once


def _scene_grid(job: tuple[object, int, int, float]) -> np.ndarray | None:
    """The grid of one scene, or None when its fill is not the one given (other settings than the dataset's)."""
    from data.synth.fill_grid import fill_grid
    from data.synth.scene import sample_scene
    from data.synth.textures import make_bank

    cfg, seed, grid, fill = job
    if "bank" not in _BANK:
        _BANK["bank"] = make_bank(0)  # any bank: the geometry does not depend on the textures
    bank = _BANK["bank"]
    scene = sample_scene(cfg, np.random.default_rng(seed), bank)
    if not scene.open or abs(scene.fill - fill) > FILL_TOLERANCE:
        return None
    return fill_grid(scene, grid)


def write_grids(data: str | os.PathLike, overrides: list[str], grid: int = 10, workers: int = 0, progress: bool = True) -> Path:
    """Writes `<data>/fill_grids.npz` for every open scene of meta.jsonl; returns its path."""
    import configs
    from data.fill_grids import write_fill_grids
    from data.layout import DatasetPaths, read_meta

    paths = DatasetPaths(Path(data))
    out, meta = paths.fill_grids, paths.meta
    if out.exists():
        raise FileExistsError(f"{out} exists (nothing is overwritten)")
    if not meta.is_file():
        raise FileNotFoundError(f"{data}: no meta.jsonl (a dataset written by nie synth)")
    cfg = configs.apply_overrides(configs.SynthConfig(), overrides)
    rows = [r for r in read_meta(meta) if r.get("open", True) is not False and "fill" in r]
    if not rows or any("seed" not in r for r in rows):
        raise ValueError(f"{meta}: needs open scenes with their `seed` (rows written by nie synth)")
    jobs = [(cfg, int(r["seed"]), grid, float(r["fill"])) for r in rows]
    workers = workers or min(os.cpu_count() or 1, 16)
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        results = pool.imap(_scene_grid, jobs, chunksize=64)
        if progress:
            from tqdm import tqdm

            results = tqdm(results, total=len(jobs), desc="fill grids", unit="scene")
        grids = list(results)
    wrong = [str(r.get("id")) for r, g in zip(rows, grids, strict=True) if g is None]
    if wrong:
        raise ValueError(f"{len(wrong)} of {len(rows)} scenes (first: {wrong[0]}) come out with another fill than meta.jsonl "
                         "gives: give the key=value settings the dataset was made with")
    return write_fill_grids(out, {str(r["id"]): g for r, g in zip(rows, grids, strict=True)})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="a dataset root written by nie synth (or joined from such)")
    parser.add_argument("--grid", type=int, default=10, help="cells per side (the grid head's: (size - 2 margin) / 8)")
    parser.add_argument("--workers", type=int, default=0, help="processes (0 = one per CPU core)")
    parser.add_argument("overrides", nargs="*", help="the generator's key=value settings the dataset was made with")
    args = parser.parse_args(argv)
    try:
        out = write_grids(args.data, args.overrides, args.grid, args.workers)
    except (OSError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"fill grids -> {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
