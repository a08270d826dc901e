"""Fill-model training data: the dataset's photos with their corners, K, box size and true fill (meta.jsonl).

Per element: the photo (decoded once, kept in memory when it fits; in training, `data.nonsense_prob` of the draws
swap it for noise, a gradient or a flat colour: no open box; `data.degrade_prob` blur it and compress it as JPEG) -> corners jittered as the corner model errs, or the corner model's own corners of this photo (training,
`data.corners_from`) -> rectified opening + pose numbers (fillnet/rectify.py) -> flips that carry the pose numbers along,
colour jitter -> (model input (size, size, 8), target (fill, overfill, open)). With the grid head (`model.grid_head`)
the target goes on with (grid known 0/1, the fill grid as the square shows it, mirrored with it), from
<data>/fill_grids.npz (scripts/fill_grids.py); known where the corners drawn are the true ones, jittered or found.
A keras.utils.PyDataset: any backend.
"""

from __future__ import annotations

import functools
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from configs import FillnetConfig
from data.box_pose import GeometryError
from data.corners import canonical_order
from data.fill_grids import read_fill_grids
from data.images import read_image
from data.layout import DatasetPaths, read_meta
from data.splits import train_valid
from data.via import corners_by_stem
from fillnet.rectify import grid_cells, grid_in_square, model_input, rectify_with_order
from training.batches import CachedLoads, IndexedBatches, task_batches
from training.colour_jitter import colour_jitter_np

REFERENCE_DIAGONAL = 320.0  # corner jitter is given in px of a 256 x 192 image; larger photos get proportionally more


@dataclass
class Scenes:
    ids: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    corners: list[np.ndarray] = field(default_factory=list)  # (4, 2) canonical order, px of the stored image
    K: list[np.ndarray] = field(default_factory=list)
    lwh: list[tuple[float, float, float]] = field(default_factory=list)
    fill: list[float] = field(default_factory=list)
    overfill: list[bool] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    open: list[bool] = field(default_factory=list)  # False: a closed box or a box-free scene (its would-be rim corners)
    grids: list[np.ndarray | None] = field(default_factory=list)  # fill grids (<data>/fill_grids.npz), None where unknown

    FIELDS = ("ids", "images", "corners", "K", "lwh", "fill", "overfill")

    def subset(self, keep: list[bool]) -> Scenes:
        pick = [i for i, k in enumerate(keep) if k]
        return Scenes(*([getattr(self, f)[i] for i in pick] for f in self.FIELDS), skipped=[], open=[self.open[i] for i in pick],
                      grids=[self.grids[i] for i in pick])


def list_scenes(source: str | os.PathLike, with_closed: bool = True) -> Scenes:
    """Scenes of a dataset root whose meta.jsonl rows give corners, K, box_lwh_m and fill; the rest skipped with a reason.
    Rows of closed boxes and box-free scenes ("open": false, from nie synth's closed_prob / no_box_prob) come with
    open=False (their fill is meaningless), or are skipped with `with_closed=False`."""
    paths = DatasetPaths(Path(source))
    if not paths.meta.is_file():
        raise FileNotFoundError(f"{source}: no meta.jsonl (the fill model learns from scenes with a known fill: nie synth)")
    scenes = Scenes()
    grids = read_fill_grids(paths.fill_grids)
    for row in read_meta(paths.meta):
        name = Path(str(row.get("image", f"{row.get('id', '?')}.png"))).name
        is_open = row.get("open", True) is not False
        if not is_open and not with_closed:
            scenes.skipped.append((name, "no open box (a closed box or no box)"))
            continue
        missing = [k for k in ("fill", "corners", "K", "box_lwh_m") if k not in row]
        if missing:
            scenes.skipped.append((name, f"meta.jsonl lacks {', '.join(missing)}"))
            continue
        image = paths.images / name
        if not image.is_file():
            scenes.skipped.append((name, "missing file"))
            continue
        scenes.ids.append(str(row.get("id", image.stem)))
        scenes.images.append(str(image))
        scenes.corners.append(canonical_order(np.asarray(row["corners"], np.float64)))
        scenes.K.append(np.asarray(row["K"], np.float64))
        scenes.lwh.append(tuple(float(v) for v in row["box_lwh_m"]))
        scenes.fill.append(float(row["fill"]) if is_open else 0.0)
        scenes.overfill.append(bool(row.get("overfill", False)) and is_open)
        scenes.open.append(is_open)
        scenes.grids.append(grids.get(scenes.ids[-1]) if is_open else None)
    return scenes


def split_scenes(source: str | os.PathLike, cfg: FillnetConfig) -> tuple[Scenes, Scenes, list[tuple[str, str]]]:
    return train_valid(source, list_scenes, cfg.data.val_split, cfg.train.seed)


def jitter_corners(corners: np.ndarray, width: int, height: int, std_px: float, rng: np.random.Generator) -> np.ndarray:
    """Corners moved by Gaussian noise, std drawn per sample from 0..2 x `std_px` (in px of a 320 px diagonal image,
    scaled to this one): the model meets exact corners and corners worse than the corner model's typical error."""
    scale = math.hypot(width, height) / REFERENCE_DIAGONAL
    std = rng.uniform(0.0, 2.0 * std_px) * scale
    return canonical_order(corners + rng.normal(0.0, std, corners.shape))


def flip(opening: np.ndarray, pose: np.ndarray, horizontal: bool, vertical: bool) -> tuple[np.ndarray, np.ndarray]:
    """Mirror the rectified opening along L and / or W; the camera's place mirrors with it (an exact symmetry)."""
    pose = pose.copy()
    if horizontal:
        opening, pose[0] = opening[:, ::-1], -pose[0]
    if vertical:
        opening, pose[1] = opening[::-1], -pose[1]
    return np.ascontiguousarray(opening), pose


def same_corners(found: np.ndarray, true: np.ndarray, shape: tuple[int, ...], within: float = 0.05) -> bool:
    """Whether corners found (canonical order) are the true ones, corner by corner, within `within` of the photo's
    diagonal: then a fill grid in the true corners' frame holds for the square they rectify to."""
    return bool(np.linalg.norm(found - true, axis=1).max() <= within * math.hypot(shape[0], shape[1]))


def flip_grid(grid: np.ndarray, horizontal: bool, vertical: bool) -> np.ndarray:
    """A fill grid as the square shows it, mirrored as `flip` mirrors the opening."""
    if horizontal:
        grid = grid[:, ::-1]
    if vertical:
        grid = grid[::-1]
    return np.ascontiguousarray(grid)


def degrade(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A photo as a phone or a packing-line camera delivers it: a little out of focus (Gaussian blur, sigma 0..1.2 px,
    none a third of the time) and JPEG-compressed (quality 30..95). The shipped fill model lost 1.6 pp on 300 held-out
    scenes blurred by 0.8 px and saved at quality 50 (7.1 -> 8.7 pp, corners from the clean photos)."""
    import cv2

    sigma = rng.uniform(0.0, 1.2) if rng.uniform() < 2 / 3 else 0.0
    out = cv2.GaussianBlur(rgb, (0, 0), sigma) if sigma > 0.05 else rgb
    ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(out[..., ::-1]), [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(30, 96))])
    return np.ascontiguousarray(cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1]) if ok else out


def nonsense_picture(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """A uint8 picture with no box in it, for the open head: noise (blurred a random amount), a two-colour gradient
    at a random angle, or a flat colour with a little noise."""
    import cv2

    h, w = shape[:2]
    kind = rng.integers(3)
    if kind == 0:
        img = rng.uniform(0, 255, (h, w, 3)).astype(np.float32)
        sigma = rng.uniform(0.0, 3.0)
        if sigma > 0.3:
            img = cv2.GaussianBlur(img, (0, 0), sigma)
            img = (img - img.mean()) * (127.0 / max(1e-3, float(img.std()) * 2.5)) + 127.5
    elif kind == 1:
        a = rng.uniform(0, 2 * np.pi)
        ys, xs = np.mgrid[0:h, 0:w]
        g = np.cos(a) * xs + np.sin(a) * ys
        g = ((g - g.min()) / max(1e-6, float(np.ptp(g))))[..., None]
        c0, c1 = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
        img = (1 - g) * c0 + g * c1
    else:
        img = np.broadcast_to(rng.uniform(0, 255, 3), (h, w, 3)) + rng.normal(0, rng.uniform(0, 6), (h, w, 3))
    return np.clip(img, 0, 255).astype(np.uint8)


TRANSFER_DTYPE = np.float16  # training samples travel from the loader processes at half the bytes of float32 (the
# pose planes are 5 of the 8 channels): bench/loader_transfer.py; the model's float32 input casts them. float16 keeps
# pixel values 0..255 to 1/8 and the pose numbers to 1 part in 2,000.


class FillSamples:
    """One element at a time for training.batches.IndexedBatches (picklable for worker processes)."""

    def __init__(self, cfg: FillnetConfig, scenes: Scenes, training: bool, cache: bool,
                 predicted: list[np.ndarray | None] | None = None):
        self.cfg, self.scenes, self.training = cfg, scenes, training
        self.photos = CachedLoads(self._read, len(scenes.ids), cache)
        self.predicted = predicted or [None] * len(scenes.ids)  # the corner model's corners per scene (data.corners_from)

    def _read(self, i: int) -> tuple[np.ndarray]:
        return (read_image(self.scenes.images[i]),)

    def __call__(self, i: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        (rgb,) = self.photos(i)
        s, d = self.scenes, self.cfg.data
        corners = s.corners[i]
        target = np.array([s.fill[i], float(s.overfill[i]), float(s.open[i])], np.float32)
        if self.training and d.nonsense_prob > 0 and rng.uniform() < d.nonsense_prob:
            rgb, target = nonsense_picture(rgb.shape, rng), np.zeros(3, np.float32)  # the scene's corners on a picture without a box
        if self.training and d.degrade_prob > 0 and rng.uniform() < d.degrade_prob:
            rgb = degrade(rgb, rng)
        grid = s.grids[i] if target[2] > 0 else None  # a nonsense picture has no grid either
        predicted = self.predicted[i]
        if predicted is not None and (not self.training or rng.uniform() < d.corners_from_prob):  # validation: always
            corners = predicted  # the corners nie fill will meet: its errors on open boxes, its quads on anything else
            if not same_corners(predicted, s.corners[i], rgb.shape):
                grid = None  # another first corner (or a corner far off): the grid's frame is not the square's
        elif self.training and d.augment and d.corner_jitter_px > 0:
            corners = jitter_corners(corners, rgb.shape[1], rgb.shape[0], d.corner_jitter_px, rng)
        try:
            opening, pose, l_first = rectify_with_order(rgb, corners, s.K[i], s.lwh[i], d.size, d.margin)
        except GeometryError:  # a jitter that no pose fits: the exact corners instead
            opening, pose, l_first = rectify_with_order(rgb, s.corners[i], s.K[i], s.lwh[i], d.size, d.margin)
        x = opening.astype(np.float32)
        if grid is not None:
            grid = grid_in_square(grid, l_first)
        if self.training and d.augment:
            horizontal, vertical = rng.uniform() < 0.5, rng.uniform() < 0.5
            x, pose = flip(x, pose, horizontal, vertical)
            grid = None if grid is None else flip_grid(grid, horizontal, vertical)
            x = colour_jitter_np(x[None], rng, brightness=0.1, contrast=0.2, saturation=0.2, hue=0.03, value_range=255.0)[0]
        if self.cfg.model.grid_head:
            cells = grid_cells(d.size, d.margin)
            known = grid is not None and grid.shape == (cells, cells)
            target = np.concatenate([target, [float(known)], grid.ravel() if known else np.zeros(cells * cells)]).astype(np.float32)
        return model_input(x, pose).astype(TRANSFER_DTYPE), target


def predicted_corners(cfg: FillnetConfig, scenes: Scenes) -> list[np.ndarray | None]:
    """The corner model's corners of each scene's photo (by file stem) from `data.corners_from`, canonical order;
    None where the file has none (those draws keep the jittered true corners)."""
    path = cfg.data.corners_from
    if not path:
        return [None] * len(scenes.ids)
    if not Path(path).is_file():
        raise FileNotFoundError(f"data.corners_from: {path} is not a file (a VIA file of predicted corners: "
                                "nie predict keypoints --input <dataset>/images writes predictions_via.json)")
    by_stem = _corners_file(str(path), Path(path).stat().st_mtime_ns)
    return [canonical_order(by_stem[Path(p).stem]) if Path(p).stem in by_stem else None for p in scenes.images]


@functools.lru_cache(maxsize=2)
def _corners_file(path: str, mtime_ns: int) -> dict[str, np.ndarray]:
    """corners_by_stem, read once per version of the file (training and validation both ask for it)."""
    return corners_by_stem(path)


def _check_grids(cfg: FillnetConfig, scenes: Scenes) -> None:
    """The grid head needs fill grids of its own size for the training scenes."""
    cells = grid_cells(cfg.data.size, cfg.data.margin)
    shapes = {g.shape for g in scenes.grids if g is not None}
    if not shapes:
        raise ValueError("model.grid_head: no fill grids for these scenes (fill_grids.npz beside meta.jsonl: nie synth writes "
                         f"it; for a dataset made before, python -m scripts.fill_grids --data DATASET --grid {cells} and "
                         "the dataset's nie synth settings)")
    if shapes != {(cells, cells)}:
        raise ValueError(f"model.grid_head: fill_grids.npz holds {' and '.join(f'{a} x {b}' for a, b in sorted(shapes))} grids; "
                         f"this model needs {cells} x {cells} (python -m scripts.fill_grids --grid {cells})")


def make_dataset(cfg: FillnetConfig, scenes: Scenes, training: bool, seed: int | None = None) -> IndexedBatches:
    """Batches of (model input (B, size, size, 8), target (B, 3) = fill, overfill, open; with the grid head (B, 4 + G * G)
    = those, grid known, the grid)."""
    if not scenes.ids:
        raise ValueError("no scenes to load")
    seed = cfg.train.seed if seed is None else seed
    if cfg.model.grid_head and training:
        _check_grids(cfg, scenes)
    h, w = read_image(scenes.images[0]).shape[:2]
    cache = len(scenes.ids) * h * w * 3 / 2**20 <= cfg.data.cache_mb
    predicted = predicted_corners(cfg, scenes)
    if cfg.data.corners_from:
        found = sum(p is not None for p in predicted)
        use = f"used in {cfg.data.corners_from_prob:.0%} of their draws" if training else "validated on them"
        print(f"fillnet: the corner model's corners for {found} of {len(predicted)} {'training' if training else 'validation'} "
              f"scenes ({cfg.data.corners_from}), {use}")
    loads = FillSamples(cfg, scenes, training, cache, predicted)
    return task_batches(cfg, len(scenes.ids), loads, loads.photos, training, seed, "fillnet: decoding")
