"""`nie synth`: writes synthetic box scenes in the dataset layout of shared/conventions.md.

Sample i is drawn from a generator seeded with (seed, i) alone and its texture bank from the seed and
i // scenes_per_bank alone (the seed's one bank by default), so the same seed gives a byte-identical dataset
whatever the number of workers. Workers write
their images and depth maps (each atomically); the parent writes annotations.json, fill_grids.npz (each open
scene's fill cell by cell: data/synth/fill_grid.py) and meta.jsonl in index order at the end.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from configs import SynthConfig
from data.depth_io import write_depth
from data.fill_grids import write_fill_grids
from data.images import write_image
from data.label_rule import label_for
from data.layout import DatasetPaths, link_or_copy, write_meta
from data.synth.fill_grid import fill_grid
from data.synth.render import render, warm_up
from data.synth.scene import Scene, sample_scene
from data.synth.textures import TextureBank, make_bank
from data.via import ViaImage, polyline_region, write_via

MAX_DEPTH_M = 60.0  # beyond this a 16-bit mm PNG overflows; such pixels are written invalid


@dataclass
class Sample:
    scene: Scene
    rgb: np.ndarray  # uint8 (H, W, 3)
    depth: np.ndarray  # float32 metres (H, W), 0 where invalid
    seed: int


def sample_seed(seed: int, index: int) -> int:
    return int(np.random.SeedSequence([seed, index]).generate_state(1, dtype=np.uint32)[0])


def bank_id(index: int, scenes_per_bank: int) -> int:
    """Which of the seed's texture banks sample `index` draws from (0 when the dataset keeps one bank)."""
    return index // scenes_per_bank if scenes_per_bank > 0 else 0


def make_sample(cfg: SynthConfig, seed: int, index: int, bank: TextureBank) -> Sample:
    """Draws and renders sample `index` of the dataset with `seed`."""
    s = sample_seed(seed, index)
    rng = np.random.default_rng(s)
    scene = sample_scene(cfg, rng, bank)
    rgb, depth = render(scene, cfg, bank, rng)
    depth = np.where(np.isfinite(depth) & (depth < MAX_DEPTH_M), depth, 0.0).astype(np.float32)
    return Sample(scene, rgb, depth, s)


def meta_row(sample: Sample, image_id: str, cfg: SynthConfig) -> dict[str, Any]:
    sc = sample.scene
    fill = round(sc.fill, 6)
    return {
        "id": image_id,
        "image": f"images/{image_id}.png",
        "depth": f"depth/{image_id}.png",
        "fill": fill,
        "overfill": bool(sc.overfill),
        "empty_volume_l": round((1 - sc.fill) * sc.L * sc.W * sc.H * 1000, 4),
        "box_lwh_m": [round(sc.L, 6), round(sc.W, 6), round(sc.H, 6)],
        "K": [[round(float(v), 6) for v in row] for row in sc.K],
        "corners": [[round(float(x), 3), round(float(y), 3)] for x, y in sc.corners_image()],
        "label": label_for(sc.fill, sc.overfill, cfg.label_rule),
        "seed": sample.seed,
        "top_visible": round(sc.top_visible, 4),
        "scene": sc.kind,
        "tilt_deg": round(float(np.degrees(np.arccos(np.clip(-sc.R_cw[2, 2], -1, 1)))), 3),
        **({} if sc.open else {"open": False}),
    }


# ----------------------------------------------------------------------------------------------
# Workers
# ----------------------------------------------------------------------------------------------
_STATE: dict[str, Any] = {}
_GRID_KEY = "_fill_grid"


def _init_worker(cfg: SynthConfig, seed: int, out: str) -> None:
    if _STATE.get("key") == (cfg, seed, out):
        return  # a forked worker inherits the parent's bank and compiled kernels
    _STATE.update(cfg=cfg, seed=seed, out=Path(out), bank=make_bank(seed), bank_id=0, key=(cfg, seed, out))
    warm_up(_STATE["bank"])


def _bank_of(index: int) -> TextureBank:
    """The worker's bank for sample `index`, rebuilt when the sample needs another one (0.3 s; the samples come in
    runs of consecutive indices, so a worker rebuilds about once per `scenes_per_bank` scenes)."""
    k = bank_id(index, _STATE["cfg"].scenes_per_bank)
    if k != _STATE["bank_id"]:
        _STATE.update(bank=make_bank(_STATE["seed"], k), bank_id=k)
    return _STATE["bank"]


def _work(index: int) -> dict[str, Any]:
    cfg, seed, out = _STATE["cfg"], _STATE["seed"], _STATE["out"]
    image_id = f"{index:06d}"
    sample = make_sample(cfg, seed, index, _bank_of(index))
    write_image(out / "images" / f"{image_id}.png", sample.rgb)
    write_depth(out / "depth" / f"{image_id}.png", sample.depth, cfg.depth_scale)
    row = meta_row(sample, image_id, cfg)
    if cfg.fill_grid and sample.scene.open:
        row[_GRID_KEY] = fill_grid(sample.scene, cfg.fill_grid)  # taken out of the row before meta.jsonl is written
    return row


def generate(out: str | os.PathLike, n: int, seed: int, cfg: SynthConfig, progress: bool = True) -> dict[str, Any]:
    """Writes n scenes to `out`. Returns a summary (counts, seconds, scenes per second)."""
    out = Path(out)
    paths = DatasetPaths(out)
    if paths.meta.exists() or paths.annotations.exists() or paths.fill_grids.exists():
        raise FileExistsError(f"{out} already holds a dataset; choose a new --out or remove it first")
    if n < 1:
        raise ValueError("--n must be at least 1")
    for sub in (paths.images, paths.depth):
        sub.mkdir(parents=True, exist_ok=True)
    workers = cfg.workers or os.cpu_count() or 1
    workers = max(1, min(workers, n))
    t0 = time.perf_counter()
    bar = tqdm(total=n, desc="synth", unit="scene", disable=not progress, file=sys.stderr, mininterval=0.5)
    if workers == 1:
        _init_worker(cfg, seed, str(out))
        rows = []
        for i in range(n):
            rows.append(_work(i))
            bar.update()
    else:
        _init_worker(cfg, seed, str(out))  # compile once here; forked workers inherit it
        ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else mp.get_context()
        with ctx.Pool(workers, initializer=_init_worker, initargs=(cfg, seed, str(out))) as pool:
            rows = []
            for row in pool.imap(_work, range(n), chunksize=max(1, min(16, n // (4 * workers)))):
                rows.append(row)
                bar.update()
    bar.close()
    seconds = time.perf_counter() - t0
    via = []
    for row in rows:
        if not row.get("open", True):  # a closed box or no box: no opening to annotate, no OK / NOK
            continue
        img_path = out / row["image"]
        region = polyline_region(np.array(row["corners"]), label="box")
        via.append(ViaImage(Path(row["image"]).name, img_path.stat().st_size, [region], {}))
        link_or_copy(img_path, paths.classes / cfg.label_rule.usecase / row["label"] / img_path.name)
    write_via(paths.annotations, via)
    grids = {row["id"]: row.pop(_GRID_KEY) for row in rows if _GRID_KEY in row}
    if grids:
        write_fill_grids(paths.fill_grids, grids)
    write_meta(paths.meta, rows)
    n_nok = sum(r["label"] == "NOK" for r in rows)
    return {"n": n, "nok": n_nok, "ok": n - n_nok, "seconds": seconds, "scenes_per_s": n / seconds, "workers": workers}
