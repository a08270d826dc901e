"""bench/summary.py: every figure of the results files lands in one table, with its unit, ratio and machine."""

from __future__ import annotations

import json

from tests.conftest import ROOT, load_bench


def _summary():
    return load_bench("summary")


def test_rows_collect_every_figure(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps({"machine": "m1", "images_per_s": {"base": 10.0, "fast": 30.0},
                                                 "ratio_to_baseline": {"base": 1.0, "fast": 3.0}, "runs": {"base": [9, 10, 11]}}))
    (tmp_path / "b.json").write_text(json.dumps({"machine": "m2", "ms_per_image": {"end to end": 120.5}}))
    rows = _summary().rows(tmp_path)
    assert ("a", "fast", 30.0, "images/s", "3.0", "m1") in rows
    assert ("b", "end to end", 120.5, "ms/image", "", "m2") in rows and len(rows) == 3


def test_the_committed_results_all_appear_in_the_table():
    summary = _summary()
    table = (ROOT / "bench" / "results" / "README.md").read_text()
    for bench, what, value, *_ in summary.rows():
        assert f"| {bench} | {what} | {value} |" in table


def test_rates_report_items_per_second_of_every_run():
    results_io = load_bench("results_io")
    calls = []
    med, runs = results_io.rates({"a": (lambda: calls.append(1), 10), "b": (lambda: None, 5)}, repeats=3)
    assert len(calls) == 3 and len(runs["a"]) == len(runs["b"]) == 3
    assert med["a"] == sorted(runs["a"])[1] and med["a"] > 0
