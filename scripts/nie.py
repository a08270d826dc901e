"""The `nie` command line: a thin door over the packages (shared/conventions.md, section 4).

Every command takes `key=value` overrides of its configs.py fields, ends with a one-line summary, and
on bad input exits with status 2 and a one-line reason. Heavy modules (TensorFlow, the renderer) are
imported inside the command that needs them, so `nie --help` answers at once.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

EXIT_BAD_INPUT = 2


class CommandError(Exception):
    """Bad input: printed as one line, exit status 2."""


def _config(task: str, preset_name: str | None, overrides: list[str]):
    import configs

    if preset_name:
        preset_task, cfg = configs.get_preset(preset_name)
        if preset_task != task:
            raise CommandError(f"preset {preset_name!r} is for {preset_task}, not {task}")
    else:
        cfg = configs.default_config(task)
    return configs.apply_overrides(cfg, overrides)


# ----------------------------------------------------------------------------------------------
# Commands
# ----------------------------------------------------------------------------------------------
def cmd_synth(args: argparse.Namespace) -> str:
    from data.synth.generate import generate

    cfg = _config("synth", args.preset, args.overrides)
    result = generate(args.out, args.n, args.seed, cfg, progress=not args.quiet)
    return (f"{result['n']} scenes ({result['nok']} NOK, {result['ok']} OK) in {result['seconds']:.1f} s "
            f"({result['scenes_per_s']:.1f} scenes/s on {result['workers']} workers) -> {args.out}")


def cmd_import(args: argparse.Namespace) -> str:
    import configs
    from data.importer import import_annotations

    cfg = configs.apply_overrides(configs.default_config("keypoints"), args.overrides)
    report = import_annotations(args.images, args.out, via=args.via, coco=args.coco, n_points=cfg.model.num_keypoints)
    for name, reason in report.skipped:
        print(f"skipped {name}: {reason}")
    if not report.imported:
        raise CommandError(f"nothing imported ({len(report.skipped)} skipped); see the reasons above")
    return f"{report.summary()} -> {args.out}"


def cmd_split(args: argparse.Namespace) -> str:
    from data.splits import split

    if args.overrides:
        raise CommandError(f"split takes no key=value overrides (got {args.overrides[0]!r})")
    record = split(args.input, args.out, args.val, args.seed)
    return f"train {len(record['train'])}, valid {len(record['valid'])} ({record['kind']}) -> {args.out}"


def cmd_train(args: argparse.Namespace) -> str:
    from tasks import registry
    from training.run_dir import default_run_path, discard_unstarted

    record = registry.get(args.task)
    cfg = _config(record.config, args.preset, args.overrides)
    if args.list_layers:
        if record.layer_table is None:
            raise CommandError(f"--list-layers is for models with a pretrained backbone, not {args.task}")
        print(record.layer_table(cfg))
        return "backbone layers listed; pass a name or index as model.unfreeze_from"
    if not args.data:
        raise CommandError("--data is required")
    _check_exists(args.data, "--data")
    run = Path(args.run) if args.run else default_run_path(args.task, args.preset)
    fresh = not run.exists()
    try:
        result = record.train(cfg, args.data, run)
    except BaseException:
        if fresh:  # failed before its first epoch ended: leave no run directory that would refuse the corrected command
            discard_unstarted(run)
        raise
    resumed = f", resumed after epoch {result['resumed_from']}" if result["resumed_from"] else ""
    metrics = ", ".join(f"{k} {v:.4g}" for k, v in result.items() if k.startswith(("loss", "val_")))
    return f"{args.task}: {result['epochs']} epochs{resumed}; {metrics} -> {result['run']}"


def cmd_predict(args: argparse.Namespace) -> str:
    from tasks import registry

    record = registry.get(args.task)
    cfg = _config(record.config, None, args.overrides)
    _check_exists(args.input, "--input")
    report, where = record.predict(args.model, args.input, args.out, cfg)
    for name, reason in report.skipped:
        print(f"skipped {name}: {reason}")
    if not report.done:
        raise CommandError(f"nothing predicted ({len(report.skipped)} skipped)")
    return f"{len(report.done)} images, {len(report.skipped)} skipped -> {where}"


def cmd_errormap(args: argparse.Namespace) -> str:
    cfg = _config("depth", None, args.overrides)
    from depth.results import errormap

    report, mean = errormap(args.gt, args.pred, args.out, cfg)
    for name, reason in report.skipped:
        print(f"skipped {name}: {reason}")
    if not report.done:
        raise CommandError(f"no pair could be compared ({len(report.skipped)} skipped)")
    return f"{len(report.done)} pairs, mean SSIM {mean:.4f}, {len(report.skipped)} skipped -> {args.out}"


def cmd_evaluate(args: argparse.Namespace) -> str:
    from tasks import registry

    record = registry.get(args.task)
    cfg = _config(record.config, None, args.overrides)
    return record.evaluate(args.data, args.out, cfg, args.model or [], args.pred or [], print)


def cmd_augment_preview(args: argparse.Namespace) -> str:
    from tasks import registry

    record = registry.get(args.task)
    cfg = _config(record.config, args.preset, args.overrides)
    target = Path(args.out)
    if target.is_dir() or target.suffix.lower() != ".png":
        raise CommandError(f"--out {args.out}: give the path of a new .png file")
    if target.exists():
        raise CommandError(f"--out {args.out} exists; choose another name (nie never overwrites a file it did not just make)")
    _check_exists(args.data, "--data")
    out = record.preview(cfg, args.data, args.out)
    return f"augmentation preview -> {out}"


def cmd_fill(args: argparse.Namespace) -> str:
    from volume.chain import classifier_only, load_models, parse_box
    from volume.report import check_output_folder, fill_folder

    cfg = _config("volume", None, args.overrides)
    box = parse_box(args.box) if args.box else None
    _check_exists(args.input, "--input")  # the inputs first: loading the models takes seconds
    if args.oracle:
        _check_exists(args.oracle, "--oracle")
    check_output_folder(args.input, args.out)
    models_dir = args.models or cfg.models_dir
    runner = _runner(args.backend)
    if args.oracle:  # ground-truth corners and depth; the classifier (if any) still labels
        models = classifier_only(models_dir, runner) if cfg.use_classifier else None
    else:
        models = load_models(models_dir, need_classifier=cfg.use_classifier, runner=runner)
    run = fill_folder(args.input, args.out, cfg, models, oracle=args.oracle, box=box)
    for name, reason in run.report.skipped:
        print(f"skipped {name}: {reason}")
    counts = run.counts()
    told = (f"{len(run.rows)} photos: {counts['measured']} measured, {counts['uncertain']} uncertain, {counts['no_box']} no box, "
            f"{counts['error']} errors" + (f" ({run.internal_errors} internal: NIE_DEBUG=1 shows why)" if run.internal_errors else ""))
    if not run.records:
        raise CommandError(f"no photo could be measured ({told}) -> {args.out}/index.html")
    nok = sum(1 for r in run.records if r["label"] == "NOK")
    stages = ", ".join(f"{k} {v:.0f} ms" for k, v in run.ms_per_image().items() if k != "total")
    return f"{told}; {nok} NOK; per image: {stages} -> {args.out}/index.html"


def _runner(name: str):
    """The fill chain's model runner: Keras (.keras files) or onnxruntime (.onnx files of nie export)."""
    if name == "onnx":
        from deploy.onnx_model import onnx_runner

        return onnx_runner()
    from tasks.record import keras_runner

    return keras_runner()


def _check_exists(path: str, option: str) -> None:
    if not Path(path).exists():
        raise CommandError(f"{option} {path}: no such file or folder")


def cmd_export(args: argparse.Namespace) -> str:
    from deploy.export import export_model

    if args.overrides:
        raise CommandError(f"export takes no key=value overrides (got {args.overrides[0]!r})")
    path, diff = export_model(args.model, args.format, args.out, force=args.force)
    if diff > 1e-4:
        raise CommandError(f"{path}: exported, but it differs from the Keras model by {diff:.2e} (more than 1e-4, relative above 1)")
    return f"{args.format} -> {path}; largest difference from the Keras model on a random batch: {diff:.1e}"


def cmd_config(args: argparse.Namespace) -> str:
    import yaml

    import configs

    cfg = _config(args.task, args.preset, args.overrides)
    print(yaml.safe_dump(configs.to_dict(cfg), sort_keys=False), end="")
    presets = sorted(name for name, (task, _) in configs.PRESETS.items() if task == args.task)
    return f"{args.task} config" + (f"; presets: {', '.join(presets)}" if presets else "")


def cmd_demo(args: argparse.Namespace) -> str:
    import shutil

    from data.contact_sheet import contact_sheet
    from data.layout import read_meta
    from data.synth.generate import generate
    from volume.chain import load_models
    from volume.evaluate import score
    from volume.report import fill_folder

    out = Path(args.out)
    marker = out / ".nie-demo"
    if out.exists():
        if not marker.exists():
            raise CommandError(f"{out} exists and is not a demo folder; choose another --out")
        shutil.rmtree(out)
    cfg = _config("volume", None, args.overrides)
    t0 = time.perf_counter()
    models = load_models(args.models or cfg.models_dir, need_classifier=cfg.use_classifier)  # fail before any work
    out.mkdir(parents=True)
    marker.write_text("written by `nie demo`; removed by the next demo run\n")
    import configs

    result = generate(out / "dataset", args.n, args.seed, configs.default_config("synth"), progress=True)
    contact_sheet(out / "dataset", out / "contact_sheet.png", n=min(args.n, 12), columns=4)
    run = fill_folder(out / "dataset" / "images", out / "report", cfg, models)
    for name, reason in run.report.skipped:
        print(f"skipped {name}: {reason}")
    if not run.records:
        raise CommandError(f"no scene could be measured ({len(run.report.skipped)} skipped)")
    truth = {r["id"]: r for r in read_meta(out / "dataset" / "meta.jsonl")}
    m, _ = score({r["id"]: r for r in run.records}, truth)
    # the geometry alone, on the scenes' exact corners and depth: what better models would reach
    oracle = fill_folder(out / "dataset" / "images", out / "report_oracle", cfg, None, oracle=str(out / "dataset"), progress=False)
    o, _ = score({r["id"]: r for r in oracle.records}, truth) if oracle.records else ({"mae_pp": float("nan")}, [])
    print(f"dataset: {out / 'dataset'} (seed {args.seed}); report: {out / 'report' / 'index.html'}")
    print(f"with the scenes' exact corners and depth instead of the models (the geometry alone): mean absolute fill error "
          f"{o['mae_pp']:.1f} pp -> {out / 'report_oracle' / 'index.html'}")
    return (f"{result['n']} fresh synthetic scenes measured with the shipped models in {time.perf_counter() - t0:.0f} s: "
            f"mean absolute fill error {m['mae_pp']:.1f} pp (max {m['max_err_pp']:.1f}), OK/NOK right for "
            f"{100 * m['class_accuracy']:.0f} %; report: {out / 'report' / 'index.html'}")


# ----------------------------------------------------------------------------------------------
# Parser
# ----------------------------------------------------------------------------------------------
def _add_overrides(p: argparse.ArgumentParser) -> None:
    p.add_argument("overrides", nargs="*", metavar="key=value", help="override configs.py fields, e.g. tilt_deg=[0,10]")


EXAMPLES = {
    "synth": "nie synth --out datasets/synth2500 --n 2500 --seed 0",
    "import": "nie import --via my_photos/via_project.json --images my_photos --out datasets/mine",
    "split": "nie split --input datasets/mine --out datasets/mine_split --val 0.2 --seed 0",
    "train": "nie train keypoints --data datasets/synth12k --preset keypoints_long   (run it again to resume)",
    "predict": "nie predict keypoints --model models/keypoints.keras --input photos/ --out predictions/",
    "errormap": "nie errormap --gt datasets/x/depth --pred predictions/depth --out errormaps/",
    "evaluate": "nie evaluate keypoints --model runs/keypoints/long --model models/keypoints.keras --data datasets/eval1000 --out eval/",
    "augment-preview": "nie augment-preview keypoints --data datasets/synth12k --out preview.png",
    "fill": "nie fill --input photos/ --out report/ --box 0.6x0.4x0.3   (then open report/index.html)",
    "export": "nie export --model models/keypoints.keras --format onnx --out exported/keypoints.onnx",
    "config": "nie config keypoints --preset keypoints_long",
    "demo": "nie demo --n 24",
}


def build_parser() -> argparse.ArgumentParser:
    import configs
    from tasks import registry  # the task records only: no Keras, no TensorFlow

    parser = argparse.ArgumentParser(prog="nie", description="Neural Image Enhancer: how full is this box, from one photo.",
                                     epilog="Example: nie fill --input photos/ --out report/ --box 0.6x0.4x0.3   (then open report/index.html)")
    parser.add_argument("--version", action="version", version=f"nie {version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("synth", help="write synthetic box scenes with exact ground truth",
                       description="Synthetic box scenes in the dataset layout (images, depth, annotations.json, meta.jsonl, classes).")
    p.add_argument("--out", required=True, help="new dataset folder")
    p.add_argument("--n", type=int, required=True, help="number of scenes")
    p.add_argument("--seed", type=int, default=0, help="dataset seed (same seed = byte-identical dataset)")
    p.add_argument("--preset", help="a synth preset from configs.py (synth, synth_smoke, synth_nadir)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_overrides(p)
    p.set_defaults(func=cmd_synth)

    p = sub.add_parser("import", help="VIA or COCO annotations + photos -> a dataset",
                       description="Import users' annotations (VIA JSON/CSV/project, or COCO keypoints) and photos into the dataset layout.")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--via", help="VIA annotation file (JSON, project JSON or CSV export)")
    src.add_argument("--coco", help="COCO keypoint JSON with one 4-point annotation per image")
    p.add_argument("--images", required=True, help="folder holding the annotated images")
    p.add_argument("--out", required=True, help="new dataset folder")
    _add_overrides(p)
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("split", help="seeded train/valid split of a dataset or of class folders",
                       description="Writes OUT/train and OUT/valid (stratified by label) and OUT/split.json.")
    p.add_argument("--input", required=True, help="dataset root, or a folder of class folders")
    p.add_argument("--out", required=True, help="new folder for the split")
    p.add_argument("--val", type=float, default=0.2, help="share for validation (default 0.2)")
    p.add_argument("--seed", type=int, default=0, help="split seed")
    _add_overrides(p)
    p.set_defaults(func=cmd_split)

    p = sub.add_parser("train", help="train a model (classifier, keypoints, depth) with a run directory that resumes",
                       description="Trains a task's model; re-running the same command on the same run directory resumes it.")
    p.add_argument("task", choices=registry.names("train"))
    p.add_argument("--data", help="dataset root (depth: or a CSV of image,depth paths; classifier: or a folder of class folders)")
    p.add_argument("--run", help="run directory (default runs/<task>/<preset or default>)")
    p.add_argument("--list-layers", action="store_true", help="print the backbone's layer table (for model.unfreeze_from) and stop")
    p.add_argument("--preset", help="a preset from configs.py, e.g. depth or depth_smoke")
    _add_overrides(p)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("predict", help="run a trained model on an image or a folder",
                       description="depth: writes OUT/depth/<name>.png (16-bit, 1/depth_scale m) and OUT/colour/<name>.png.")
    p.add_argument("task", choices=registry.names("predict"))
    p.add_argument("--model", required=True, help="a .keras file or a run directory (its best.keras)")
    p.add_argument("--input", required=True, help="an image or a folder of images")
    p.add_argument("--out", required=True, help="output folder")
    _add_overrides(p)
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("errormap", help="difference, SSIM-difference and SSIM-threshold maps; prints SSIM",
                       description="Compares depth maps (16-bit PNG or .npy): two files, or two folders matched by name.")
    p.add_argument("--gt", required=True, help="ground-truth depth file or folder")
    p.add_argument("--pred", required=True, help="predicted depth file or folder")
    p.add_argument("--out", required=True, help="output folder (<name>_errormap.png, errormap.csv)")
    _add_overrides(p)
    p.set_defaults(func=cmd_errormap)

    p = sub.add_parser("evaluate", help="score a model or saved predictions on a dataset",
                       description="Writes OUT/metrics.json with the conventions' metric names, plus plots.")
    p.add_argument("task", choices=registry.names("evaluate"))
    p.add_argument("--model", action="append",
                   help="a .keras file or a run directory (keypoints: repeat to compare); fill: a models folder (e.g. models)")
    p.add_argument("--pred", action="append",
                   help="saved predictions: depth, a folder of depth PNGs named like the images; keypoints, a VIA JSON (repeat to "
                        "compare); fill, a summary.csv of nie fill")
    p.add_argument("--data", required=True, help="dataset root")
    p.add_argument("--out", required=True, help="output folder")
    _add_overrides(p)
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("augment-preview", help="a grid of training samples after augmentation",
                       description="Shows what the training pipeline feeds the model: each sample, then augmented variants.")
    p.add_argument("task", choices=registry.names("preview"))
    p.add_argument("--data", required=True, help="dataset root")
    p.add_argument("--out", required=True, help="output PNG")
    p.add_argument("--preset", help="a preset from configs.py (sets the input size)")
    _add_overrides(p)
    p.set_defaults(func=cmd_augment_preview)

    p = sub.add_parser("fill", help="how full is each box: fill %%, empty litres, OK/NOK, with pictures",
                       description="Runs the keypoint and depth models (and the classifier, when there is one) on a photo or a "
                                   "folder, then measures fill. Writes <id>.json, <id>.png, summary.csv and index.html.")
    p.add_argument("--input", required=True, help="a photo, a folder of photos, or a dataset root")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--models", help="folder with keypoints.keras, depth.keras [, classifier.keras] (default: the shipped models/)")
    p.add_argument("--box", help="inner box size LxWxH in metres (default: meta.jsonl beside the images, else configs.py)")
    p.add_argument("--oracle", help="a dataset root: use its ground-truth corners and depth instead of the models")
    p.add_argument("--backend", choices=["keras", "onnx"], default="keras",
                   help="onnx: run <models>/*.onnx (from nie export) on onnxruntime instead of the .keras models")
    _add_overrides(p)
    p.set_defaults(func=cmd_fill)

    p = sub.add_parser("export", help="a trained model as SavedModel, ONNX or LiteRT (float32, no augmentation)",
                       description="Exports a .keras model (or a run's best.keras) and checks it against Keras on a random batch.")
    p.add_argument("--model", required=True, help="a .keras file or a run directory")
    p.add_argument("--format", required=True, choices=["saved_model", "onnx", "litert"])
    p.add_argument("--out", required=True, help="output path (a new folder for saved_model, else a new file: .onnx, .tflite)")
    p.add_argument("--force", action="store_true", help="replace an earlier export of the same format at --out (never anything else)")
    _add_overrides(p)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("config", help="print a task's resolved config (with a preset and overrides)",
                       description="Prints the resolved config as YAML: the keys that key=value overrides accept.")
    p.add_argument("task", choices=list(configs.CONFIG_TYPES))
    p.add_argument("--preset", help="start from this preset")
    _add_overrides(p)
    p.set_defaults(func=cmd_config)

    p = sub.add_parser("demo", help="the main job on the built-in defaults",
                       description="Generates fresh synthetic scenes, measures them with the shipped models (nie fill) and "
                                   "prints the mean absolute fill error against the ground truth (runs/demo by default).")
    p.add_argument("--out", default="runs/demo", help="demo folder (replaced on each run)")
    p.add_argument("--n", type=int, default=24, help="number of scenes")
    p.add_argument("--seed", type=int, default=int(time.time()) % 100000, help="seed (default: fresh each run)")
    p.add_argument("--models", help="models folder (default: the shipped models/)")
    _add_overrides(p)
    p.set_defaults(func=cmd_demo)
    for name, example in EXAMPLES.items():
        sub.choices[name].epilog = f"Example: {example}"
    return parser


# Bad input: the data modules' errors all derive from ValueError (ConfigError, ViaFormatError, ImageReadError, ...).
BAD_INPUT_ERRORS = (CommandError, FileNotFoundError, FileExistsError, NotADirectoryError, PermissionError, ValueError)


MODEL_COMMANDS = ("train", "predict", "evaluate", "augment-preview", "fill", "export", "demo")


def quiet_tensorflow() -> None:
    """TensorFlow's start-up lines (oneDNN, CPU features, absl) go to stderr from C++ before any Python setting can
    stop them: import it once with stderr pointed elsewhere. NIE_DEBUG=1 keeps them."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if os.environ.get("KERAS_BACKEND", "tensorflow") != "tensorflow" or "tensorflow" in sys.modules:
        return
    import tempfile

    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with tempfile.TemporaryFile() as sink:
            os.dup2(sink.fileno(), 2)
            try:
                import tensorflow  # noqa: F401
            except ImportError:
                pass
            finally:
                os.dup2(saved, 2)
    finally:
        os.close(saved)


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as package_version

    try:
        return package_version("nie")
    except PackageNotFoundError:
        return "unknown (not installed)"


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    # overrides may also follow options (`nie config depth --preset x a=1`): argparse leaves them over
    args, extra = parser.parse_known_args(argv)
    stray = [a for a in extra if a.startswith("-") or "=" not in a]
    if stray:
        parser.error(f"unrecognized arguments: {' '.join(stray)}")
    if extra:
        args.overrides = [*getattr(args, "overrides", []), *extra]
    func: Callable[[argparse.Namespace], str] = args.func
    if args.command in MODEL_COMMANDS and not os.environ.get("NIE_DEBUG"):
        quiet_tensorflow()
    try:
        summary = func(args)
    except KeyboardInterrupt:
        print(f"nie {args.command}: interrupted", file=sys.stderr)
        return 130
    except BAD_INPUT_ERRORS as err:
        if os.environ.get("NIE_DEBUG"):
            raise
        message = str(err).splitlines()[0] if str(err) else type(err).__name__
        print(f"nie {args.command}: error: {message}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"nie {args.command}: {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
