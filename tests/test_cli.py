"""The `nie` command line: help without TensorFlow, one-line errors with exit status 2, summaries."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from scripts.nie import main
from tests.conftest import ROOT


def run_nie(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "scripts.nie", *args], capture_output=True, text=True, timeout=300)


def test_help_imports_no_heavy_module():
    code = ("import sys; from scripts.nie import build_parser; build_parser().format_help(); "
            "heavy = [m for m in ('tensorflow', 'keras', 'numba', 'cv2', 'numpy') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("command", ["synth", "import", "split", "config", "demo"])
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    assert "usage: nie " + command in capsys.readouterr().out


def test_unknown_key_is_one_line_and_exit_2(tmp_path, capsys):
    assert main(["synth", "--out", str(tmp_path / "x"), "--n", "2", "tilt_dg=[0,5]"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["nie synth: error: unknown key 'tilt_dg' (did you mean 'tilt_deg'?)"]


def test_synth_summary_and_existing_output(tmp_path, capsys):
    out = tmp_path / "ds"
    assert main(["synth", "--out", str(out), "--n", "3", "--seed", "4", "--preset", "synth_smoke", "--quiet"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1].startswith("nie synth: 3 scenes (") and str(out) in lines[-1]
    assert main(["synth", "--out", str(out), "--n", "3", "--preset", "synth_smoke", "--quiet"]) == 2
    assert "already holds a dataset" in capsys.readouterr().err


def test_wrong_preset_task(tmp_path, capsys):
    assert main(["synth", "--out", str(tmp_path / "x"), "--n", "1", "--preset", "depth_smoke"]) == 2
    assert "is for depth, not synth" in capsys.readouterr().err


def test_import_reports_each_skip_and_fails_cleanly_on_bad_files(tmp_path, capsys):
    photos = tmp_path / "photos"
    photos.mkdir()
    Image.fromarray(np.zeros((10, 10, 3), np.uint8)).save(photos / "a.png")
    region = {"shape_attributes": {"name": "polygon", "all_points_x": [1, 8, 8, 1], "all_points_y": [1, 1, 8, 8]}, "region_attributes": {}}
    via = {"a": {"filename": "a.png", "regions": [region]}, "b": {"filename": "gone.png", "regions": [region]}}
    (tmp_path / "via.json").write_text(json.dumps(via))
    assert main(["import", "--via", str(tmp_path / "via.json"), "--images", str(photos), "--out", str(tmp_path / "ds")]) == 0
    out = capsys.readouterr().out
    assert "skipped gone.png: missing file" in out and "imported 1, skipped 1" in out
    (tmp_path / "bad.json").write_text("{oops")
    assert main(["import", "--via", str(tmp_path / "bad.json"), "--images", str(photos), "--out", str(tmp_path / "ds2")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bad.json: not valid JSON" in err[0]
    assert not (tmp_path / "ds2").exists()


def test_config_prints_overridden_yaml(capsys):
    assert main(["config", "depth", "--preset", "depth_smoke", "data.batch_size=2"]) == 0
    out = capsys.readouterr().out
    assert "batch_size: 2" in out and "presets:" in out


def test_split_via_cli(tmp_path, synth_dataset, capsys):
    assert main(["split", "--input", str(synth_dataset), "--out", str(tmp_path / "sp"), "--val", "0.25"]) == 0
    assert "train 12, valid 4" in capsys.readouterr().out


@pytest.mark.slow
def test_demo_runs_as_a_subprocess(tmp_path):
    result = run_nie("demo", "--out", str(tmp_path / "demo"), "--n", "3", "--seed", "1")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "demo" / "contact_sheet.png").is_file()
    assert "mean absolute fill error" in result.stdout.strip().splitlines()[-1]
    report = tmp_path / "demo" / "report"
    assert (report / "index.html").is_file() and len((report / "summary.csv").read_text().splitlines()) == 4
    again = run_nie("demo", "--out", str(tmp_path), "--n", "1")
    assert again.returncode == 2 and "not a demo folder" in again.stderr


def test_depth_commands_refuse_bad_input_in_one_line(tmp_path, capsys, synth_dataset):
    assert main(["evaluate", "depth", "--model", str(tmp_path / "nope.keras"), "--data", str(synth_dataset), "--out", str(tmp_path / "e")]) == 2
    assert capsys.readouterr().err.strip().endswith("nope.keras: model not found")
    (tmp_path / "junk.keras").write_text("not a model")
    assert main(["predict", "depth", "--model", str(tmp_path / "junk.keras"), "--input", str(synth_dataset / "images"), "--out", str(tmp_path / "p")]) == 2
    assert "cannot load as a Keras model" in capsys.readouterr().err
    assert main(["errormap", "--gt", str(synth_dataset / "depth"), "--pred", str(synth_dataset / "depth" / "000000.png"), "--out", str(tmp_path / "m")]) == 2
    assert "both be files or both folders" in capsys.readouterr().err
    assert main(["train", "depth", "--data", str(tmp_path / "missing"), "--run", str(tmp_path / "r")]) == 2
    assert "--data" in (err := capsys.readouterr().err) and "no such file or folder" in err
    (tmp_path / "empty").mkdir()
    assert main(["train", "depth", "--data", str(tmp_path / "empty"), "--run", str(tmp_path / "r")]) == 2
    assert "no images/ folder" in capsys.readouterr().err
    assert main(["evaluate", "fill", "--model", "m", "--data", str(synth_dataset), "--out", str(tmp_path / "f")]) == 2
    assert "no keypoints.keras, depth.keras (see models/README.md" in capsys.readouterr().err


def test_augment_preview_depth(tmp_path, capsys, synth_dataset):
    out = tmp_path / "preview.png"
    assert main(["augment-preview", "depth", "--data", str(synth_dataset), "--out", str(out), "--preset", "depth"]) == 0
    from data.images import read_image

    grid = read_image(out)
    assert grid.shape == (6 * (2 * 96 + 4), 4 * 128, 3)


def test_keypoint_commands(tmp_path, capsys, synth_dataset):
    assert main(["evaluate", "keypoints", "--pred", str(synth_dataset / "annotations.json"), "--data", str(synth_dataset),
                 "--out", str(tmp_path / "ev")]) == 0
    assert "iou 1.0000" in capsys.readouterr().out.strip().splitlines()[-1]
    (tmp_path / "bad.json").write_text('{"a": {"size": 1}}')
    assert main(["evaluate", "keypoints", "--pred", str(tmp_path / "bad.json"), "--data", str(synth_dataset), "--out", str(tmp_path / "e2")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "has no 'filename'" in err[0]
    assert main(["predict", "keypoints", "--model", str(tmp_path / "none"), "--input", str(synth_dataset / "images"), "--out", str(tmp_path / "p")]) == 2
    assert "model not found" in capsys.readouterr().err
    assert main(["evaluate", "depth", "--pred", "a", "--pred", "b", "--data", str(synth_dataset), "--out", str(tmp_path / "e3")]) == 2
    assert "one --model or one --pred" in capsys.readouterr().err
    assert main(["train", "keypoints", "--list-layers", "--preset", "keypoints_smoke"]) == 0
    assert "block_13_expand" in capsys.readouterr().out


def test_a_multi_line_error_is_printed_as_its_first_line_only(monkeypatch, capsys):
    import scripts.nie as nie

    def fails(args):
        raise ValueError("first line\nsecond line\nthird line")

    monkeypatch.delenv("NIE_DEBUG", raising=False)
    monkeypatch.setattr(nie, "cmd_config", fails)
    assert nie.main(["config", "depth"]) == 2
    assert capsys.readouterr().err == "nie config: error: first line\n"


def test_issue_13_bad_input_in_one_line(synth_dataset, tmp_path, capsys):
    """Each case of the issue: exit 2, one line, nothing written."""
    models = ROOT / "models"
    cases = [
        (["predict", "depth", "--model", str(models / "keypoints.keras"), "--input", str(synth_dataset / "images"), "--out", str(tmp_path / "p")],
         "is a keypoints model"),
        (["train", "depth", "--data", str(synth_dataset), "--run", str(tmp_path / "r"), "--preset", "depth_smoke", "train.epochs=-1"],
         "train.epochs must be at least 1"),
        (["augment-preview", "depth", "--data", str(synth_dataset), "--out", str(tmp_path)], "a new .png file"),
        (["fill", "--input", str(tmp_path / "nonexistent"), "--out", str(tmp_path / "f")], "no such file or folder"),
    ]
    (tmp_path / "taken.png").write_bytes(b"mine")
    cases.append((["augment-preview", "depth", "--data", str(synth_dataset), "--out", str(tmp_path / "taken.png")], "exists"))
    imported = tmp_path / "imported"
    shutil.copytree(synth_dataset, imported)
    rows = [json.loads(line) for line in (imported / "meta.jsonl").read_text().splitlines()]
    (imported / "meta.jsonl").write_text("".join(json.dumps({k: v for k, v in r.items() if k != "fill"}) + "\n" for r in rows))
    cases.append((["evaluate", "fill", "--pred", str(tmp_path / "none.csv"), "--data", str(imported), "--out", str(tmp_path / "e")],
                  "no true fill"))
    for argv, expected in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and expected in err, (argv, err)
    assert (tmp_path / "taken.png").read_bytes() == b"mine"
    assert not any((tmp_path / name).exists() for name in ("p", "r", "f", "e"))


def test_version_and_examples(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0 and capsys.readouterr().out.startswith("nie ")
    from scripts.nie import EXAMPLES, build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    for name, parser in sub.choices.items():
        assert parser.epilog and parser.epilog.startswith("Example: nie "), name
        assert name in EXAMPLES
