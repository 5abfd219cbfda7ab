"""Log (imp_log.h), Utils (imp_utils.h) and the imp_common.h helpers: effect and bad input."""

from __future__ import annotations

import ctypes
import logging

import pytest

import imp.capi as capi
from imp import log as imp_log


@pytest.fixture(autouse=True)
def default_option() -> object:
    yield
    imp_log.set_option(imp_log.OP_ALL)


def _capi_errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "imp.capi"]


def test_log_option_defaults_to_all_and_round_trips() -> None:
    assert capi.IMP_Log_Get_Option() == capi.IMP_LOG_OP_DEFAULT == 63
    capi.IMP_Log_Set_Option(capi.IMP_LOG_OP_FUNC | capi.IMP_LOG_OP_LINE)
    assert capi.IMP_Log_Get_Option() == 48
    capi.IMP_Log_Set_Option(capi.IMP_LOG_OP_NONE)
    assert capi.IMP_Log_Get_Option() == 0


@pytest.mark.parametrize("bad", [64, -1, "x", None])
def test_log_set_option_refuses_bits_outside_the_mask(
    bad: object, caplog: pytest.LogCaptureFixture
) -> None:
    capi.IMP_Log_Set_Option(capi.IMP_LOG_OP_MODULE)
    with caplog.at_level(logging.ERROR, "imp.capi"):
        assert capi.IMP_Log_Set_Option(bad) is None
    assert capi.IMP_Log_Get_Option() == capi.IMP_LOG_OP_MODULE  # unchanged
    assert any("IMP_Log_Set_Option" in m for m in _capi_errors(caplog))


def test_imp_log_fun_formats_printf_and_routes_to_the_imp_logger(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.DEBUG, "imp.app"):
        capi.imp_log_fun(
            capi.IMP_LOG_LEVEL_WARN,
            capi.IMP_LOG_OP_MODULE | capi.IMP_LOG_OP_FUNC | capi.IMP_LOG_OP_LINE,
            capi.IMP_LOG_OUT_SERVER,
            b"Sample",
            b"sample.c",
            42,
            b"main",
            b"chn %d: %s at %#x (%u%%) %5.2f %c\n",
            3,
            b"ok",
            ctypes.c_uint32(255),
            -1,
            2.5,
            ord("z"),
        )
    (rec,) = [r for r in caplog.records if r.name.startswith("imp.app")]
    assert rec.name == "imp.app.Sample"
    assert rec.levelno == logging.WARNING
    assert rec.getMessage() == "[Sample] [main:42] chn 3: ok at 0xff (4294967295%)  2.50 z"


def test_imp_log_fun_levels_and_silent(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(1, "imp.app"):
        for level in range(2, 9):
            capi.imp_log_fun(level, 0, 0, b"T", None, 0, None, b"level %d", level)
    got = [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "imp.app.T"]
    assert got == [
        (5, "level 2"),
        (logging.DEBUG, "level 3"),
        (logging.INFO, "level 4"),
        (logging.WARNING, "level 5"),
        (logging.ERROR, "level 6"),
        (logging.CRITICAL, "level 7"),
    ]  # SILENT (8) writes nothing


@pytest.mark.parametrize(
    "args",
    [
        (0, 0, 0, b"T", None, 0, None, b"x"),  # level UNKNOWN
        (9, 0, 0, b"T", None, 0, None, b"x"),
        (4, 64, 0, b"T", None, 0, None, b"x"),  # option outside the mask
        (4, 0, 3, b"T", None, 0, None, b"x"),  # no such output
        (4, 0, 0, b"T", None, 0, None, None),  # NULL format
        (4, 0, 0, b"T", None, 0, None, b"%d %d", 1),  # too few arguments
        (4, 0, 0, b"T", None, 0, None, b"%d", "text"),  # wrong type
    ],
)
def test_imp_log_fun_bad_input_logs_on_capi(
    args: tuple[object, ...], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        assert capi.imp_log_fun(*args) is None
    assert any("imp_log_fun" in m for m in _capi_errors(caplog))
    assert not [r for r in caplog.records if r.name.startswith("imp.app")]


def test_pixfmt_to_string_vendor_names() -> None:
    assert capi.IMPPixfmtToString(capi.PIX_FMT_NV12) == "NV12"
    assert capi.IMPPixfmtToString(capi.PIX_FMT_YUV420P) == "YUV420Planar"
    assert capi.IMPPixfmtToString(capi.PIX_FMT_RGBA) == "RGBA"
    assert capi.IMPPixfmtToString(capi.PIX_FMT_0RGB) == "0RGB"
    assert capi.IMPPixfmtToString(capi.PIX_FMT_BAYER_GRBG8) == "GRBG8"


@pytest.mark.parametrize("bad", [34, 35, 36, 37, -1, "NV12"])
def test_pixfmt_to_string_null_for_unnamed(bad: object, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, "imp.capi"):
        assert capi.IMPPixfmtToString(bad) is None
    assert any("IMPPixfmtToString" in m for m in _capi_errors(caplog))


def test_calc_pic_size_and_fmt_to_string_match_imp_common_h() -> None:
    assert capi.calc_pic_size(1920, 1080, capi.PIX_FMT_NV12) == 3110400
    assert capi.calc_pic_size(640, 360, capi.PIX_FMT_NV12) == 345600
    assert capi.calc_pic_size(641, 3, capi.PIX_FMT_NV12) == 641 * 3 * 3 // 2
    assert capi.calc_pic_size(640, 360, capi.PIX_FMT_YUYV422) == 460800
    assert capi.calc_pic_size(640, 360, capi.PIX_FMT_UYVY422) == 460800
    assert capi.calc_pic_size(640, 360, capi.PIX_FMT_RGB565BE) == 460800
    assert capi.calc_pic_size(640, 360, capi.PIX_FMT_BGR0) == 921600
    # formats the T31 helper does not know size to 0, as the inline function
    assert capi.calc_pic_size(640, 360, capi.PIX_FMT_RGBA) == 0
    assert capi.calc_pic_size(640, 360, capi.PIX_FMT_HSV) == 0
    assert capi.fmt_to_string(capi.PIX_FMT_NV12) == "nv12"
    assert capi.fmt_to_string(capi.PIX_FMT_YUYV422) == "yuyv422"
    assert capi.fmt_to_string(capi.PIX_FMT_RGBA) is None


@pytest.mark.parametrize(
    ("fn", "args", "error"),
    [
        ("calc_pic_size", (-2, 4, 10), -1),
        ("calc_pic_size", (2, 4, 99), -1),
        ("calc_pic_size", (None, 4, 10), -1),
        ("fmt_to_string", (99,), None),
        ("fmt_to_string", ("nv12",), None),
    ],
)
def test_common_helpers_bad_input(
    fn: str, args: tuple[object, ...], error: object, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, "imp.capi"):
        assert getattr(capi, fn)(*args) == error
    assert any(fn in m for m in _capi_errors(caplog))
