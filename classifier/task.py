"""The classifier task's record for the registry (tasks/registry.py): OK / NOK per use case (EfficientNetB0).

Grad-CAM and the augmentation preview need the TensorFlow backend (GradientTape, tf.data augmentation); training
(tf.data on TensorFlow, classifier/batches.py elsewhere), building, loading and predicting work on every backend.
"""

from __future__ import annotations

from tasks.backend import require_tensorflow
from tasks.record import TaskRecord, imports, lazy


def _train(cfg, data, run_path, log=print):
    from classifier.train import train

    return train(cfg, data, run_path, log)


def _predict(model_path, source, out, cfg):
    from classifier.results import predict_folder

    return predict_folder(model_path, source, out, cfg), f"{out}/predictions.csv, a picture per image, gallery.png"


def _evaluate(data, out, cfg, models, preds, log=print) -> str:
    from classifier.results import evaluate

    if len(models) != 1 or preds:
        raise ValueError("evaluate classifier takes one --model")
    m = evaluate(data, out, cfg, models[0])
    for item in m["skipped"]:
        log(f"skipped {item['id']}: {item['reason']}")
    f1 = ", ".join(f"f1 {c} {v:.4f}" for c, v in m["f1"].items())
    return f"{m['n']} images: accuracy {m['accuracy']:.4f}, {f1}, confusion {m['confusion']} -> {out}/metrics.json"


def _preview(cfg, data, out):
    require_tensorflow("the classifier's augmentation preview (its augmentation is tf.data / TensorFlow ops)")
    from classifier.results import augment_preview

    return augment_preview(cfg, data, out)


def _layer_table(cfg) -> str:
    from classifier.model import build_model, layer_table

    cfg.model.weights = "none"  # the table needs the architecture only
    return layer_table(build_model(cfg))


TASK = TaskRecord(name="classifier", config="classifier", summary="OK / NOK per use case (EfficientNetB0)",
                  model_file="classifier.keras", build=lazy("classifier.model", "build_model"), train=_train,
                  register=imports("classifier.augment"), infer=lazy("classifier.results", "predict_probabilities"), predict=_predict,
                  evaluate=_evaluate, preview=_preview, layer_table=_layer_table)
