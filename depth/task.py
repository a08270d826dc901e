"""The depth task's record for the registry (tasks/registry.py): metric depth from one photo (U-Net)."""

from __future__ import annotations

from tasks.record import TaskRecord, imports, lazy


def _predict(model_path, source, out, cfg):
    from depth.results import predict_folder

    return predict_folder(model_path, source, out, cfg), f"{out}/depth (mm PNG), {out}/colour"


def _evaluate(data, out, cfg, models, preds, log=print) -> str:
    from depth.results import evaluate

    if len(models) + len(preds) != 1:
        raise ValueError("evaluate depth takes one --model or one --pred")
    m = evaluate(data, out, cfg, model_path=models[0] if models else None, pred_dir=preds[0] if preds else None)
    for item in m["skipped"]:
        log(f"skipped {item['id']}: {item['reason']}")
    s = m["median_scaled"]
    return (f"{m['n']} images: abs_rel {m['abs_rel']:.4f}, delta1 {m['delta1']:.4f}, rmse {m['rmse']:.4f} m, ssim {m['ssim']:.4f}; "
            f"median-scaled abs_rel {s['abs_rel']:.4f}, delta1 {s['delta1']:.4f} -> {out}/metrics.json")


TASK = TaskRecord(name="depth", config="depth", summary="depth in metres per pixel (U-Net)", model_file="depth.keras",
                  build=lazy("depth.model", "build_model"), train=lazy("depth.train", "train"),
                  register=imports("depth.losses", "depth.metrics", "depth.model"), infer=lazy("depth.results", "predict_depth"),
                  predict=_predict, evaluate=_evaluate, preview=lazy("depth.results", "augment_preview"))
