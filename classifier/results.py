"""Classifier results: `nie predict classifier`, `nie evaluate classifier` (metrics, confusion matrix, galleries,
Grad-CAM) and `nie augment-preview classifier`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from classifier.data import list_class_samples, usecase_folder
from configs import ClassifierConfig
from data.atomic_files import write_bytes_atomic, write_csv_atomic, write_text_atomic
from data.contact_sheet import caption, tile_grid
from data.figures import figure_png, pyplot
from data.images import read_image, write_image
from data.inputs import PHOTOS_AHEAD, ItemReport, iter_images, list_inputs
from tasks.backend import backend
from tasks.model_files import load_model


def to_input(model, images: list[np.ndarray]) -> np.ndarray:
    """uint8 RGB images of any size -> the model's input batch (float32 [0, 255]), resized as in training (area)."""
    _, h, w, _ = model.input_shape
    return np.stack([resize_area(img, h, w) for img in images])


def resize_area(img: np.ndarray, h: int, w: int) -> np.ndarray:
    """float32 (h, w, 3): an area (box) filter as tf.image.resize(method="area") in training, without TensorFlow."""
    return cv2.resize(img.astype(np.float32), (w, h), interpolation=cv2.INTER_AREA)


def predict_probabilities(model, images: list[np.ndarray], batch_size: int = 32) -> np.ndarray:
    """(N, classes) probabilities, in the class_names order the model was trained with."""
    out = [model.predict(to_input(model, images[i : i + batch_size]), verbose=0) for i in range(0, len(images), batch_size)]
    return np.concatenate(out) if out else np.zeros((0, model.output_shape[-1]), np.float32)


def _tile(img: np.ndarray, lines: list[str], width: int = 192) -> np.ndarray:
    tile = cv2.resize(img, (width, max(1, int(round(width * img.shape[0] / img.shape[1])))), interpolation=cv2.INTER_AREA)
    caption(tile, lines)
    return tile


def predict_folder(model_path: str, source: str, out: str, cfg: ClassifierConfig, progress: bool = True) -> ItemReport:
    """out/predictions.csv (image, label, probability of that label, then one column per class), out/<name>.png
    (the image with its label) and out/gallery.png (the first 48)."""
    model = load_model(model_path, task="classifier")
    out_dir = Path(out)
    report = ItemReport()
    rows, tiles = [], []
    for path, rgb in iter_images(list_inputs(source), report, "predict classifier", progress, ahead=PHOTOS_AHEAD):
        p = predict_probabilities(model, [rgb])[0]
        label = cfg.class_names[int(np.argmax(p))]
        rows.append({"image": path.name, "label": label, "probability": f"{float(p.max()):.4f}",
                     **{f"p_{c}": f"{float(v):.4f}" for c, v in zip(cfg.class_names, p, strict=True)}})
        tile = _tile(rgb, [f"{label} {100 * float(p.max()):.1f}%"], width=min(rgb.shape[1], 384))
        write_image(out_dir / f"{path.stem}.png", tile)
        if len(tiles) < 48:
            tiles.append(_tile(rgb, [path.stem, f"{label} {100 * float(p.max()):.1f}%"]))
        report.done.append(path.stem)
    if rows:
        write_csv_atomic(out_dir / "predictions.csv", rows, list(rows[0]))
        write_image(out_dir / "gallery.png", tile_grid(tiles, 6))
    return report


# ----------------------------------------------------------------------------------------------
# Evaluation
# ----------------------------------------------------------------------------------------------
def classification_metrics(true: np.ndarray, pred: np.ndarray, class_names: tuple[str, ...]) -> dict[str, Any]:
    """accuracy, precision / recall / f1 per class, confusion (rows: true class, columns: predicted), n."""
    k = len(class_names)
    confusion = np.zeros((k, k), int)
    np.add.at(confusion, (true, pred), 1)
    tp = np.diag(confusion).astype(float)
    precision = np.divide(tp, confusion.sum(0), out=np.zeros(k), where=confusion.sum(0) > 0)
    recall = np.divide(tp, confusion.sum(1), out=np.zeros(k), where=confusion.sum(1) > 0)
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros(k), where=(precision + recall) > 0)
    return {"accuracy": float(tp.sum() / max(1, confusion.sum())),
            "precision": dict(zip(class_names, precision.tolist(), strict=True)),
            "recall": dict(zip(class_names, recall.tolist(), strict=True)),
            "f1": dict(zip(class_names, f1.tolist(), strict=True)),
            "confusion": confusion.tolist(), "n": int(confusion.sum())}


def _confusion_png(confusion: np.ndarray, class_names: tuple[str, ...]) -> bytes:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(3.2 + 0.4 * len(class_names), 2.8 + 0.4 * len(class_names)), constrained_layout=True)
    share = confusion / np.maximum(confusion.sum(1, keepdims=True), 1)
    im = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    for (i, j), n in np.ndenumerate(confusion):
        ax.text(j, i, f"{n}\n{100 * share[i, j]:.1f}%", ha="center", va="center", color="white" if share[i, j] > 0.5 else "black")
    ax.set_xticks(range(len(class_names)), class_names)
    ax.set_yticks(range(len(class_names)), class_names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    fig.colorbar(im, ax=ax, label="share of the true class")
    return figure_png(fig)


def evaluate(data: str, out: str, cfg: ClassifierConfig, model_path: str, progress: bool = True) -> dict[str, Any]:
    """Scores a model on a use-case folder (or a dataset root's classes/<usecase>; a `nie split` folder: its valid/).

    Writes out/metrics.json, per_image.csv, confusion.png, correct.png and wrong.png (galleries with the
    probabilities) and gradcam.png (Grad-CAM of the predicted class; wrong predictions first).
    """
    from tqdm import tqdm

    source = Path(data)
    if (source / "valid").is_dir() and (source / "train").is_dir():
        source = source / "valid"
    samples = list_class_samples(usecase_folder(source, cfg.usecase), cfg.class_names)
    if not samples.files:
        raise ValueError(f"{data}: no readable images in the class folders ({len(samples.skipped)} skipped)")
    model = load_model(model_path, task="classifier")
    if model.output_shape[-1] != len(cfg.class_names):
        raise ValueError(f"{model_path}: the model has {model.output_shape[-1]} classes, class_names has {len(cfg.class_names)}")
    probs, batch = [], 32
    for i in tqdm(range(0, len(samples.files), batch), desc="evaluate classifier", unit="batch", disable=not progress):
        probs.append(predict_probabilities(model, [read_image(f) for f in samples.files[i : i + batch]], batch))
    p = np.concatenate(probs)
    true, pred = np.asarray(samples.labels), p.argmax(1)
    metrics = {**classification_metrics(true, pred, cfg.class_names), "class_names": list(cfg.class_names),
               "skipped": [{"id": k, "reason": r} for k, r in samples.skipped], "source": {"kind": "model", "path": str(model_path)}}
    out_dir = Path(out)
    write_text_atomic(out_dir / "metrics.json", json.dumps(metrics, indent=1) + "\n")
    names = cfg.class_names
    write_csv_atomic(out_dir / "per_image.csv",
                     ({"image": k, "true": names[t], "predicted": names[q], "probability": f"{p[i, q]:.4f}"}
                      for i, (k, t, q) in enumerate(zip(samples.keys, true, pred, strict=True))),
                     ["image", "true", "predicted", "probability"])
    write_bytes_atomic(out_dir / "confusion.png", _confusion_png(np.asarray(metrics["confusion"]), names))
    right = [i for i in range(len(true)) if true[i] == pred[i]]
    wrong = sorted((i for i in range(len(true)) if true[i] != pred[i]), key=lambda i: -p[i, pred[i]])  # most confident first
    n = cfg.results.gallery_n
    for name, chosen in (("correct", right[:n]), ("wrong", wrong[:n])):
        tiles = [_tile(read_image(samples.files[i]), [samples.files[i].stem, f"true {names[true[i]]}",
                                                      f"pred {names[pred[i]]} {100 * p[i, pred[i]]:.1f}%"]) for i in chosen]
        if tiles:
            write_image(out_dir / f"{name}.png", tile_grid(tiles, 4))
        elif (out_dir / f"{name}.png").exists():
            (out_dir / f"{name}.png").unlink()  # a stale gallery from an earlier run would mislead
    chosen = (wrong + right)[: cfg.results.gradcam_n]
    if chosen and backend() != "tensorflow":
        print(f"Grad-CAM skipped: it needs the TensorFlow backend (GradientTape); this run uses {backend()}")
    elif chosen:
        from classifier.gradcam import gradcam, overlay

        x = to_input(model, [read_image(samples.files[i]) for i in chosen])
        cams, _ = gradcam(model, x)
        tiles = []
        for i, img, cam in zip(chosen, x.astype(np.uint8), cams, strict=True):
            tiles.append(np.hstack([_tile(img, [f"true {names[true[i]]}"]),
                                    _tile(overlay(img, cam), [f"Grad-CAM {names[pred[i]]} {100 * p[i, pred[i]]:.1f}%"])]))
        write_image(out_dir / "gradcam.png", tile_grid(tiles, 2))
    return metrics


def augment_preview(cfg: ClassifierConfig, data: str, out: str, n: int = 6, variants: int = 5) -> Path:
    """A grid: per row one image at the model input size, then `variants` draws of the training augmentation."""
    import keras

    from classifier.augment import build_augmenter

    samples = list_class_samples(usecase_folder(data, cfg.usecase), cfg.class_names)
    if not samples.files:
        raise ValueError(f"{data}: no readable images in the class folders ({len(samples.skipped)} skipped)")
    keras.utils.set_random_seed(cfg.train.seed)
    augmenter = build_augmenter(cfg.augment, seed=cfg.train.seed)
    pick = np.linspace(0, len(samples.files) - 1, min(n, len(samples.files))).round().astype(int)
    x = np.stack([resize_area(read_image(samples.files[i]), cfg.data.image_height, cfg.data.image_width) for i in pick])
    columns = [x] + [np.asarray(augmenter(x, training=True)) for _ in range(variants)]
    rows = []
    for r, i in enumerate(pick):
        cells = [np.clip(c[r], 0, 255).astype(np.uint8) for c in columns]
        caption(cells[0], [cfg.class_names[samples.labels[i]]])
        rows.append(np.hstack([np.pad(c, ((0, 2), (0, 2), (0, 0)), constant_values=30) for c in cells]))
    write_image(out, np.vstack(rows))
    return Path(out)
