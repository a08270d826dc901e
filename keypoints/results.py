"""Keypoint results: `nie predict keypoints`, `nie evaluate keypoints` (one or several sources compared)
and `nie augment-preview keypoints`."""

from __future__ import annotations

import json
import os
import weakref
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from tqdm import tqdm

from configs import CornerRefineConfig, KeypointsConfig
from data.atomic_files import write_bytes_atomic, write_csv_atomic, write_text_atomic
from data.contact_sheet import caption, tile_grid
from data.corners import canonical_order
from data.figures import figure_png, pyplot
from data.images import read_image, write_image
from data.inputs import ItemReport, iter_images, list_inputs
from data.via import ViaImage, corners_by_stem, polyline_region, write_via
from keypoints.data import list_samples, to_pixels
from keypoints.decode import local_soft_argmax, peak_mass, soft_argmax
from keypoints.draw import draw_points
from keypoints.metrics import METRIC_NAMES, corner_errors, keypoint_metrics
from keypoints.model import heatmap_model
from keypoints.refine import refine as refine_corners
from tasks.model_files import load_model as load_model_file


def load_model(path: str | os.PathLike):
    import keypoints.losses  # noqa: F401  (registers the custom objects)
    import keypoints.model  # noqa: F401

    return load_model_file(path, task="keypoints")


def predict_corners(model, images: list[np.ndarray], batch_size: int = 16, refine: CornerRefineConfig | None = None) -> list[np.ndarray]:
    """Corners (K, 2) in each image's own pixels, canonical order: resized to the model input, predicted in
    normalised coordinates, mapped back exactly (x = n * width - 0.5) whatever the size and aspect ratio, then looked
    at again as `refine` says (keypoints/refine.py; None: the configs' defaults, refine.PLAIN: one reading). A
    heat-map model's corners are read inside a window around each peak (keypoints/decode.py)."""
    return corners_with_confidence(model, images, batch_size, refine)[0]


def corners_with_confidence(model, images: list[np.ndarray], batch_size: int = 16, refine: CornerRefineConfig | None = None,
                            ) -> tuple[list[np.ndarray], list[np.ndarray | None]]:
    """Corners as predict_corners, and per corner a confidence in [0, 1] from a heat-map model's first reading: the
    share of the heat map's softmax mass within 1.5 cells of the whole map's soft-argmax (a sharp single peak gives 1;
    a spread or split map, as on pictures without a box, far less: its expectation falls between the bumps). None per
    image for a regressor or an exported model."""
    refine = CornerRefineConfig() if refine is None else refine
    read = _reader(model)
    _, h, w, _ = model.input_shape
    corners, confidence = [], []
    for start in range(0, len(images), batch_size):
        chunk = images[start : start + batch_size]
        x = np.stack([cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA) for img in chunk]).astype(np.float32)
        final, first, conf = refine_corners(read, chunk, x, refine)
        for i, img in enumerate(chunk):
            pts = to_pixels(final[i], img.shape[1], img.shape[0])
            c = None if conf is None else conf[i]
            if len(pts) >= 3:  # the confidences follow their corners (of the first reading) into the canonical order
                pts = canonical_order(pts)
                if c is not None:
                    seen = to_pixels(first[i], img.shape[1], img.shape[0])
                    c = c[[int(np.argmin(np.linalg.norm(seen - p, axis=1))) for p in pts]]
            corners.append(pts)
            confidence.append(c)
    return corners, confidence


def _reader(model):
    """The model as a Reader (keypoints/refine.py): a batch at its input size -> (B, K, 2) normalised corners and
    (B, K) confidences (None for a regressor)."""
    with_maps = _with_heatmaps(model)
    if with_maps is None:
        def read(x):
            pred = np.asarray(model.predict(x, verbose=0), np.float64)
            return pred.reshape(len(x), -1, 2), None
        return read

    def read_maps(x):
        pred, maps = with_maps.predict(x, verbose=0)
        whole = np.asarray(pred, np.float64).reshape(len(x), -1, 2)
        corners = np.stack([local_soft_argmax(m) for m in maps])
        return corners, np.stack([peak_mass(m, c) for m, c in zip(maps, whole, strict=True)])  # around the whole map's soft-argmax: a split or spread map scores low there
    return read_maps


_HEATMAP_MODELS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class _ExportedHeatmaps:
    """An exported heat-map model (its output: the maps, keypoints/model.py export_graph) as a two-output twin."""

    def __init__(self, model):
        self.model = model

    def predict(self, x, verbose=0):
        maps = np.asarray(self.model.predict(x, verbose=verbose))
        return soft_argmax(maps), maps


def _with_heatmaps(model):
    """The model's two-output twin (corners, heat maps), made once per model: a new one per call would be traced
    again by every predict (about a second a photo). An exported model (onnxruntime) has one when it outputs maps."""
    if not hasattr(model, "get_layer"):
        return _ExportedHeatmaps(model) if len(getattr(model, "output_shape", ())) == 4 else None
    if model not in _HEATMAP_MODELS:
        _HEATMAP_MODELS[model] = heatmap_model(model)
    return _HEATMAP_MODELS[model]


CHUNK_BYTES = 256 * 2**20  # decoded photos held at once by predict_folder
DECODE_AHEAD = 16  # photos decoded by background threads while the model reads the ones before (12 MP photos: about 0.6 GB)


def predict_folder(model_path: str, source: str, out: str, cfg: KeypointsConfig, progress: bool = True,
                   batch_size: int = 32, decode_ahead: int = DECODE_AHEAD) -> ItemReport:
    """Per image: out/<name>.json (corners, size) and out/<name>.png (drawn, unless `results.pictures` is off);
    out/predictions_via.json for VIA. Images go through the model `batch_size` at a time (one by one, a GPU waits on
    every call), the next ones decoded by background threads meanwhile (`decode_ahead`; 0: in turn)."""
    model = load_model(model_path)
    out_dir = Path(out)
    report = ItemReport()
    via = []

    def flush(chunk: list[tuple[Path, np.ndarray]]) -> None:
        for (path, rgb), corners in zip(chunk, predict_corners(model, [rgb for _, rgb in chunk], batch_size, cfg.refine), strict=True):
            record = {"image": path.name, "width": rgb.shape[1], "height": rgb.shape[0],
                      "corners": [[round(float(x), 2), round(float(y), 2)] for x, y in corners]}
            write_text_atomic(out_dir / f"{path.stem}.json", json.dumps(record, indent=1) + "\n")
            if cfg.results.pictures:
                write_image(out_dir / f"{path.stem}.png", draw_points(rgb, corners, (255, 60, 60), radius=max(2, rgb.shape[1] // 160)))
            via.append(ViaImage(path.name, path.stat().st_size, [polyline_region(corners, cfg.label)], {}))
            report.done.append(path.stem)
        chunk.clear()

    chunk: list[tuple[Path, np.ndarray]] = []
    for item in iter_images(list_inputs(source), report, "predict keypoints", progress, ahead=decode_ahead):
        chunk.append(item)
        if len(chunk) >= batch_size or sum(rgb.nbytes for _, rgb in chunk) > CHUNK_BYTES:  # phone photos: a few at a time
            flush(chunk)
    flush(chunk)
    if via:
        write_via(out_dir / "predictions_via.json", via)
    return report


# ----------------------------------------------------------------------------------------------
# Evaluation
# ----------------------------------------------------------------------------------------------
def _score(samples, predicted: dict[str, np.ndarray]) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    rows, skipped = [], []
    for image_id, corners, size in zip(samples.ids, samples.corners, samples.sizes, strict=True):
        if image_id not in predicted:
            skipped.append((image_id, "no prediction"))
            continue
        m = keypoint_metrics(predicted[image_id], corners, size)
        rows.append({"id": image_id, **m, "errors_px": corner_errors(predicted[image_id], corners).tolist()})
    return rows, skipped


def _summary(rows: list[dict[str, Any]]) -> dict[str, float]:
    return {k: float(np.nanmean([r[k] for r in rows])) for k in METRIC_NAMES}


def _plots(out: Path, rows: list[dict[str, Any]], samples, predicted: dict[str, np.ndarray], worst_n: int) -> None:
    plt = pyplot()

    diag = {i: float(np.hypot(*s)) for i, s in zip(samples.ids, samples.sizes, strict=True)}
    errs = np.concatenate([np.asarray(r["errors_px"]) / diag[r["id"]] * 100 for r in rows])
    fig, ax = plt.subplots(figsize=(6, 4), constrained_layout=True)
    ax.hist(errs, bins=60, range=(0, max(5.0, float(np.percentile(errs, 99)))), color="tab:blue")
    ax.axvline(1.5, color="grey", ls="--", lw=0.8)
    ax.set_xlabel("corner error, % of the image diagonal (dashed: 1.5 %)")
    ax.set_ylabel("corners")
    write_bytes_atomic(out / "error_histogram.png", figure_png(fig))
    worst = sorted(rows, key=lambda r: r["iou"])[:worst_n]
    if worst:
        index = {i: (p, c) for i, p, c in zip(samples.ids, samples.images, samples.corners, strict=True)}
        tiles = []
        for r in worst:
            path, truth = index[r["id"]]
            img = draw_points(read_image(path), truth, (40, 220, 40))
            img = draw_points(img, predicted[r["id"]], (255, 60, 60))
            caption(img, [f"{r['id']} IoU {r['iou']:.3f}"])
            tiles.append(img)
        write_image(out / "worst.png", tile_grid(tiles, 4, pad=2, width=256))


def evaluate(data: str, out: str, cfg: KeypointsConfig, models: list[str] | None = None, preds: list[str] | None = None,
             progress: bool = True) -> dict[str, Any]:
    """Scores one or more models and VIA prediction files against the dataset's annotations.

    One source: out/metrics.json (mean_px, mean_pct_diag, iou, pck_05, n, skipped) with per_image.csv,
    error_histogram.png, worst.png. Several: the same per source under out/<name>/, and out/metrics.json
    plus out/comparison.md ranking them (highest IoU first, then lowest distance).
    """
    sources = [("model", m) for m in models or []] + [("pred", p) for p in preds or []]
    if not sources:
        raise ValueError("give --model and/or --pred")
    samples = list_samples(data, cfg.model.num_keypoints, cfg.label)
    if not samples.ids:
        raise ValueError(f"{data}: no annotated images ({len(samples.skipped)} skipped)")
    results: dict[str, dict[str, Any]] = {}
    names = _source_names(sources)
    for (kind, src), name in zip(sources, names, strict=True):
        head = None
        if kind == "model":
            model = load_model(src)
            head = "heatmap" if heatmap_model(model) is not None else "regress"
            images = [read_image(p) for p in tqdm(samples.images, desc=f"read ({name})", unit="img", disable=not progress)]
            predicted = dict(zip(samples.ids, predict_corners(model, images, refine=cfg.refine), strict=True))
        else:
            predicted = corners_by_stem(src, cfg.model.num_keypoints, cfg.label)
        rows, skipped = _score(samples, predicted)
        if not rows:
            raise ValueError(f"{src}: no image could be scored ({len(skipped)} without a prediction)")
        metrics = {**_summary(rows), "n": len(rows), "skipped": [{"id": i, "reason": r} for i, r in samples.skipped + skipped],
                   "source": {"kind": kind, "path": str(src), **({"head": head} if head else {})}}
        target = Path(out) if len(sources) == 1 else Path(out) / name
        write_text_atomic(target / "metrics.json", json.dumps(metrics, indent=1) + "\n")
        write_csv_atomic(target / "per_image.csv",
                         ({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items() if k != "errors_px"} for r in rows),
                         ["id", *METRIC_NAMES])
        _plots(target, rows, samples, predicted, cfg.results.worst_n)
        results[name] = metrics
    if len(sources) == 1:
        return next(iter(results.values()))
    ranking = sorted(results, key=lambda n: (-results[n]["iou"], results[n]["mean_px"]))
    table = ["| source | head | iou | mean_px | mean_pct_diag | mean_pct_diag, any start | pck_05 | n |", "|---|---|---|---|---|---|---|---|"]
    table += [f"| {n} | {results[n]['source'].get('head', '-')} | {results[n]['iou']:.4f} | {results[n]['mean_px']:.2f} | "
              f"{results[n]['mean_pct_diag']:.3f} | {results[n]['mean_pct_diag_any_start']:.3f} | {results[n]['pck_05']:.3f} | "
              f"{results[n]['n']} |" for n in ranking]
    write_text_atomic(Path(out) / "comparison.md", "\n".join(table) + "\n")
    combined = {"sources": results, "best": ranking[0], "ranking": ranking}
    write_text_atomic(Path(out) / "metrics.json", json.dumps(combined, indent=1) + "\n")
    return combined


def _source_names(sources: list[tuple[str, str]]) -> list[str]:
    names = []
    for kind, src in sources:
        p = Path(src)
        base = p.name if p.is_dir() else p.stem
        if p.is_dir() or p.name in ("best.keras", "last.keras"):
            base = (p if p.is_dir() else p.parent).name + ("" if p.is_dir() else f"-{p.stem}")
        name, k = f"{kind}-{base}", 1
        while name in names:
            k += 1
            name = f"{kind}-{base}-{k}"
        names.append(name)
    return names


def augment_preview(cfg: KeypointsConfig, data: str, out: str, n: int = 6, variants: int = 4) -> Path:
    """A grid: per row one annotated image at the model input size, then `variants` augmentations, corners drawn."""
    from keypoints.augment import training_augment

    samples = list_samples(data, cfg.model.num_keypoints, cfg.label)
    if not samples.ids:
        raise ValueError(f"{data}: no annotated images ({len(samples.skipped)} skipped)")
    h, w = cfg.data.image_height, cfg.data.image_width
    transform, rng = training_augment(cfg.augment, cfg.train.seed), np.random.default_rng(cfg.train.seed)  # as training
    rows = []
    for path, corners, size in list(zip(samples.images, samples.corners, samples.sizes, strict=True))[:n]:
        img = cv2.resize(read_image(path), (w, h), interpolation=cv2.INTER_AREA)
        pts = (corners + 0.5) * np.array([w / size[0], h / size[1]]) - 0.5
        cells = [draw_points(img, pts, (40, 220, 40))]
        for _ in range(variants):
            a, moved = transform(img, pts, rng)
            cells.append(draw_points(a, moved, (255, 60, 60)))
        rows.append(np.hstack([np.pad(c, ((0, 2), (0, 2), (0, 0)), constant_values=30) for c in cells]))
    write_image(out, np.vstack(rows))
    return Path(out)
