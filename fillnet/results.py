"""Fill-model results: predicting fills for photos with their corners, `nie evaluate fillnet`, `nie predict fillnet`
and `nie augment-preview fillnet`."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from configs import FillnetConfig, LabelRule
from data.atomic_files import write_bytes_atomic, write_csv_atomic, write_text_atomic
from data.box_pose import GeometryError
from data.contact_sheet import caption
from data.figures import figure_png, pyplot
from data.images import read_image, write_image
from data.inputs import ItemReport
from data.label_rule import label_for
from fillnet.data import Scenes, flip, flip_grid, list_scenes
from fillnet.rectify import model_input, rectify
from tasks.model_files import load_model as load_model_file

OVERFILL_THRESHOLD = 0.5  # probability
OPEN_THRESHOLD = 0.5  # probability; nie fill's own is VolumeConfig.min_open_probability


def load_model(path):
    import fillnet.losses  # noqa: F401  (registers the custom objects)
    import fillnet.model  # noqa: F401

    return load_model_file(path, task="fillnet")


def predict_fill(model, items: list[tuple[np.ndarray, np.ndarray, np.ndarray, tuple[float, float, float]]],
                 batch_size: int = 64, flips: bool = True, grids: bool = False) -> list[tuple | None]:
    """Per (photo, corners, K, (L, W, H)): (fill 0..1, overfill probability, open-box probability), or None where no
    rim pose fits. A model without the open head (trained before it) answers 1.0 for the open box.

    flips: average over the opening as seen and mirrored along L, W and both (the pose numbers mirrored with it, an
    exact symmetry the model was trained with): 6.34 -> 6.05 pp on 300 held-out scenes with exact corners.
    grids: a fourth element, the grid head's fill cell by cell ((G, G), rows along W, columns along L; each view's
    mirrored back before the mean), None for a model without the head.
    """
    size = model.input_shape[1]
    margin = max(0, int(round(size / 12)))
    views = [(h, v) for h in (False, True) for v in (False, True)] if flips else [(False, False)]
    inputs, where = [], []
    out: list[tuple[float, float, float] | None] = [None] * len(items)
    for i, (rgb, corners, K, lwh) in enumerate(items):
        try:
            opening, pose = rectify(rgb, corners, K, lwh, size, margin)
        except GeometryError:
            continue
        opening = opening.astype(np.float32)
        inputs += [model_input(*flip(opening, pose, h, v)) for h, v in views]
        where.append(i)
    if not inputs:
        return out
    pred = np.concatenate([model.predict(np.stack(inputs[start : start + batch_size]), verbose=0)
                           for start in range(0, len(inputs), batch_size)]).reshape(len(where), len(views), -1)
    for j, per_view in zip(where, pred, strict=True):
        fill = float(np.clip(per_view[:, 0].mean(), 0.0, 1.0))
        overfill = float(np.mean(_sigmoid(per_view[:, 1])))
        is_open = float(np.mean(_sigmoid(per_view[:, 2]))) if per_view.shape[1] >= 3 else 1.0
        out[j] = (fill, overfill, is_open, _grid(per_view, views)) if grids else (fill, overfill, is_open)
    return out


def _grid(per_view: np.ndarray, views: list[tuple[bool, bool]]) -> np.ndarray | None:
    """The grid head's cells, each view's mirrored back to the opening as seen, averaged; None without the head."""
    cells = int(round(math.sqrt(per_view.shape[1] - 3))) if per_view.shape[1] > 3 else 0
    if cells == 0 or cells * cells != per_view.shape[1] - 3:
        return None
    seen = [flip_grid(row[3:].reshape(cells, cells), h, v) for row, (h, v) in zip(per_view, views, strict=True)]
    return np.clip(np.mean(seen, axis=0), 0.0, None)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, np.float64)))


def _predict_scenes(model, scenes: Scenes) -> list[tuple[float, float, float] | None]:
    out = []
    for start in range(0, len(scenes.ids), 256):
        chunk = range(start, min(start + 256, len(scenes.ids)))
        out += predict_fill(model, [(read_image(scenes.images[i]), scenes.corners[i], scenes.K[i], scenes.lwh[i]) for i in chunk])
    return out


def predict_folder(model_path: str, source: str, out: str, cfg: FillnetConfig, progress: bool = True) -> ItemReport:
    """out/predictions.csv: per scene of a dataset root (corners, K and box size from its meta.jsonl) the predicted
    fill, empty litres, overfill probability and open-box probability."""
    scenes = list_scenes(source)
    model = load_model(model_path)
    report = ItemReport(skipped=list(scenes.skipped))
    rows = []
    for i, pred in enumerate(_predict_scenes(model, scenes)):
        if pred is None:
            report.skipped.append((Path(scenes.images[i]).name, "no rim pose fits the corners"))
            continue
        L, W, H = scenes.lwh[i]
        rows.append({"id": scenes.ids[i], "fill": f"{pred[0]:.4f}", "empty_volume_l": f"{(1 - pred[0]) * L * W * H * 1000:.2f}",
                     "overfill_probability": f"{pred[1]:.4f}", "open_probability": f"{pred[2]:.4f}"})
        report.done.append(scenes.ids[i])
    write_csv_atomic(Path(out) / "predictions.csv", rows, ["id", "fill", "empty_volume_l", "overfill_probability", "open_probability"])
    return report


def evaluate(data: str, out: str, cfg: FillnetConfig, model_path: str) -> dict[str, Any]:
    """Scores the model on a dataset's scenes with their exact corners: out/metrics.json (mae_pp, max_err_pp, n,
    overfill_accuracy, class_accuracy: the fill metrics of the conventions, over the open boxes; with closed boxes or
    box-free scenes in the data also open_accuracy and n_not_open), per_image.csv and scatter.png."""
    scenes = list_scenes(data)
    if not any(scenes.open):
        raise ValueError(f"{data}: no scenes with a known fill ({len(scenes.skipped)} skipped)")
    model = load_model(model_path)
    rule = LabelRule()
    rows, open_right = [], []
    for i, pred in enumerate(_predict_scenes(model, scenes)):
        if pred is None:
            continue
        fill, p_over, p_open = pred
        open_right.append((p_open >= OPEN_THRESHOLD) == scenes.open[i])
        if not scenes.open[i]:
            continue
        over = p_over >= OVERFILL_THRESHOLD
        rows.append({"id": scenes.ids[i], "fill_true": scenes.fill[i], "fill_pred": fill, "err_pp": 100 * abs(fill - scenes.fill[i]),
                     "overfill_true": scenes.overfill[i], "overfill_pred": over,
                     "label_true": label_for(scenes.fill[i], scenes.overfill[i], rule), "label_pred": label_for(fill, over, rule),
                     "open_probability": p_open})
    if not rows:
        raise ValueError(f"{data}: no scene could be scored")
    err = np.array([r["err_pp"] for r in rows])
    metrics = {"mae_pp": float(err.mean()), "max_err_pp": float(err.max()), "n": len(rows),
               "overfill_accuracy": float(np.mean([r["overfill_true"] == r["overfill_pred"] for r in rows])),
               "class_accuracy": float(np.mean([r["label_true"] == r["label_pred"] for r in rows])),
               "corners": "exact (meta.jsonl)", "skipped": [{"id": k, "reason": r} for k, r in scenes.skipped],
               "source": {"kind": "model", "path": str(model_path)}}
    if not all(scenes.open):
        metrics.update({"open_accuracy": float(np.mean(open_right)), "n_not_open": int(sum(not o for o in scenes.open))})
    out_dir = Path(out)
    write_text_atomic(out_dir / "metrics.json", json.dumps(metrics, indent=1) + "\n")
    write_csv_atomic(out_dir / "per_image.csv", ({k: (f"{v:.4f}" if isinstance(v, float) else v) for k, v in r.items()} for r in rows),
                     list(rows[0]))
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(4.5, 4.5), constrained_layout=True)
    ax.scatter([100 * r["fill_true"] for r in rows], [100 * r["fill_pred"] for r in rows], s=6)
    ax.plot([0, 100], [0, 100], color="grey", lw=0.8)
    ax.set_xlabel("true fill, %")
    ax.set_ylabel("predicted fill, %")
    ax.set_title(f"fillnet: {metrics['mae_pp']:.2f} pp mean error, n = {len(rows)}")
    write_bytes_atomic(out_dir / "scatter.png", figure_png(fig))
    return metrics


def augment_preview(cfg: FillnetConfig, data: str, out: str, n: int = 6, variants: int = 5) -> Path:
    """A grid: per row the photo, its rectified opening from the exact corners, then `variants` training draws
    (jittered corners, flips, colour)."""
    from fillnet.data import FillSamples

    scenes = list_scenes(data, with_closed=False)
    if not scenes.ids:
        raise ValueError(f"{data}: no scenes with a known fill ({len(scenes.skipped)} skipped)")
    exact = FillSamples(cfg, scenes, training=False, cache=False)
    train = FillSamples(cfg, scenes, training=True, cache=False)
    rows = []
    size = cfg.data.size
    for i in range(min(n, len(scenes.ids))):
        photo = read_image(scenes.images[i])
        scale = size / photo.shape[0]
        import cv2

        photo = cv2.resize(photo, (max(1, int(round(photo.shape[1] * scale))), size), interpolation=cv2.INTER_AREA)
        caption(photo, [f"{scenes.ids[i]} fill {100 * scenes.fill[i]:.0f}%"])
        cells = [photo, exact(i, np.random.default_rng(0))[0][..., :3].astype(np.uint8)]
        cells += [np.clip(train(i, np.random.default_rng([cfg.train.seed, i, v]))[0][..., :3], 0, 255).astype(np.uint8) for v in range(variants)]
        rows.append(np.hstack([np.pad(c, ((0, 2), (0, 2), (0, 0)), constant_values=30) for c in cells]))
    width = max(r.shape[1] for r in rows)
    write_image(out, np.vstack([np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0)), constant_values=30) for r in rows]))
    return Path(out)
