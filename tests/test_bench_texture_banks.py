"""bench/texture_banks.py: its seed lists, and the rendered sets are made once and reused (--scenes)."""

from __future__ import annotations

from tests.conftest import load_bench


def test_seed_lists_and_sets_rendered_once(tmp_path):
    bench = load_bench("texture_banks")
    assert bench.seed_list("20-23") == [20, 21, 22, 23] and bench.seed_list("20,26") == [20, 26]
    first = bench.scenes(tmp_path, 41, 2)
    stamp = (first / "meta.jsonl").stat().st_mtime_ns
    assert len((first / "meta.jsonl").read_text().splitlines()) == 2
    again = bench.scenes(tmp_path, 41, 2)
    assert again == first and (again / "meta.jsonl").stat().st_mtime_ns == stamp
