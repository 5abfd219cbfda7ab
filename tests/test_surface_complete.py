"""No FrameSource / Decoder / EmuFrameSource / Log / Utils / Common function of libimp 1.1.6
answers "not implemented" any more: each is a real implementation (its bad-input and effect
tests are in test_fs_*, test_decoder_*, test_emufs, test_log_utils_capi)."""

from __future__ import annotations

import logging

import pytest

import imp.capi as capi
from imp.capi import _unimplemented
from imp.capi._inventory import FUNCTIONS_1_1_6

MODULES = ("FrameSource", "Decoder", "EmuFrameSource", "Log", "Utils", "Common")
NAMES = sorted(n for n, m in FUNCTIONS_1_1_6.items() if m in MODULES)


def test_the_surface_is_all_there() -> None:
    assert len(NAMES) == 23 + 8 + 5 + 3 + 1 + 2


@pytest.mark.parametrize("name", NAMES)
def test_implemented_not_a_stub(name: str, caplog: pytest.LogCaptureFixture) -> None:
    fn = getattr(capi, name)
    assert fn is not getattr(_unimplemented, name)
    assert "not implemented" not in (fn.__doc__ or "")
    wrapped = getattr(fn, "__wrapped__", fn)
    arity = wrapped.__code__.co_argcount
    with caplog.at_level(logging.DEBUG):
        fn(*([0] * arity))  # System not initialised: an error value, never an exception
    assert "not implemented" not in caplog.text
