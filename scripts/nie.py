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
    from data.synth.generate import generate

    out = Path(args.out)
    marker = out / ".nie-demo"
    if out.exists():
        if not marker.exists():
            raise CommandError(f"{out} exists and is not a demo folder; choose another --out")
        shutil.rmtree(out)
    out.mkdir(parents=True)
    marker.write_text("written by `nie demo`; removed by the next demo run\n")
    cfg = _config("synth", None, args.overrides)
    result = generate(out / "dataset", args.n, args.seed, cfg, progress=True)
    sheet = contact_sheet(out / "dataset", out / "contact_sheet.png", n=args.n, columns=4)
    print(f"dataset: {out / 'dataset'}")
    return (f"{result['n']} synthetic scenes ({result['nok']} NOK) in {result['seconds']:.1f} s; "
            f"contact sheet: {sheet}")


# ----------------------------------------------------------------------------------------------
# Parser
# ----------------------------------------------------------------------------------------------
def _add_overrides(p: argparse.ArgumentParser) -> None:
    p.add_argument("overrides", nargs="*", metavar="key=value", help="override configs.py fields, e.g. tilt_deg=[0,10]")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nie", description="Neural Image Enhancer: how full is this box, from one photo.")
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

    p = sub.add_parser("config", help="print a task's resolved config (with a preset and overrides)",
                       description="Prints the resolved config as YAML: the keys that key=value overrides accept.")
    p.add_argument("task", choices=["synth", "classifier", "keypoints", "depth", "volume"])
    p.add_argument("--preset", help="start from this preset")
    _add_overrides(p)
    p.set_defaults(func=cmd_config)

    p = sub.add_parser("demo", help="the main job on the built-in defaults",
                       description="Generates fresh synthetic scenes and writes a contact sheet (runs/demo by default).")
    p.add_argument("--out", default="runs/demo", help="demo folder (replaced on each run)")
    p.add_argument("--n", type=int, default=24, help="number of scenes")
    p.add_argument("--seed", type=int, default=int(time.time()) % 100000, help="seed (default: fresh each run)")
    _add_overrides(p)
    p.set_defaults(func=cmd_demo)
    return parser


# Bad input: the data modules' errors all derive from ValueError (ConfigError, ViaFormatError, ImageReadError, ...).
BAD_INPUT_ERRORS = (CommandError, FileNotFoundError, FileExistsError, NotADirectoryError, PermissionError, ValueError)


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
