"""The MIPS tier: checks that only mean something in a MIPS32 o32 little-endian Python.

``tools/mips/run-tier`` runs these files with Debian bookworm's mipsel Python 3.11 under qemu-user
(docs/MIPS.md), with ``IMP_MIPS_TIER=1``. Anywhere else they are not collected: on a 64-bit host
ctypes lays pointer members out differently and the layout checks would be meaningless.
"""

from __future__ import annotations

import json
import os
import platform
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import pytest

DEFAULT_JSON = Path(__file__).resolve().parents[2].parent / "shared/reference/imp_api.json"


def _selected() -> bool:
    return os.environ.get("IMP_MIPS_TIER") == "1" or platform.machine().startswith("mips")


if not _selected():
    collect_ignore_glob = ["test_*.py"]

_checked: Counter[str] = Counter()


@pytest.fixture(scope="session")
def checked() -> Counter[str]:
    """Counts of what the tier compared, printed at the end of the run."""
    return _checked


@cache
def _api() -> dict[str, Any]:
    path = Path(os.environ.get("IMP_API_JSON", DEFAULT_JSON))
    if not path.is_file():
        # Not a skip: without the inventory the tier would prove nothing.
        pytest.fail(f"imp_api.json not found at {path} (set IMP_API_JSON)", pytrace=False)
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="session")
def api() -> dict[str, Any]:
    return _api()


@pytest.fixture(scope="session")
def v116(api: dict[str, Any]) -> dict[str, Any]:
    v: dict[str, Any] = api["v1_1_6"]
    return v


def pytest_report_header() -> str:
    import struct
    import sys

    return (
        f"MIPS tier: {platform.machine()} {8 * struct.calcsize('P')}-bit {sys.byteorder}-endian"
        f" Python {platform.python_version()}"
    )


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _checked:
        return
    order = [
        "imp.types records (sizeof)",
        "imp.types field offsets",
        "imp.types alignments",
        "kernel ABI layouts (sizeof)",
        "kernel ABI field offsets",
        "ioctl numbers",
        "host ioctl constants",
    ]
    keys = [k for k in order if k in _checked] + sorted(set(_checked) - set(order))
    terminalreporter.section("MIPS tier checks")
    for key in keys:
        terminalreporter.write_line(f"{_checked[key]:5d} {key}")
