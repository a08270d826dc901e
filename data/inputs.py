"""Inputs given on the command line: one file or a folder of files, and the report of what was done or skipped."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from data.images import IMAGE_SUFFIXES


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


def iter_images(files: list[Path], report: ItemReport, desc: str, progress: bool = True):
    """Yields (path, uint8 RGB) for each readable image, with a progress bar; unreadable ones go to report.skipped."""
    from tqdm import tqdm

    from data.images import ImageReadError, read_image

    for path in tqdm(files, desc=desc, unit="img", disable=not progress or len(files) < 2):
        try:
            rgb = read_image(path)
        except ImageReadError as err:
            report.skipped.append((path.name, str(err)))
            continue
        yield path, rgb
