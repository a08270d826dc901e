"""Photo -> fill: the models (or a dataset's ground truth) give corners and depth, volume/ gives the fill.

This is the only module of volume/ that runs models: it opens them with the ModelRunner it is handed and runs
them through the task records of tasks/registry.py (never importing a task package, training/ or deploy/).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from configs import VolumeConfig
from data.corners import canonical_order
from data.depth_io import DepthReadError, read_depth
from data.images import ImageReadError
from data.intrinsics import intrinsics_from_exif, intrinsics_from_fov, rescale_intrinsics
from data.label_rule import label_for
from data.layout import DatasetPaths, read_meta
from tasks import registry
from tasks.record import ModelRunner, keras_runner
from volume.checks import NoBox, check_box, low_confidence, not_open
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
    box_source: str = "meta"  # "option" (--box), "meta" or "default" (configs.py)
    full_wh: tuple[int, int] | None = None  # (width, height) of the photo as stored; rgb may be smaller (work_max_side)

    @property
    def scale(self) -> float:
        """Pixels of the stored photo per pixel of the working copy (1 unless the photo was shrunk)."""
        return 1.0 if self.full_wh is None else self.full_wh[0] / self.rgb.shape[1]

    def to_full(self, points: np.ndarray) -> np.ndarray:
        """Working-copy pixels -> the stored photo's pixels (pixel centres at integers)."""
        return (np.asarray(points, np.float64) + 0.5) * self.scale - 0.5

    def to_work(self, points: np.ndarray) -> np.ndarray:
        return (np.asarray(points, np.float64) + 0.5) / self.scale - 0.5


@dataclass
class Result:
    photo: Photo
    corners: np.ndarray
    depth: np.ndarray
    fills: dict[str, Fill]  # per method
    label: str  # the label rule applied to the main method's fill and overfill
    probability: float | None  # the classifier's probability of its label, when there is one
    seconds: dict[str, float] = field(default_factory=dict)
    confidence: np.ndarray | None = None  # per corner, from a heat-map corner model
    uncertain: list[str] = field(default_factory=list)  # why the numbers are not to be trusted (empty: measured)
    classifier_label: str | None = None  # the classifier's opinion, when there is one
    failed: dict[str, str] = field(default_factory=dict)  # per method beside the main one that gave no fill: why


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
    if max(parts) > 5:
        guess = "x".join(f"{p / 100:g}" for p in parts)
        raise ValueError(f"--box is in metres: {text} would be a box of {max(parts):g} m (centimetres? then --box {guess})")
    L, W, H = parts
    return (max(L, W), min(L, W), H)


def make_photo(path: Path, rgb: np.ndarray, meta: dict[str, dict[str, Any]], cfg: VolumeConfig,
               box: tuple[float, float, float] | None, photo_id: str | None = None, full_wh: tuple[int, int] | None = None) -> Photo:
    """The photo with its intrinsics and box size (K for the working copy `rgb`, which may be smaller than the
    stored photo of size `full_wh`)."""
    row = meta.get(path.name)
    h, w = rgb.shape[:2]
    full_wh = full_wh or (w, h)
    K, source = None, "none"
    if row and "K" in row:
        K, source = rescale_intrinsics(np.asarray(row["K"], np.float64), full_wh, (w, h)), "meta"
    else:
        K = intrinsics_from_exif(path, w, h)
        source = "exif" if K is not None else source
        if K is None and cfg.fov_deg > 0:
            K, source = intrinsics_from_fov(w, h, cfg.fov_deg), "fov"
    if box:
        lwh, box_source = box, "option"
    elif row and "box_lwh_m" in row:
        lwh, box_source = tuple(row["box_lwh_m"]), "meta"
    else:
        lwh, box_source = tuple(cfg.box_lwh_m), "default"
    return Photo(path, photo_id or path.stem, rgb, K, source, tuple(float(v) for v in lwh), row, box_source, full_wh)


def _meta_by_id(meta: Path) -> dict[str, dict[str, Any]]:
    """A dataset's meta.jsonl rows by id, read once per version of the file (not once per image)."""
    return _read_meta_by_id(meta, meta.stat().st_mtime_ns) if meta.is_file() else {}


@functools.lru_cache(maxsize=4)
def _read_meta_by_id(meta: Path, mtime_ns: int) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in read_meta(meta)}


def oracle_inputs(dataset: str | os.PathLike, photo: Photo) -> tuple[np.ndarray, np.ndarray]:
    """Ground-truth corners (meta) and depth (depth/<id>.png) of a dataset image."""
    paths = DatasetPaths(Path(dataset))
    row = photo.truth if photo.truth is not None else _meta_by_id(paths.meta).get(photo.path.stem)
    if row is None or "corners" not in row:
        raise ValueError(f"{photo.path.name}: no ground-truth corners in {paths.meta}")
    depth_file = paths.depth_file(photo.path.stem)
    if depth_file is None:
        raise ValueError(f"{photo.path.name}: no ground-truth depth in {paths.depth}")
    try:
        depth = read_depth(depth_file)
    except DepthReadError as err:
        raise ValueError(str(err)) from None
    if (depth.shape[1], depth.shape[0]) != photo.full_wh:
        raise ValueError(f"{photo.path.name}: depth {depth.shape[1]}x{depth.shape[0]} does not match the image")
    if depth.shape != photo.rgb.shape[:2]:  # a shrunk working copy: nearest, so invalid pixels never blend
        depth = cv2.resize(depth, (photo.rgb.shape[1], photo.rgb.shape[0]), interpolation=cv2.INTER_NEAREST)
    return photo.to_work(canonical_order(np.asarray(row["corners"], np.float64))), depth


def measure(photo: Photo, corners: np.ndarray, depth: np.ndarray, cfg: VolumeConfig, methods: tuple[str, ...],
            measured_depth: bool, learned: tuple | None = None, failed: dict[str, str] | None = None) -> dict[str, Fill]:
    """Fill by each method; GeometryError (a clear message) when the inputs give the first (main) method no geometry.
    A method beside the main one that fails is left out of the answer (`failed` gets its reason), so that scoring
    several methods side by side never drops a photo the main method, all `nie fill` runs, measures.

    `learned` is the fill model's (fill, overfill probability, open-box probability); without it (no fillnet model, no intrinsics) the
    learned method falls back to the metric one (then to the normalised one), and its Fill says so. The metric height
    map is made at most once per photo: it serves the metric method, the fallback and the learned method's range."""
    h, w = photo.rgb.shape[:2]
    check_quad(corners, w, h)
    made: dict[str, Fill] = {}

    def metric() -> Fill:
        if "metric" not in made:
            made["metric"] = metric_fill(depth, photo.K, corners, photo.lwh, grid_px=cfg.grid_px, wall_margin=cfg.wall_margin,
                                         overfill_margin_m=cfg.overfill_margin_m, scale="none" if measured_depth else cfg.depth_scale_fix,
                                         hidden_rule=cfg.hidden_rule)
        return dataclasses.replace(made["metric"], extra=dict(made["metric"].extra))  # each method its own details

    out = {}
    for k, method in enumerate(methods):
        try:
            out[method] = _one_method(method, photo, corners, depth, cfg, metric, learned)
        except GeometryError as err:
            if k == 0:
                raise
            if failed is not None:
                failed[method] = str(err)
    return out


def _one_method(method: str, photo: Photo, corners: np.ndarray, depth: np.ndarray, cfg: VolumeConfig,
                metric: Callable[[], Fill], learned: tuple | None) -> Fill:
    if method == "learned" and learned is not None:
        fill = learned_fill(learned[0], learned[1], photo.lwh, learned[3] if len(learned) > 3 else None)
        fill.extra.update(_evidence_range(metric, fill.fill) if photo.K is not None else {"fill_low": fill.fill, "fill_high": fill.fill})
    elif method in ("learned", "metric") and photo.K is not None:
        fill = metric()
    else:  # the seed's method (also the fallback without intrinsics)
        fill = normalised_fill(depth, corners, photo.lwh, grid_px=cfg.grid_px)
    if method != fill.method:
        fill.extra["fallback_from"] = method
    return fill


def _evidence_range(metric: Callable[[], Fill], fill: float) -> dict[str, float]:
    """fill_low / fill_high for a method without a height map: the metric map's range, widened to hold `fill`."""
    try:
        m = metric()
    except GeometryError:
        return {"fill_low": fill, "fill_high": fill}
    return {"fill_low": min(m.extra["fill_low"], fill), "fill_high": max(m.extra["fill_high"], fill)}


def run_photo(photo: Photo, models: Models | None, cfg: VolumeConfig, methods: tuple[str, ...], oracle: str | None = None) -> Result:
    """Corners, depth and label for one photo (models or oracle), then the fill by each method."""
    seconds: dict[str, float] = {}
    t = time.perf_counter()
    confidence = None
    if oracle:
        corners, depth = oracle_inputs(oracle, photo)
        seconds["inputs"] = time.perf_counter() - t
        uncertain: list[str] = []
        learned = _learned(photo, corners, models, methods, seconds)  # the fill model on the exact corners: no open check
    else:
        gates = read_gates(photo, models, methods, cfg, seconds)
        reason = gates.no_box_reason(cfg)
        if reason:  # before the depth model: no_box costs less
            raise NoBox(reason)
        corners, confidence, uncertain, learned = gates.corners, gates.confidence, gates.uncertain, gates.learned
        t = time.perf_counter()
        depth = registry.get("depth").infer(models.depth, [photo.rgb])[0]
        seconds["depth"] = time.perf_counter() - t
    if photo.K_source == "fov":
        uncertain.append(f"no intrinsics (meta.jsonl K or EXIF focal length): a {cfg.fov_deg:g}-degree field of view was assumed")
    if photo.box_source == "default":
        uncertain.append("no box size (--box or meta.jsonl): the default {:g}x{:g}x{:g} m was assumed".format(*photo.lwh))
    probability, classifier_label = None, None
    if models is not None and models.classifier is not None:
        t = time.perf_counter()
        p = registry.get("classifier").infer(models.classifier, [photo.rgb])[0]
        seconds["classifier"] = time.perf_counter() - t
        classifier_label, probability = models.class_names[int(np.argmax(p))], float(p.max())
    t = time.perf_counter()
    failed: dict[str, str] = {}
    fills = measure(photo, corners, depth, cfg, methods, measured_depth=bool(oracle), learned=learned, failed=failed)
    seconds["volume"] = time.perf_counter() - t
    main = fills[methods[0]]
    label = label_for(main.fill, main.overfill, cfg.label_rule)  # the label follows the measured numbers
    return Result(photo, corners, depth, fills, label, probability, seconds, confidence, uncertain, classifier_label, failed)


@dataclass
class Gates:
    """What nie fill's no_box checks read, before any threshold (bench/no_box_thresholds.py sweeps the thresholds)."""

    corners: np.ndarray
    confidence: np.ndarray | None  # per corner, from the heat maps (None: a regressor or an exported model)
    quad_error: str | None = None  # the corners make no quadrilateral inside the picture
    box_error: str | None = None  # no box of the given size fits the corners
    uncertain: list[str] = field(default_factory=list)  # check_box's reasons for `uncertain`
    learned: tuple | None = None  # the fill model's (fill, overfill, open, grid or None) where the geometry holds

    @property
    def open_probability(self) -> float | None:
        return None if self.learned is None else self.learned[2]

    def no_box_reason(self, cfg: VolumeConfig) -> str | None:
        """Why the picture is no_box under cfg's thresholds (the first check that says so, in nie fill's order), or None."""
        return self.quad_error or low_confidence(self.confidence, cfg) or self.box_error or not_open(self.open_probability, cfg)


def read_gates(photo: Photo, models: Models, methods: tuple[str, ...], cfg: VolumeConfig,
               seconds: dict[str, float] | None = None) -> Gates:
    """The corner model's corners and confidence, the geometry checks, and the fill model's answer where they hold."""
    seconds = {} if seconds is None else seconds
    t = time.perf_counter()
    corners, confidence = registry.get("keypoints").infer(models.keypoints, [photo.rgb], refine=cfg.corner_refine)[0]
    seconds["keypoints"] = time.perf_counter() - t
    gates = Gates(corners, confidence)
    h, w = photo.rgb.shape[:2]
    try:
        check_quad(corners, w, h)
    except GeometryError as err:
        gates.quad_error = f"no open box found ({err})"
        return gates
    try:
        gates.uncertain = check_box(corners, photo.K, photo.lwh, w, h, cfg)
    except NoBox as err:
        gates.box_error = str(err)
        return gates
    gates.learned = _learned(photo, corners, models, methods, seconds)
    return gates


def _learned(photo: Photo, corners: np.ndarray, models: Models | None, methods: tuple[str, ...],
             seconds: dict[str, float]) -> tuple | None:
    """The fill model's (fill, overfill probability, open-box probability, its grid or None) when the learned method
    can run."""
    if "learned" not in methods or models is None or models.fillnet is None or photo.K is None:
        return None
    t = time.perf_counter()
    learned = registry.get("fillnet").infer(models.fillnet, [(photo.rgb, corners, photo.K, photo.lwh)], grids=True)[0]
    seconds["fillnet"] = time.perf_counter() - t
    return learned


READ_ERRORS = (ImageReadError, GeometryError, ValueError, FileNotFoundError, json.JSONDecodeError)
