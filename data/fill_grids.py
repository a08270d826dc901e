"""The fill-grid file beside a synthetic dataset's meta.jsonl (`fill_grids.npz`: `ids`, `grids` (N, G, G) float16): the
fill cell by cell of each open scene (data/synth/fill_grid.py), written by `nie synth` (`fill_grid` cells per side) or
for a dataset made before by `python -m scripts.fill_grids`; read by the fill model's loader for its grid head.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np

from data.atomic_files import write_bytes_atomic


def write_fill_grids(path: str | os.PathLike, grids: dict[str, np.ndarray]) -> Path:
    """Writes id -> (G, G) grids at once (a temporary file renamed into place); an existing file is not overwritten."""
    path = Path(path)
    if path.exists():
        raise FileExistsError(f"{path} exists (nothing is overwritten)")
    if not grids:
        raise ValueError("no fill grids to write (no open scenes)")
    buffer = io.BytesIO()
    np.savez_compressed(buffer, ids=np.array(list(grids)), grids=np.stack(list(grids.values())).astype(np.float16))
    write_bytes_atomic(path, buffer.getvalue())
    return path


def read_fill_grids(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """id -> fill grid (G, G) float32; {} when there is no such file."""
    path = Path(path)
    if not path.is_file():
        return {}
    try:
        with np.load(path) as npz:
            ids, grids = npz["ids"], npz["grids"]
    except (OSError, ValueError, KeyError) as err:
        raise ValueError(f"{path}: not a fill-grid file ({err}); write it again with python -m scripts.fill_grids") from None
    return {str(i): g.astype(np.float32) for i, g in zip(ids, grids, strict=True)}
