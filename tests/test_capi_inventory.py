"""``imp.capi`` exposes the whole libimp 1.1.6 surface, implemented or not.

Every function of the 1.1.6 headers must be importable and callable from ``imp.capi`` (real
implementation or generated stub), and every struct, enum and constant of ``imp.types`` must be
reachable from it, as ``from imp.capi import *`` promises a C programmer.
"""

from __future__ import annotations

import ctypes
import enum
import json
import logging
import os
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest

import imp.capi as capi
import imp.types as T
from imp.capi import _unimplemented
from imp.capi._inventory import FUNCTIONS_1_1_6

DEFAULT_JSON = Path(__file__).parents[1].parent / "shared/reference/imp_api.json"


@cache
def _api() -> dict[str, Any]:
    path = Path(os.environ.get("IMP_API_JSON", DEFAULT_JSON))
    if not path.is_file():
        pytest.skip(f"reference inventory not found at {path} (set IMP_API_JSON to its path)")
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def functions() -> dict[str, dict[str, Any]]:
    """name -> JSON entry (with its module) of every 1.1.6 function."""
    out = {}
    for module, fns in _api()["v1_1_6"]["modules"].items():
        for fn in fns:
            out[fn["name"]] = {**fn, "module": module}
    return out


def test_inventory_lists_every_function(functions: dict[str, dict[str, Any]]) -> None:
    assert len(functions) == _api()["v1_1_6"]["counts_total"] == 363
    assert {name: fn["module"] for name, fn in functions.items()} == FUNCTIONS_1_1_6


def test_every_function_is_callable_from_capi(functions: dict[str, dict[str, Any]]) -> None:
    missing = [name for name in functions if not callable(getattr(capi, name, None))]
    assert not missing, f"not in imp.capi: {missing}"
    not_exported = [name for name in functions if name not in capi.__all__]
    assert not not_exported, f"not in imp.capi.__all__: {not_exported}"


def test_star_import_gives_functions_types_and_constants(
    functions: dict[str, dict[str, Any]],
) -> None:
    namespace: dict[str, Any] = {}
    exec("from imp.capi import *", namespace)
    for name in functions:
        assert callable(namespace[name]), name
    for name in T.__all__:
        assert namespace[name] is getattr(T, name), name
    assert namespace["PIX_FMT_NV12"] == 10
    assert namespace["IMPEncoderStream"] is T.IMPEncoderStream
    assert not any(name.startswith("_") for name in capi.__all__)


def test_every_struct_enum_and_constant_of_types_is_reachable() -> None:
    records = enums = constants = 0
    for name in T.__all__:
        obj = getattr(T, name)
        assert getattr(capi, name) is obj, name
        if isinstance(obj, type) and issubclass(obj, (ctypes.Structure, ctypes.Union)):
            records += 1
        elif isinstance(obj, type) and issubclass(obj, enum.IntEnum):
            enums += 1
        elif isinstance(obj, int):
            constants += 1
    v116 = _api()["v1_1_6"]
    macros = [m for m in v116["macros"].values() if isinstance(m.get("value"), int)]
    assert enums == len(v116["enums"])
    assert constants == sum(len(e) for e in v116["enums"].values()) + len(macros)
    assert records >= len([k for k in v116["structs"] if "." not in k])


def test_capi_all_has_no_modules_or_private_names() -> None:
    for name in capi.__all__:
        assert not name.startswith("_")
        assert not isinstance(getattr(capi, name), type(os)), name


def test_unimplemented_function_returns_error_and_logs(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="imp.capi"):
        assert capi.IMP_DMIC_Enable(0) == -1
    assert any(
        r.levelno >= logging.ERROR and "IMP_DMIC_Enable" in r.getMessage() for r in caplog.records
    ), caplog.text


def _expected_error(ret: str) -> Any:
    t = re.sub(r"\bconst\b", "", ret).strip()
    if "*" in t or t == "void":
        return None
    if t in ("uint32_t", "int64_t"):
        return 0
    return -1


def test_every_stub_fails_with_the_documented_error_value(
    functions: dict[str, dict[str, Any]], caplog: pytest.LogCaptureFixture
) -> None:
    assert sorted(_unimplemented.__all__) == sorted(functions)
    with caplog.at_level(logging.ERROR, logger="imp.capi"):
        for name, fn in functions.items():
            stub = getattr(_unimplemented, name)
            caplog.clear()
            assert stub(*([0] * len(fn["args"]))) == _expected_error(fn["ret"]), name
            assert f"{name}: not implemented" in caplog.text, name
            assert stub.__name__ == name
