"""The fillnet task's record for the registry (tasks/registry.py): fill from the rectified opening (issue 12)."""

from __future__ import annotations

from tasks.record import TaskRecord


def _register() -> None:
    import fillnet.losses  # noqa: F401  (registers the custom objects)
    import fillnet.model  # noqa: F401


def _build(cfg):
    from fillnet.model import build_model

    return build_model(cfg)


def _train(cfg, data, run_path, log=print):
    from fillnet.train import train

    return train(cfg, data, run_path, log)


def _infer(model, items):
    """items: (photo, corners, K, (L, W, H)) -> (fill, overfill probability) or None where no rim pose fits."""
    from fillnet.results import predict_fill

    return predict_fill(model, items)


def _predict(model_path, source, out, cfg):
    from fillnet.results import predict_folder

    return predict_folder(model_path, source, out, cfg), f"{out}/predictions.csv"


def _evaluate(data, out, cfg, models, preds, log=print) -> str:
    from fillnet.results import evaluate

    if len(models) != 1 or preds:
        raise ValueError("evaluate fillnet takes one --model")
    m = evaluate(data, out, cfg, models[0])
    for item in m["skipped"]:
        log(f"skipped {item['id']}: {item['reason']}")
    return (f"{m['n']} scenes (exact corners): mae {m['mae_pp']:.2f} pp, max {m['max_err_pp']:.1f} pp, overfill_accuracy "
            f"{m['overfill_accuracy']:.3f}, class_accuracy {m['class_accuracy']:.3f} -> {out}/metrics.json")


def _preview(cfg, data, out):
    from fillnet.results import augment_preview

    return augment_preview(cfg, data, out)


TASK = TaskRecord(name="fillnet", config="fillnet", summary="fill from the rectified box opening (learned)", model_file="fillnet.keras",
                  build=_build, train=_train, register=_register, infer=_infer, predict=_predict, evaluate=_evaluate, preview=_preview)
