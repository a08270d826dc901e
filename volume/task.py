"""The fill task's record for the registry (tasks/registry.py): `nie evaluate fill` scores `nie fill` on a dataset.

Fill has no model of its own yet: it runs the keypoint, depth and classifier models through the chain.
"""

from __future__ import annotations

from tasks.record import TaskRecord


def _evaluate(data, out, cfg, models, preds, log=print) -> str:
    from volume.chain import load_models
    from volume.evaluate import evaluate

    if not models and not preds:
        models = [cfg.models_dir]  # the shipped models
    if len(models) + len(preds) != 1:
        raise ValueError("evaluate fill takes one --model (a models folder) or one --pred (a summary.csv)")
    m = evaluate(data, out, cfg, models=load_models(models[0], cfg.use_classifier) if models else None, pred=preds[0] if preds else None)
    for item in m.get("skipped", []):
        log(f"skipped {item['id']}: {item['reason']}")
    for name, row in m.get("methods", {}).items():
        log(f"  {name:<22} mae {row['mae_pp']:6.2f} pp  bias {row['bias_pp']:+6.2f}  class_accuracy {row['class_accuracy']:.3f}")
    return (f"{m['n']} images: mae {m['mae_pp']:.2f} pp, max {m['max_err_pp']:.1f} pp, overfill_accuracy "
            f"{m['overfill_accuracy']:.3f}, class_accuracy {m['class_accuracy']:.3f} -> {out}/metrics.json")


TASK = TaskRecord(name="fill", config="volume", summary="fill %, empty litres and OK / NOK from the chain of models",
                  evaluate=_evaluate)
