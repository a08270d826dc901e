"""The fill of a synthetic scene cell by cell: a coarse grid over the box floor, in the frame of the photo's corners.

Cell (i, j) of a G x G grid covers the part of the floor between i / G and (i + 1) / G of the way from corner 0 to
corner 3 and between j / G and (j + 1) / G from corner 0 to corner 1 (the canonical corners of the photo,
shared/conventions.md), and holds the mean of min(h, H) / H there: the conventions' fill, cell by cell, so the
grid's mean is the scene's fill (to the ground-truth grid's sampling). A learned fill model can learn where the
content lies from it, not only how much there is (fillnet `model.grid_head`).

The scene geometry depends only on the sample's seed and the generator's settings, not on the texture bank or on
the rendering, so the grid of a scene already rendered is had again without rendering it: `python -m
scripts.fill_grids`.
"""

from __future__ import annotations

import numpy as np

from data.corners import canonical_order
from data.synth.scene import Scene, ground_truth_height


def rim_corners_in_photo_order(scene: Scene) -> np.ndarray:
    """(4, 2) the rim corners' (x, y) in the box frame, in the canonical order of their places in the photo."""
    world = scene.rim_corners_world()
    uv, _ = scene.project(world)
    ordered = canonical_order(uv)
    order = [int(np.argmin(np.linalg.norm(uv - p, axis=1))) for p in ordered]
    return world[order, :2]


def fill_grid(scene: Scene, grid: int) -> np.ndarray:
    """(grid, grid) float32: the scene's fill per cell (module docstring); rows from corner 0 towards corner 3."""
    if grid < 1:
        raise ValueError(f"grid must be at least 1, got {grid}")
    hmap = scene.truth_heights if scene.truth_heights is not None else ground_truth_height(scene)
    w = rim_corners_in_photo_order(scene)
    along_1, along_3 = w[1] - w[0], w[3] - w[0]  # the rim is a rectangle: the two edges are perpendicular
    X, Y = np.meshgrid(hmap.xs, hmap.ys)
    rel = np.stack([X.ravel(), Y.ravel()], axis=1) - w[0]
    u = rel @ along_1 / (along_1 @ along_1)  # 0..1 from corner 0 to corner 1
    v = rel @ along_3 / (along_3 @ along_3)  # 0..1 from corner 0 to corner 3
    col = np.clip((u * grid).astype(int), 0, grid - 1)
    row = np.clip((v * grid).astype(int), 0, grid - 1)
    share = np.minimum(hmap.h.ravel(), scene.H) / scene.H
    total = np.zeros(grid * grid)
    count = np.zeros(grid * grid)
    np.add.at(total, row * grid + col, share)
    np.add.at(count, row * grid + col, 1.0)
    return (total / np.maximum(count, 1.0)).reshape(grid, grid).astype(np.float32)
