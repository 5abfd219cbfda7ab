"""Annex-B splitting, configuration checks and backend selection of the codec seam."""

from __future__ import annotations

import pytest

from imp.codec import (
    CodecConfig,
    CodecType,
    RateControl,
    RcMode,
    SliceType,
    check_config,
    open_backend,
    split_annexb,
)
from imp.codec.nal import is_idr, is_vcl, nal_type
from imp.codec.null_backend import NullBackend
from imp.errors import InvalidArgument
from imp.types import IMPEncoderSliceType


def test_split_normalises_start_codes() -> None:
    stream = (
        b"\x00\x00\x00\x01\x67\x64\x00\x28"  # SPS, 4-byte start code
        b"\x00\x00\x01\x68\xee\x3c\x80"  # PPS, 3-byte start code
        b"\x00\x00\x00\x01\x06\x05\x01\x80\x00"  # SEI with a trailing zero byte
        b"\x00\x00\x01\x65\x88\x84\x00\x00\x03\x01\x10"  # IDR with emulation prevention
    )
    nals = split_annexb(stream, CodecType.H264)
    assert [n.nal_type for n in nals] == [7, 8, 6, 5]
    assert [n.data for n in nals] == [
        b"\x00\x00\x00\x01\x67\x64\x00\x28",
        b"\x00\x00\x00\x01\x68\xee\x3c\x80",
        b"\x00\x00\x00\x01\x06\x05\x01\x80",
        b"\x00\x00\x00\x01\x65\x88\x84\x00\x00\x03\x01\x10",
    ]


def test_split_h265_types_and_garbage() -> None:
    stream = b"\xffjunk" + b"".join(
        b"\x00\x00\x00\x01" + bytes([kind << 1, 1, 0xAB]) for kind in (32, 33, 34, 39, 20, 1)
    )
    nals = split_annexb(stream, CodecType.H265)
    assert [n.nal_type for n in nals] == [32, 33, 34, 39, 20, 1]
    assert all(n.data.startswith(b"\x00\x00\x00\x01") and len(n.data) == 7 for n in nals)
    assert split_annexb(b"no start code", CodecType.H264) == []


def test_nal_type_helpers() -> None:
    assert nal_type(0x65, CodecType.H264) == 5 and nal_type(0x28, CodecType.H265) == 20
    assert is_idr(5, CodecType.H264) and not is_idr(1, CodecType.H264)
    assert is_idr(19, CodecType.H265) and is_idr(20, CodecType.H265)
    assert not is_idr(21, CodecType.H265)  # CRA is not an IDR
    assert is_vcl(1, CodecType.H264) and not is_vcl(7, CodecType.H264)
    assert is_vcl(20, CodecType.H265) and not is_vcl(39, CodecType.H265)


def test_slice_type_values_match_the_c_enum() -> None:
    assert SliceType.B == IMPEncoderSliceType.IMP_ENC_SLICE_B
    assert SliceType.P == IMPEncoderSliceType.IMP_ENC_SLICE_P
    assert SliceType.I == IMPEncoderSliceType.IMP_ENC_SLICE_I
    assert [m.value for m in RcMode] == [0, 1, 2, 4, 8]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"width": 641}, "even"),
        ({"height": 0}, "positive"),
        ({"fps": (25, 0)}, "frame rate"),
        ({"profile": "extended"}, "baseline, main, high"),
        ({"codec": CodecType.H265}, "pass profile='main'"),
        ({"gop": -1}, "GOP"),
        ({"rc": RateControl(qp=52)}, "QP 52"),
        ({"rc": RateControl(min_qp=30, max_qp=20)}, "QP bounds"),
        ({"rc": RateControl(mode=RcMode.CBR, target_kbps=0)}, "target bit rate"),
        ({"rc": RateControl(mode=RcMode.VBR, max_kbps=0)}, "max bit rate"),
        ({"rc": RateControl(ip_delta=60)}, "ip_delta"),
        ({"rc": RateControl(mode=RcMode.CAPPED_VBR, max_psnr=5)}, "max_psnr"),
    ],
)
def test_bad_configs_are_refused(changes: dict[str, object], message: str) -> None:
    base: dict[str, object] = {"codec": CodecType.H264, "width": 640, "height": 360}
    base.update(changes)
    bad = CodecConfig(**base)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match=message):
        check_config(bad)
    with pytest.raises(InvalidArgument, match=message):
        open_backend(bad, "null")


def test_backend_selection(monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = CodecConfig(CodecType.H264, 640, 360)
    monkeypatch.setenv("IMP_CODEC_BACKEND", "null")
    assert isinstance(open_backend(cfg), NullBackend)
    monkeypatch.setenv("IMP_CODEC_BACKEND", "avpu")
    with pytest.raises(InvalidArgument, match=r"'avpu'.*IMP_CODEC_BACKEND.*pyav, null"):
        open_backend(cfg)
    with pytest.raises(InvalidArgument, match=r"'x'.*backend argument.*pyav, null"):
        open_backend(cfg, "x")
    assert isinstance(open_backend(cfg, "null"), NullBackend)  # the argument wins
