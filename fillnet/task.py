"""The fillnet task's record for the registry (tasks/registry.py): fill from the rectified opening (issue 12).

Its `infer` takes (photo, corners, K, (L, W, H)) per item and gives (fill, overfill probability), or None where no
rim pose fits the corners.
"""

from __future__ import annotations

from tasks.record import TaskRecord, imports, lazy


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


TASK = TaskRecord(name="fillnet", config="fillnet", summary="fill from the rectified box opening (learned)", model_file="fillnet.keras",
                  build=lazy("fillnet.model", "build_model"), train=lazy("fillnet.train", "train"),
                  register=imports("fillnet.losses", "fillnet.model"), infer=lazy("fillnet.results", "predict_fill"),
                  predict=_predict, evaluate=_evaluate, preview=lazy("fillnet.results", "augment_preview"))
