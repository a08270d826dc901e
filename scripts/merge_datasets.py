"""Joins dataset roots (shared/conventions.md section 3) into one new root, for a training on more scenes than one
`nie synth` run rendered: each source's files get its folder name as a prefix (`mix8k_000000.png`), so ids never
collide; files are hard-linked (copied where links are impossible); meta.jsonl rows, annotations.json, fill_grids.npz
and any VIA files of the sources' photos (e.g. `nie predict keypoints`' predictions_via.json, given per source with --via) follow
the new names.

    python -m scripts.merge_datasets --out datasets/mix24k datasets/mix8k datasets/mix16k \
        --via runs/corners/mix8k/predictions_via.json runs/corners/mix16k/predictions_via.json

writes datasets/mix24k/{images,depth,classes,meta.jsonl,annotations.json} and datasets/mix24k/predictions_via.json (the
given VIA files joined, for `data.corners_from`). The output folder must not exist: nothing is overwritten.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

from data.fill_grids import read_fill_grids, write_fill_grids
from data.layout import DatasetPaths, link_or_copy, read_meta, write_meta
from data.via import ViaImage, read_via, write_via

MERGED_VIA = "predictions_via.json"


def prefixed(prefix: str, name: str) -> str:
    return f"{prefix}_{name}"


def merge(sources: list[Path], out: Path, vias: list[Path] | None = None) -> dict[str, int]:
    """Writes the joined dataset to `out` (which must not exist) and returns counts per source folder name."""
    prefixes = [s.name for s in sources]
    if len(set(prefixes)) != len(prefixes):
        raise ValueError(f"sources need distinct folder names (the prefix of their files): {', '.join(map(str, sources))}")
    if vias and len(vias) != len(sources):
        raise ValueError(f"--via needs one file per source ({len(sources)}), got {len(vias)}")
    for src in sources:
        if not DatasetPaths(src).images.is_dir():
            raise FileNotFoundError(f"{src}: no images/ folder (not a dataset root)")
    for via in vias or []:
        if not via.is_file():
            raise FileNotFoundError(f"{via}: not a file")
    if out.exists():
        raise FileExistsError(f"{out} exists; give a new folder (nothing is overwritten)")
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))  # moved into place when complete
    try:
        counts = _merge_into(work, sources, prefixes, vias)
        os.rename(work, out)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return counts


def _merge_into(root: Path, sources: list[Path], prefixes: list[str], vias: list[Path] | None) -> dict[str, int]:
    dst = DatasetPaths(root)
    counts, rows, annotations, predicted, grids = {}, [], [], [], {}
    for src_root, prefix, via in zip(sources, prefixes, vias or [None] * len(sources), strict=True):
        src = DatasetPaths(src_root)
        images = src.image_files()
        for image in images:
            link_or_copy(image, dst.images / prefixed(prefix, image.name))
            depth = src.depth_file(image.stem)
            if depth is not None:
                link_or_copy(depth, dst.depth / prefixed(prefix, depth.name))
        if src.classes.is_dir():  # the classifier's class folders (classes/<label>/<image>)
            for f in sorted(p for p in src.classes.rglob("*") if p.is_file()):
                rel = f.relative_to(src.classes)
                link_or_copy(f, dst.classes / rel.parent / prefixed(prefix, f.name))
        if src.meta.is_file():
            for row in read_meta(src.meta):
                row = dict(row, id=prefixed(prefix, str(row["id"])))
                for key in ("image", "depth"):
                    if key in row:
                        path = Path(str(row[key]))
                        row[key] = str(path.with_name(prefixed(prefix, path.name)).as_posix())
                rows.append(row)
        if src.annotations.is_file():
            annotations += [_renamed(v, prefix) for v in read_via(src.annotations)]
        if via is not None:
            predicted += [_renamed(v, prefix) for v in read_via(via)]
        grids.update({prefixed(prefix, i): g for i, g in read_fill_grids(src.fill_grids).items()})
        counts[prefix] = len(images)
    if rows:
        write_meta(dst.meta, rows)
    if annotations:
        write_via(dst.annotations, annotations)
    if predicted:
        write_via(root / MERGED_VIA, predicted)
    if grids:
        write_fill_grids(dst.fill_grids, grids)
    return counts


def _renamed(image: ViaImage, prefix: str) -> ViaImage:
    return replace(image, filename=prefixed(prefix, Path(image.filename).name))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sources", nargs="+", type=Path, help="dataset roots to join")
    parser.add_argument("--out", required=True, type=Path, help="the new dataset root (must not exist)")
    parser.add_argument("--via", nargs="+", type=Path, default=None, help="a VIA file of each source's photos, in source order")
    args = parser.parse_args(argv)
    try:
        counts = merge(args.sources, args.out, args.via)
    except (OSError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"{args.out}: {sum(counts.values())} images ({', '.join(f'{k} {v}' for k, v in counts.items())})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
