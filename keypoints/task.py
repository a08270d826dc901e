"""The keypoints task's record for the registry (tasks/registry.py): corners of the box opening."""

from __future__ import annotations

from tasks.record import TaskRecord, imports, lazy


def _infer(model, images, refine=None):
    """Per image (corners (4, 2) canonical order, per-corner confidence (4,) or None for a regressor); `refine`: a
    configs.CornerRefineConfig (None: its defaults)."""
    from keypoints.results import corners_with_confidence

    corners, confidence = corners_with_confidence(model, images, refine=refine)
    return list(zip(corners, confidence, strict=True))


def _predict(model_path, source, out, cfg):
    from keypoints.results import predict_folder

    what = "JSON + picture per image" if cfg.results.pictures else "JSON per image"
    return predict_folder(model_path, source, out, cfg), f"{out} ({what}, predictions_via.json)"


def _evaluate(data, out, cfg, models, preds, log=print) -> str:
    from keypoints.results import evaluate

    if not models and not preds:
        raise ValueError("give --model or --pred")
    m = evaluate(data, out, cfg, models=models, preds=preds)
    if "sources" in m:
        return f"{len(m['sources'])} sources compared, best {m['best']} -> {out}/comparison.md"
    for item in m["skipped"]:
        log(f"skipped {item['id']}: {item['reason']}")
    return (f"{m['n']} images: iou {m['iou']:.4f}, mean_px {m['mean_px']:.2f}, mean_pct_diag {m['mean_pct_diag']:.3f} "
            f"(any start {m['mean_pct_diag_any_start']:.3f}), pck_05 {m['pck_05']:.3f} -> {out}/metrics.json")


def _layer_table(cfg) -> str:
    from keypoints.model import build_model, layer_table

    cfg.model.weights = "none"  # the table needs the architecture only
    return layer_table(build_model(cfg))


TASK = TaskRecord(name="keypoints", config="keypoints", summary="the 4 corners of the box opening (MobileNetV2)",
                  model_file="keypoints.keras", build=lazy("keypoints.model", "build_model"), train=lazy("keypoints.train", "train"),
                  register=imports("keypoints.losses", "keypoints.model"), infer=_infer, predict=_predict, evaluate=_evaluate,
                  preview=lazy("keypoints.results", "augment_preview"), layer_table=_layer_table,
                  export_graph=lazy("keypoints.model", "export_graph"))
