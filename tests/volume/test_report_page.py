"""The report page in a real browser: headless Chromium (Debian's `chromium`; .ci/run installs it) loads index.html
without a script error, and sorting works (index.html#sort=COLUMN opens the page sorted by that column's header)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from scripts.nie import main

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _browser(url: str, *flags: str) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0", *flags, url],
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def report(synth_dataset, tmp_path_factory):
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: .ci/run installs it")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    photos = tmp_path_factory.mktemp("page") / "photos"
    shutil.copytree(synth_dataset / "images", photos)
    (photos / "zz_broken.png").write_bytes(b"not a picture")
    shutil.copy(synth_dataset / "meta.jsonl", photos.parent / "meta.jsonl")
    out = photos.parent / "out"
    assert main(["fill", "--input", str(photos), "--out", str(out), "--oracle", str(synth_dataset), "use_classifier=false"]) == 0
    return out / "index.html"


def _fills(dom: str) -> list[float]:
    """The fill column's sort keys, in page order (the rows without numbers carry -1)."""
    rows = re.findall(r"<tr class=[^>]*>(.*?)</tr>", dom, re.S)
    return [float(re.findall(r"data-key=\"([^\"]*)\"", row)[3]) for row in rows]


def test_page_loads_without_script_errors_and_lists_every_file(report):
    result = _browser(report.as_uri(), "--dump-dom")
    assert result.returncode == 0
    console = [line for line in result.stderr.splitlines() if "CONSOLE" in line]
    assert not [line for line in console if "Uncaught" in line or "Error" in line], console
    dom = result.stdout
    assert "17 photos" in dom and "16 measured" in dom and "1 errors" in dom and "NOK when the fill is under 60 %" in dom
    assert len(_fills(dom)) == 17 and "zz_broken" in dom


def test_sorting_by_fill_both_ways(report):
    up = _fills(_browser(report.as_uri() + "#sort=fill", "--dump-dom").stdout)
    down = _fills(_browser(report.as_uri() + "#sort=fill-desc", "--dump-dom").stdout)
    assert up == sorted(up) and down == sorted(down, reverse=True) and len(up) == 17
    ids = re.findall(r"data-key=\"(\d{6}|zz_broken)\"", _browser(report.as_uri() + "#sort=id-desc", "--dump-dom").stdout)
    assert ids == sorted(ids, reverse=True)
