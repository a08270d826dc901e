"""Depth results: `nie predict depth`, `nie errormap` and `nie evaluate depth`.

All three read images and depth maps by name, skip what cannot be read with a reason, write every
file atomically, and show progress on long folders.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from tqdm import tqdm

from configs import DepthConfig
from data.atomic_files import write_bytes_atomic, write_csv_atomic, write_text_atomic
from data.contact_sheet import colour_depth
from data.depth_io import DEPTH_SUFFIXES, DepthReadError, read_depth, write_depth
from data.figures import figure_png, pyplot
from data.images import ImageReadError, read_image, write_image
from data.inputs import PHOTOS_AHEAD, ItemReport, iter_images, list_inputs
from depth.metrics import METRIC_NAMES, depth_metrics, median_scaled, ssim_map_np, valid_pixels
from tasks.model_files import load_model as load_model_file


# ----------------------------------------------------------------------------------------------
# Models and prediction
# ----------------------------------------------------------------------------------------------
def load_model(path: str | os.PathLike):
    import depth.losses  # noqa: F401  (registers the custom objects)
    import depth.metrics  # noqa: F401
    import depth.model  # noqa: F401

    return load_model_file(path, task="depth")


def predict_depth(model, images: list[np.ndarray], batch_size: int = 8) -> list[np.ndarray]:
    """Depth (metres, float32) at each image's own size: resized to the model's input, predicted, resized back."""
    _, h, w, _ = model.input_shape
    out = []
    for start in range(0, len(images), batch_size):
        chunk = images[start : start + batch_size]
        x = np.stack([cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA) for img in chunk]).astype(np.float32) / 255.0
        pred = model.predict(x, verbose=0)[..., 0]
        out.extend(cv2.resize(p, (img.shape[1], img.shape[0]), interpolation=cv2.INTER_LINEAR) for p, img in zip(pred, chunk, strict=True))
    return out


def predict_folder(model_path: str, source: str, out: str, cfg: DepthConfig, progress: bool = True) -> ItemReport:
    """Writes out/depth/<name>.png (depth in 1/depth_scale m, 16 bit) and out/colour/<name>.png per image."""
    model = load_model(model_path)
    out_dir = Path(out)
    report = ItemReport()
    for path, rgb in iter_images(list_inputs(source), report, "predict depth", progress, ahead=PHOTOS_AHEAD):
        depth = predict_depth(model, [rgb])[0]
        write_depth(out_dir / "depth" / f"{path.stem}.png", depth, cfg.depth_scale)
        write_image(out_dir / "colour" / f"{path.stem}.png", colour_depth(depth))
        report.done.append(path.stem)
    return report


# ----------------------------------------------------------------------------------------------
# Error maps
# ----------------------------------------------------------------------------------------------
def match_pairs(gt: str | os.PathLike, pred: str | os.PathLike) -> tuple[list[tuple[str, Path, Path]], list[tuple[str, str]]]:
    """(name, gt file, pred file) pairs: two files, or two folders matched by file stem."""
    gt, pred = Path(gt), Path(pred)
    if gt.is_file() and pred.is_file():
        return [(gt.stem, gt, pred)], []
    if gt.is_dir() and pred.is_dir():
        gts = {p.stem: p for p in list_inputs(gt, DEPTH_SUFFIXES)}
        preds = {p.stem: p for p in pred.iterdir() if p.suffix.lower() in DEPTH_SUFFIXES}
        pairs = [(k, gts[k], preds[k]) for k in sorted(gts) if k in preds]
        skipped = [(gts[k].name, "no prediction with this name") for k in sorted(gts) if k not in preds]
        return pairs, skipped
    raise ValueError(f"--gt and --pred must both be files or both folders ({gt}, {pred})")


def errormap_figure(name: str, gt: np.ndarray, pred: np.ndarray, threshold: float) -> tuple[bytes, float]:
    """PNG bytes of truth | prediction | difference | SSIM difference | SSIM threshold, and the mean SSIM."""
    plt = pyplot()

    ok = valid_pixels(gt, pred)
    data_range = float(gt[ok].max() - gt[ok].min()) if ok.any() else 1.0
    s = ssim_map_np(gt, pred, max(data_range, 1e-6))
    mean_ssim = float(np.nanmean(s)) if np.isfinite(s).any() else float("nan")
    diff = np.where(ok, np.abs(pred - gt), np.nan)
    ssim_diff = (1.0 - s) / 2.0  # 0 = identical structure, 1 = opposite
    below = np.where(np.isfinite(s), (s < threshold).astype(float), np.nan)
    lo, hi = (np.percentile(gt[ok], [1, 99]) if ok.any() else (0, 1))
    fig, axes = plt.subplots(1, 5, figsize=(20, 3.6), constrained_layout=True)
    panels = [
        ("ground truth (m)", np.where(gt > 0, gt, np.nan), "turbo_r", lo, hi),
        ("prediction (m)", np.where(pred > 0, pred, np.nan), "turbo_r", lo, hi),
        ("|difference| (m)", diff, "magma", 0, np.nanpercentile(diff, 99) if ok.any() else 1),
        ("SSIM difference (1 - SSIM) / 2", ssim_diff, "magma", 0, 1),
        (f"SSIM < {threshold:g}", below, "gray", 0, 1),
    ]
    for ax, (title, img, cmap, vmin, vmax) in zip(axes, panels, strict=True):
        im = ax.imshow(img, cmap=cmap, vmin=vmin, vmax=vmax)
        ax.set_title(title)
        ax.axis("off")
        fig.colorbar(im, ax=ax, fraction=0.046)
    fig.suptitle(f"{name}: SSIM {mean_ssim:.4f}")
    return figure_png(fig, dpi=80), mean_ssim


def errormap(gt: str, pred: str, out: str, cfg: DepthConfig, log=print, progress: bool = True) -> tuple[ItemReport, float]:
    """Writes out/<name>_errormap.png per pair and out/errormap.csv; prints SSIM per pair. Returns the mean SSIM."""
    pairs, skipped = match_pairs(gt, pred)
    report = ItemReport(skipped=list(skipped))
    rows = []
    for name, g, p in tqdm(pairs, desc="errormap", unit="pair", disable=not progress or len(pairs) < 2):
        try:
            gd, pd = read_depth(g, cfg.depth_scale), read_depth(p, cfg.depth_scale)
        except DepthReadError as err:
            report.skipped.append((name, str(err)))
            continue
        if gd.shape != pd.shape:
            report.skipped.append((name, f"prediction {pd.shape[1]}x{pd.shape[0]} does not match truth {gd.shape[1]}x{gd.shape[0]}"))
            continue
        if not valid_pixels(gd, pd).any():
            report.skipped.append((name, "no pixel is valid in both maps"))
            continue
        png, s = errormap_figure(name, gd, pd, cfg.results.ssim_threshold)
        write_bytes_atomic(Path(out) / f"{name}_errormap.png", png)
        log(f"{name}: SSIM {s:.4f}")
        rows.append({"name": name, "ssim": f"{s:.6f}"})
        report.done.append(name)
    mean = float(np.mean([float(r["ssim"]) for r in rows])) if rows else float("nan")
    if rows:
        write_csv_atomic(Path(out) / "errormap.csv", rows, list(rows[0]))
    return report, mean


# ----------------------------------------------------------------------------------------------
# Evaluation
# ----------------------------------------------------------------------------------------------
def _plots(out: Path, log_ratios: np.ndarray, worst: list[tuple[str, np.ndarray]]) -> None:
    plt = pyplot()

    fig, ax = plt.subplots(figsize=(6, 4), constrained_layout=True)
    ax.hist(log_ratios, bins=100, range=(-0.5, 0.5), color="tab:blue")
    for d in (1.25, 1.25**2):
        for sign in (-1, 1):
            ax.axvline(sign * math.log10(d), color="grey", ls="--", lw=0.8)
    ax.set_xlabel("log10(prediction / truth)  (dashed: delta1, delta2 bounds)")
    ax.set_ylabel("pixels")
    ax.set_title("depth error histogram")
    write_bytes_atomic(out / "error_histogram.png", figure_png(fig))
    if worst:
        rows = []
        for name, panel in worst:
            panel = panel.copy()
            cv2.putText(panel, name, (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1, cv2.LINE_AA)
            rows.append(panel)
        width = max(r.shape[1] for r in rows)
        rows = [np.pad(r, ((0, 2), (0, width - r.shape[1]), (0, 0))) for r in rows]
        write_image(out / "worst.png", np.vstack(rows))


def evaluate(data: str, out: str, cfg: DepthConfig, model_path: str | None = None, pred_dir: str | None = None,
             progress: bool = True) -> dict[str, Any]:
    """Scores a model (or saved predictions named like the images) on a dataset's image/depth pairs.

    Writes out/metrics.json (the conventions' keys, averaged over images, plus the same after per-image
    median scaling), out/per_image.csv, out/error_histogram.png and out/worst.png.
    """
    from depth.data import list_pairs
    from depth.train import depth_panel

    if (model_path is None) == (pred_dir is None):
        raise ValueError("give exactly one of --model or --pred")
    pairs = list_pairs(data)
    if not pairs.ids:
        raise ValueError(f"{data}: no image/depth pairs to evaluate ({len(pairs.skipped)} skipped)")
    model = load_model(model_path) if model_path else None
    skipped = list(pairs.skipped)
    rows, ratios, per_image, worst_src = [], [], [], []
    rng = np.random.default_rng(0)
    items = list(zip(pairs.ids, pairs.images, pairs.depths, strict=True))
    for image_id, image_path, depth_path in tqdm(items, desc="evaluate depth", unit="img", disable=not progress):
        try:
            gt = read_depth(depth_path, cfg.depth_scale)
            rgb = read_image(image_path)
            if model is not None:
                pred = predict_depth(model, [rgb])[0]
            else:
                pred_file = Path(pred_dir) / f"{image_id}.png"
                pred = read_depth(pred_file if pred_file.exists() else Path(pred_dir) / f"{image_id}.npy", cfg.depth_scale)
        except (DepthReadError, ImageReadError) as err:
            skipped.append((image_id, str(err)))
            continue
        if pred.shape != gt.shape:
            skipped.append((image_id, f"prediction {pred.shape[1]}x{pred.shape[0]} does not match truth {gt.shape[1]}x{gt.shape[0]}"))
            continue
        ok = valid_pixels(gt, pred)
        if not ok.any():
            skipped.append((image_id, "no valid ground-truth pixel"))
            continue
        m = depth_metrics(gt, pred)
        ms = depth_metrics(gt, median_scaled(gt, pred))
        per_image.append((image_id, m, ms))
        rows.append({"id": image_id, **{k: f"{v:.6g}" for k, v in m.items()}, **{f"scaled_{k}": f"{v:.6g}" for k, v in ms.items()}})
        lr = np.log10(pred[ok] / gt[ok])
        ratios.append(lr if lr.size <= 5000 else rng.choice(lr, 5000, replace=False))
        worst_src.append((m["abs_rel"], image_id, rgb, gt, pred))
    if not per_image:
        raise ValueError(f"{data}: no image could be evaluated ({len(skipped)} skipped)")
    out_dir = Path(out)
    metrics: dict[str, Any] = {k: float(np.nanmean([m[k] for _, m, _ in per_image])) for k in METRIC_NAMES}
    metrics["median_scaled"] = {k: float(np.nanmean([ms[k] for _, _, ms in per_image])) for k in METRIC_NAMES}
    metrics["n"] = len(per_image)
    metrics["skipped"] = [{"id": i, "reason": r} for i, r in skipped]
    metrics["source"] = {"data": str(data), "model": str(model_path) if model_path else None, "pred": pred_dir}
    write_text_atomic(out_dir / "metrics.json", json.dumps(metrics, indent=1) + "\n")
    write_csv_atomic(out_dir / "per_image.csv", rows, list(rows[0]))
    worst_src.sort(key=lambda t: -t[0])
    worst = []
    for _, image_id, rgb, gt, pred in worst_src[: cfg.results.worst_n]:
        worst.append((image_id, depth_panel(rgb.astype(np.float32) / 255.0, gt, pred)))
    _plots(out_dir, np.concatenate(ratios), worst)
    return metrics


def augment_preview(cfg: DepthConfig, data: str, out: str, n: int = 6, variants: int = 3) -> Path:
    """A grid: per row one training pair as loaded, then `variants` augmentations of it (image above its depth), by the
    loader training would use (`data.loader`)."""
    from depth.data import list_pairs
    from training.loader import use_tf_data

    pairs = list_pairs(data)
    if not pairs.ids:
        raise ValueError(f"{data}: no image/depth pairs ({len(pairs.skipped)} skipped)")
    variants_of = _tf_variants if use_tf_data(cfg.data.loader) else _np_variants
    rows = []
    for k, (image_path, depth_path) in enumerate(zip(pairs.images[:n], pairs.depths[:n], strict=True)):
        cells = variants_of(cfg, image_path, depth_path, k, variants)
        dep = cells[0][1]
        lo, hi = np.percentile(dep[dep > 0], [1, 99]) if (dep > 0).any() else (0.0, 1.0)
        rows.append(np.hstack([np.vstack([(c[0] * 255).astype(np.uint8), colour_depth(c[1], lo, hi)]) for c in cells]))
    grid = np.vstack([np.pad(r, ((0, 4), (0, 0), (0, 0)), constant_values=30) for r in rows])
    write_image(out, grid)
    return Path(out)


def _tf_variants(cfg: DepthConfig, image_path: str, depth_path: str, k: int, variants: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(image [0, 1], depth) as loaded, then augmented by the tf.data pipeline's ops."""
    import tensorflow as tf

    from depth.tf_data import augment_batch, decode_depth, decode_image, resize_pair

    img, dep = resize_pair(decode_image(image_path), decode_depth(depth_path, cfg.depth_scale), cfg.data.image_height, cfg.data.image_width)
    img = tf.cast(img, tf.float32) / 255.0
    cells = [(img.numpy(), dep.numpy()[..., 0])]
    for v in range(variants):
        a, d = augment_batch(img[None], dep[None], tf.constant([cfg.train.seed + k, v], tf.int64))
        cells.append((a.numpy()[0], d.numpy()[0, ..., 0]))
    return cells


def _np_variants(cfg: DepthConfig, image_path: str, depth_path: str, k: int, variants: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(image [0, 1], depth) as loaded, then augmented by the PyDataset loader's NumPy functions."""
    from depth.data import augment_geometry_np, load_pair_np
    from training.colour_jitter import colour_jitter_np

    img, dep = load_pair_np(image_path, depth_path, cfg.depth_scale, cfg.data.image_height, cfg.data.image_width)
    img = img.astype(np.float32) / 255.0
    cells = [(img, dep[..., 0])]
    for v in range(variants):
        rng = np.random.default_rng([cfg.train.seed + k, v])
        a, d = augment_geometry_np(img, dep, rng)
        a = colour_jitter_np(a[None], rng, brightness=0.1, contrast=0.2, saturation=0.2, hue=0.03)[0]
        cells.append((a, d[..., 0]))
    return cells
