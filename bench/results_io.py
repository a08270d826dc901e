"""What every benchmark shares: the machine it ran on, and writing its numbers to bench/results/<name>.{json,md}."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}"


def save(name: str, result: dict[str, Any], markdown: str) -> None:
    """Writes bench/results/<name>.json and <name>.md (the markdown also goes to stdout)."""
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=1) + "\n")
    (RESULTS / f"{name}.md").write_text(markdown)
    print(markdown)
