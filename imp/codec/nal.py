"""Annex-B byte streams: splitting a coded picture into NAL units, NAL unit types.

Every NAL handed up starts with the 4-byte start code ``00 00 00 01``: prudynt strips exactly four
bytes from each pack, so a 3-byte start code from a codec is widened here.
"""

from __future__ import annotations

from imp.codec.base import CodecType, Nal

__all__ = [
    "H264_IDR",
    "H264_NON_IDR",
    "H264_PPS",
    "H264_SEI",
    "H264_SPS",
    "H265_IDR_N_LP",
    "H265_IDR_W_RADL",
    "H265_PPS",
    "H265_SEI_PREFIX",
    "H265_SPS",
    "H265_TRAIL_R",
    "H265_VPS",
    "START_CODE",
    "is_idr",
    "is_vcl",
    "nal_type",
    "split_annexb",
]

START_CODE = b"\x00\x00\x00\x01"
_START3 = b"\x00\x00\x01"

H264_NON_IDR, H264_IDR, H264_SEI, H264_SPS, H264_PPS = 1, 5, 6, 7, 8
H265_TRAIL_R, H265_IDR_W_RADL, H265_IDR_N_LP = 1, 19, 20
H265_VPS, H265_SPS, H265_PPS, H265_SEI_PREFIX = 32, 33, 34, 39


def nal_type(header: int, codec: CodecType) -> int:
    """The nal_unit_type in the first header byte of a NAL unit."""
    if codec is CodecType.H265:
        return (header >> 1) & 0x3F
    return header & 0x1F


def is_idr(kind: int, codec: CodecType) -> bool:
    if codec is CodecType.H265:
        return kind in (H265_IDR_W_RADL, H265_IDR_N_LP)
    return kind == H264_IDR


def is_vcl(kind: int, codec: CodecType) -> bool:
    """True for NAL units carrying slice data."""
    if codec is CodecType.H265:
        return kind < 32
    return 1 <= kind <= 5


def split_annexb(data: bytes, codec: CodecType) -> list[Nal]:
    """The NAL units of an Annex-B byte string, each with a 4-byte start code.

    Bytes before the first start code are ignored. Zero bytes ending a unit are dropped: they are
    the leading zero of a 4-byte start code or trailing_zero_8bits, never part of the unit (its
    last byte holds the RBSP stop bit).
    """
    nals: list[Nal] = []
    pos = data.find(_START3)
    while pos >= 0:
        begin = pos + 3
        following = data.find(_START3, begin)
        end = len(data) if following < 0 else following
        while end > begin and data[end - 1] == 0:
            end -= 1
        if end > begin:
            kind = nal_type(data[begin], codec)
            if pos > 0 and data[pos - 1] == 0:
                unit = data[pos - 1 : end]  # already a 4-byte start code: one copy only
            else:
                unit = START_CODE + data[begin:end]
            nals.append(Nal(unit, kind))
        pos = following
    return nals
