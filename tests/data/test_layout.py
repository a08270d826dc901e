"""data/layout.py: file names that would leave the dataset folder are refused."""

from __future__ import annotations

import os

import pytest

from data.layout import UnsafePathError, safe_join


@pytest.mark.parametrize("name", ["../x.png", "a/../../x.png", "/etc/passwd", "..\\x.png", "C:/x.png", "", "a\x00b"])
def test_escaping_names_are_refused(tmp_path, name):
    with pytest.raises(UnsafePathError):
        safe_join(tmp_path, name)


def test_plain_and_nested_names_are_accepted(tmp_path):
    assert safe_join(tmp_path, "a.png") == (tmp_path / "a.png").resolve()
    assert safe_join(tmp_path, "sub/b.jpg") == (tmp_path / "sub" / "b.jpg").resolve()


def test_symlink_out_of_the_folder_is_refused(tmp_path):
    inside = tmp_path / "data"
    inside.mkdir()
    os.symlink(tmp_path, inside / "up")
    with pytest.raises(UnsafePathError, match="outside"):
        safe_join(inside, "up/secret.png")
