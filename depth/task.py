"""The depth task's record for the registry (tasks/registry.py): metric depth from one photo (U-Net)."""

from __future__ import annotations

from tasks.record import TaskRecord


def _register() -> None:
    import depth.losses  # noqa: F401  (registers the custom layers, loss and metrics)
    import depth.metrics  # noqa: F401
    import depth.model  # noqa: F401


def _build(cfg):
    from depth.model import build_model

    return build_model(cfg)


def _train(cfg, data, run_path, log=print):
    from depth.train import train

    return train(cfg, data, run_path, log)


def _infer(model, images):
    from depth.results import predict_depth

    return predict_depth(model, images)


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


def _preview(cfg, data, out):
    from depth.results import augment_preview

    return augment_preview(cfg, data, out)


TASK = TaskRecord(name="depth", config="depth", summary="depth in metres per pixel (U-Net)", model_file="depth.keras",
                  build=_build, train=_train, register=_register, infer=_infer, predict=_predict, evaluate=_evaluate,
                  preview=_preview)
