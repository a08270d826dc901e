"""A contact sheet of a dataset: each image with its corners drawn, its depth coloured, and its
fill, label and overfill flag written on it, so a person can check the ground truth at a glance."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from data.depth_io import read_depth, valid_mask
from data.images import read_image, write_image
from data.layout import DatasetPaths, read_meta

_CORNER_COLOURS = [(255, 40, 40), (40, 220, 40), (40, 120, 255), (255, 220, 0)]  # corner 1..4, RGB


def colour_scalar(values: np.ndarray, lo: float, hi: float, colormap: int = cv2.COLORMAP_INFERNO) -> np.ndarray:
    """A scalar map as RGB through an OpenCV colormap, lo..hi mapped to its ends; NaN becomes black."""
    ok = np.isfinite(values)
    norm = np.clip((np.where(ok, values, lo) - lo) / max(hi - lo, 1e-12), 0, 1)
    rgb = cv2.applyColorMap((255 * norm).astype(np.uint8), colormap)[..., ::-1].copy()
    rgb[~ok] = 0
    return rgb


def colour_depth(depth: np.ndarray, lo: float | None = None, hi: float | None = None) -> np.ndarray:
    """Depth (metres, 0 = invalid) as an RGB picture: near = warm, far = cool, invalid = black.

    lo, hi: the depths mapped to the ends of the colour scale (default: the map's 1st and 99th percentiles).
    """
    ok = valid_mask(depth)
    if not ok.any():
        return np.zeros(depth.shape + (3,), np.uint8)
    if lo is None or hi is None:
        lo, hi = np.percentile(depth[ok], [1, 99])
    return colour_scalar(np.where(ok, -depth, np.nan), -hi, -lo, cv2.COLORMAP_TURBO)


def draw_corners(rgb: np.ndarray, corners: np.ndarray, thickness: int = 1) -> np.ndarray:
    """Draws the quadrilateral and numbered corner dots (1 = first in canonical order)."""
    img = rgb.copy()
    pts = np.round(np.asarray(corners) * 4).astype(np.int32)  # 2 bits of sub-pixel precision
    cv2.polylines(img, [pts.reshape(-1, 1, 2)], True, (255, 255, 255), thickness, cv2.LINE_AA, shift=2)
    for k, p in enumerate(pts):
        cv2.circle(img, (int(p[0]), int(p[1])), 3 * 4, _CORNER_COLOURS[k % 4], -1, cv2.LINE_AA, shift=2)
    return img


def caption(img: np.ndarray, lines: list[str]) -> None:
    """White text on a dark band at the top left, in place (thick outlines would change Hershey glyph spacing)."""
    scale = max(0.35, img.shape[0] / 450)
    step = int(16 * scale / 0.4)
    y = step - 3
    for line in lines:
        (w, h), base = cv2.getTextSize(line, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
        band = img[max(0, y - h - 3) : y + base, 0 : w + 8]
        band[:] = (band * 0.35).astype(np.uint8)
        cv2.putText(img, line, (4, y), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA)
        y += step


def contact_sheet(dataset: str | os.PathLike, out_png: str | os.PathLike, n: int = 12, columns: int = 3,
                  depth_scale: float = 1000.0) -> Path:
    """Writes a grid of the first n samples (image | depth per cell) to out_png and returns its path."""
    paths = DatasetPaths(Path(dataset))
    rows = read_meta(paths.meta)[:n]
    if not rows:
        raise ValueError(f"{paths.meta}: no samples to show")
    cells = []
    for row in rows:
        rgb = read_image(paths.root / row["image"])
        img = draw_corners(rgb, np.array(row["corners"]))
        lines = [f"{row['id']}  fill {100 * row['fill']:.1f}%  {row['label']}"]
        if row.get("overfill"):
            lines.append("OVERFILL")
        caption(img, lines)
        depth_file = paths.depth_file(row["id"])
        if depth_file is not None:
            depth = read_depth(depth_file, depth_scale)
            dimg = colour_depth(depth)
            ok = valid_mask(depth)
            caption(dimg, [f"depth {depth[ok].min():.2f}-{depth[ok].max():.2f} m" if ok.any() else "depth: none valid"])
            img = np.hstack([img, dimg])
        cells.append(img)
    sheet = tile_grid(cells, columns)
    write_image(out_png, sheet)
    return Path(out_png)


def tile_grid(tiles: list[np.ndarray], columns: int, pad: int = 4, width: int | None = None) -> np.ndarray:
    """RGB tiles in a grid, row by row, on a dark background; each tile first scaled to `width` px when given."""
    if not tiles:
        raise ValueError("no tiles to arrange")
    if width:
        tiles = [cv2.resize(t, (width, max(1, int(round(width * t.shape[0] / t.shape[1])))), interpolation=cv2.INTER_AREA)
                 for t in tiles]
    h = max(t.shape[0] for t in tiles)
    w = max(t.shape[1] for t in tiles)
    rows = []
    for r in range(0, len(tiles), columns):
        cells = [np.pad(t, ((0, h - t.shape[0] + pad), (0, w - t.shape[1] + pad), (0, 0)), constant_values=30) for t in tiles[r : r + columns]]
        cells += [np.full((h + pad, w + pad, 3), 30, np.uint8)] * (columns - len(cells))
        rows.append(np.hstack(cells))
    return np.vstack(rows)
