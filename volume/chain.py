"""Photo -> fill: the models (or a dataset's ground truth) give corners and depth, volume/ gives the fill.

This is the only module of volume/ that runs models: it opens them with the ModelRunner it is handed and runs
them through the task records of tasks/registry.py (never importing a task package, training/ or deploy/).
"""

from __future__ import annotations

import functools
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from configs import VolumeConfig
from data.corners import canonical_order
from data.depth_io import DepthReadError, read_depth
from data.images import ImageReadError
from data.intrinsics import intrinsics_from_exif, intrinsics_from_fov
from data.label_rule import label_for
from data.layout import DatasetPaths, read_meta
from tasks import registry
from tasks.record import ModelRunner, keras_runner
from volume.fill import Fill, learned_fill, metric_fill, normalised_fill
from volume.geometry import GeometryError, check_quad

CHAIN_TASKS = ("keypoints", "depth", "classifier", "fillnet")  # the models the chain runs; classifier and fillnet are optional
OPTIONAL = ("classifier", "fillnet")


@dataclass
class Models:
    keypoints: Any = None
    depth: Any = None
    classifier: Any = None
    fillnet: Any = None
    class_names: tuple[str, ...] = ("NOK", "OK")


def model_file(task: str, runner: ModelRunner) -> str:
    """keypoints.keras, depth.onnx, ...: the task record's file name with the runner's suffix."""
    return Path(registry.get(task).model_file).with_suffix(runner.suffix).name


def load_models(models_dir: str | os.PathLike, need_classifier: bool = True, runner: ModelRunner | None = None) -> Models:
    """The shipped (or the user's) models from a folder holding keypoints, depth [, classifier] model files, opened by
    `runner` (default: Keras, the .keras files; deploy.onnx_model.onnx_runner(): the .onnx files of `nie export`)."""
    runner = runner or keras_runner()
    folder = Path(models_dir)
    missing = [model_file(t, runner) for t in CHAIN_TASKS if t not in OPTIONAL and not (folder / model_file(t, runner)).is_file()]
    if missing:
        raise FileNotFoundError(f"{folder}: no {', '.join(missing)} ({runner.hint})")
    opened = {t: runner.open(registry.get(t), folder / model_file(t, runner)) for t in ("keypoints", "depth")}
    models = Models(opened["keypoints"], opened["depth"])
    if need_classifier and (folder / model_file("classifier", runner)).is_file():
        models.classifier = runner.open(registry.get("classifier"), folder / model_file("classifier", runner))
    if (folder / model_file("fillnet", runner)).is_file():
        models.fillnet = runner.open(registry.get("fillnet"), folder / model_file("fillnet", runner))
    return models


def classifier_only(models_dir: str | os.PathLike, runner: ModelRunner | None = None) -> Models | None:
    """Models with only the classifier of a models folder (to label `--oracle` measurements), or None without one."""
    runner = runner or keras_runner()
    path = Path(models_dir) / model_file("classifier", runner)
    if not path.is_file():
        return None
    return Models(classifier=runner.open(registry.get("classifier"), path))


@dataclass
class Photo:
    """What `nie fill` knows about one input image before measuring."""

    path: Path
    id: str
    rgb: np.ndarray
    K: np.ndarray | None
    K_source: str  # "meta", "exif", "fov" or "none"
    lwh: tuple[float, float, float]
    truth: dict[str, Any] | None = None  # the meta.jsonl row, when there is one


@dataclass
class Result:
    photo: Photo
    corners: np.ndarray
    depth: np.ndarray
    fills: dict[str, Fill]  # per method
    label: str
    label_source: str  # "classifier" or "rule"
    probability: float | None
    seconds: dict[str, float] = field(default_factory=dict)


def meta_beside(images: Path) -> dict[str, dict[str, Any]]:
    """meta.jsonl rows by image file name, from a dataset root given as the input or as its images/ folder."""
    for root in (images, images.parent):
        paths = DatasetPaths(root)
        if paths.meta.is_file() and paths.images.is_dir():
            return {Path(r["image"]).name: r for r in read_meta(paths.meta) if "image" in r}
    return {}


def parse_box(text: str) -> tuple[float, float, float]:
    """"LxWxH" in metres -> (L, W, H), L >= W."""
    try:
        parts = [float(p) for p in text.lower().replace("*", "x").split("x")]
    except ValueError:
        parts = []
    if len(parts) != 3 or min(parts) <= 0:
        raise ValueError(f"--box must be LxWxH in metres, e.g. 0.4x0.3x0.25; got {text!r}")
    L, W, H = parts
    return (max(L, W), min(L, W), H)


def make_photo(path: Path, rgb: np.ndarray, meta: dict[str, dict[str, Any]], cfg: VolumeConfig,
               box: tuple[float, float, float] | None) -> Photo:
    row = meta.get(path.name)
    h, w = rgb.shape[:2]
    K, source = None, "none"
    if row and "K" in row:
        K, source = np.asarray(row["K"], np.float64), "meta"
    else:
        K = intrinsics_from_exif(path, w, h)
        source = "exif" if K is not None else source
        if K is None and cfg.fov_deg > 0:
            K, source = intrinsics_from_fov(w, h, cfg.fov_deg), "fov"
    lwh = box or (tuple(row["box_lwh_m"]) if row and "box_lwh_m" in row else tuple(cfg.box_lwh_m))
    return Photo(path, path.stem, rgb, K, source, tuple(float(v) for v in lwh), row)


def _meta_by_id(meta: Path) -> dict[str, dict[str, Any]]:
    """A dataset's meta.jsonl rows by id, read once per version of the file (not once per image)."""
    return _read_meta_by_id(meta, meta.stat().st_mtime_ns) if meta.is_file() else {}


@functools.lru_cache(maxsize=4)
def _read_meta_by_id(meta: Path, mtime_ns: int) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in read_meta(meta)}


def oracle_inputs(dataset: str | os.PathLike, photo: Photo) -> tuple[np.ndarray, np.ndarray]:
    """Ground-truth corners (meta) and depth (depth/<id>.png) of a dataset image."""
    paths = DatasetPaths(Path(dataset))
    row = photo.truth if photo.truth is not None else _meta_by_id(paths.meta).get(photo.id)
    if row is None or "corners" not in row:
        raise ValueError(f"{photo.path.name}: no ground-truth corners in {paths.meta}")
    depth_file = paths.depth_file(photo.id)
    if depth_file is None:
        raise ValueError(f"{photo.path.name}: no ground-truth depth in {paths.depth}")
    try:
        depth = read_depth(depth_file)
    except DepthReadError as err:
        raise ValueError(str(err)) from None
    if depth.shape != photo.rgb.shape[:2]:
        raise ValueError(f"{photo.path.name}: depth {depth.shape[1]}x{depth.shape[0]} does not match the image")
    return canonical_order(np.asarray(row["corners"], np.float64)), depth


def measure(photo: Photo, corners: np.ndarray, depth: np.ndarray, cfg: VolumeConfig, methods: tuple[str, ...],
            measured_depth: bool, learned: tuple[float, float] | None = None) -> dict[str, Fill]:
    """Fill by each method; GeometryError (a clear message) when the inputs give no geometry.

    `learned` is the fill model's (fill, overfill probability); without it (no fillnet model, no intrinsics) the
    learned method falls back to the metric one (then to the normalised one), and its Fill says so."""
    h, w = photo.rgb.shape[:2]
    check_quad(corners, w, h)
    out = {}
    for method in methods:
        if method == "learned" and learned is not None:
            out[method] = learned_fill(*learned, photo.lwh)
        elif method in ("learned", "metric") and photo.K is not None:
            out[method] = metric_fill(depth, photo.K, corners, photo.lwh, grid_px=cfg.grid_px, wall_margin=cfg.wall_margin,
                                      overfill_margin_m=cfg.overfill_margin_m, scale="none" if measured_depth else cfg.depth_scale_fix,
                                      hidden_rule=cfg.hidden_rule)
        else:  # the seed's method (also the fallback without intrinsics)
            out[method] = normalised_fill(depth, corners, photo.lwh, grid_px=cfg.grid_px)
        if method != out[method].method:
            out[method].extra["fallback_from"] = method
    return out


def run_photo(photo: Photo, models: Models | None, cfg: VolumeConfig, methods: tuple[str, ...], oracle: str | None = None) -> Result:
    """Corners, depth and label for one photo (models or oracle), then the fill by each method."""
    seconds: dict[str, float] = {}
    t = time.perf_counter()
    if oracle:
        corners, depth = oracle_inputs(oracle, photo)
        seconds["inputs"] = time.perf_counter() - t
    else:
        corners = registry.get("keypoints").infer(models.keypoints, [photo.rgb])[0]
        seconds["keypoints"] = time.perf_counter() - t
        t = time.perf_counter()
        depth = registry.get("depth").infer(models.depth, [photo.rgb])[0]
        seconds["depth"] = time.perf_counter() - t
    probability, label_source = None, "rule"
    if models is not None and models.classifier is not None:
        t = time.perf_counter()
        p = registry.get("classifier").infer(models.classifier, [photo.rgb])[0]
        seconds["classifier"] = time.perf_counter() - t
        label, probability, label_source = models.class_names[int(np.argmax(p))], float(p.max()), "classifier"
    learned = None
    if "learned" in methods and models is not None and models.fillnet is not None and photo.K is not None:
        t = time.perf_counter()
        learned = registry.get("fillnet").infer(models.fillnet, [(photo.rgb, corners, photo.K, photo.lwh)])[0]
        seconds["fillnet"] = time.perf_counter() - t
    t = time.perf_counter()
    fills = measure(photo, corners, depth, cfg, methods, measured_depth=bool(oracle), learned=learned)
    seconds["volume"] = time.perf_counter() - t
    if label_source == "rule":
        main = fills[methods[0]]
        label = label_for(main.fill, main.overfill, cfg.label_rule)
    return Result(photo, corners, depth, fills, label, label_source, probability, seconds)


READ_ERRORS = (ImageReadError, GeometryError, ValueError, FileNotFoundError, json.JSONDecodeError)
