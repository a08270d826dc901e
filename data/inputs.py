"""Inputs given on the command line: one file or a folder of files, and the report of what was done or skipped."""

from __future__ import annotations

import os
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from data.images import IMAGE_SUFFIXES

PHOTOS_AHEAD = 4  # photos decoded ahead while a one-photo-at-a-time model call runs (nie predict depth / classifier)


@dataclass
class ItemReport:
    done: list[str] = field(default_factory=list)  # names processed
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (name, reason)


def list_inputs(source: str | os.PathLike, suffixes: tuple[str, ...] = IMAGE_SUFFIXES) -> list[Path]:
    """[source] for a file; a folder's files with these suffixes, sorted (hidden files left out)."""
    source = Path(source)
    if source.is_file():
        return [source]
    if not source.is_dir():
        raise FileNotFoundError(f"{source}: no such file or folder")
    files = sorted(p for p in source.iterdir() if p.suffix.lower() in suffixes and not p.name.startswith("."))
    if not files:
        raise ValueError(f"{source}: no files with {', '.join(suffixes)}")
    return files


def iter_images(files: list[Path], report: ItemReport, desc: str, progress: bool = True, ahead: int = 0):
    """Yields (path, uint8 RGB) for each readable image, in the order of `files`, with a progress bar; unreadable ones
    go to report.skipped. ahead > 0: up to that many images are decoded ahead by background threads (OpenCV and Pillow
    release the GIL while decoding) while the caller works on the ones yielded, e.g. a model call on a GPU."""
    from tqdm import tqdm

    loaded = map(_load, files) if ahead <= 0 else _decoded_ahead(files, ahead)
    for path, rgb, error in tqdm(loaded, desc=desc, unit="img", total=len(files), disable=not progress or len(files) < 2):
        if error is not None:
            report.skipped.append((path.name, error))
            continue
        yield path, rgb


def _load(path: Path):
    """(path, RGB or None, the reason it could not be read or None)."""
    from data.images import ImageReadError, read_image

    try:
        return path, read_image(path), None
    except ImageReadError as err:
        return path, None, str(err)


def _decoded_ahead(files: list[Path], ahead: int):
    """_load over files in their order, at most `ahead` decoded or in flight at a time, on up to 4 threads."""
    todo = iter(files)
    pool = ThreadPoolExecutor(max(1, min(4, os.cpu_count() or 1)), thread_name_prefix="decode")
    try:
        pending = deque(pool.submit(_load, p) for p in islice(todo, ahead))
        while pending:
            done = pending.popleft().result()
            nxt = next(todo, None)
            if nxt is not None:
                pending.append(pool.submit(_load, nxt))
            yield done
    finally:  # also when the caller stops early: what is queued is dropped, what runs is waited for
        pool.shutdown(wait=True, cancel_futures=True)
