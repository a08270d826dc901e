"""bench/no_box_thresholds.py: the threshold pair it picks keeps open boxes within the goal and says no_box most often
without a box."""

from __future__ import annotations

import math

from tests.conftest import load_bench


def _bench():
    return load_bench("no_box_thresholds")


def test_the_chosen_pair_keeps_open_boxes_in_the_goal_and_rejects_the_most():
    bench = _bench()
    # 100 open boxes: confident corners and a high open probability, but 3 with weak corners and 1 the fill model doubts
    open_rows = [{"geometry": False, "confidence": 0.8, "open": 0.97} for _ in range(96)]
    open_rows += [{"geometry": False, "confidence": 0.25, "open": 0.95} for _ in range(3)] + [{"geometry": False, "confidence": 0.8, "open": 0.35}]
    # box-free: some caught by geometry, some by confidence, the rest only by the open head
    free = [{"geometry": True, "confidence": 0.9, "open": math.nan}] * 10 + [{"geometry": False, "confidence": 0.1, "open": 0.9}] * 10
    free += [{"geometry": False, "confidence": 0.7, "open": 0.15}] * 10
    assert bench.no_box_percent(open_rows, 0.45, 0.5) == 4.0 and bench.no_box_percent(free, 0.45, 0.5) == 100.0
    grid, best = bench.choose(open_rows, free)
    assert len(grid) == len(bench.CONFIDENCE) * len(bench.OPEN)
    # a confidence threshold over 0.25 costs 3 open boxes, an open threshold over 0.35 one more: within 1.5 % are
    # confidence <= 0.2 and open probability <= 0.3; 0.2 and 0.2 catch every box-free picture, and ties go lower
    assert best["open_no_box"] <= 2.0 and best["min_corner_confidence"] == 0.2 and best["min_open_probability"] == 0.2
    assert best["box_free_no_box"] == 100.0 and round(bench.no_box_percent(free, 0.0, 0.2), 1) == 66.7
