"""The ``null`` codec backend: fixed tiny pictures, no encoding, for measuring the framework.

Every picture is prepared once per configuration, so ``encode`` costs a dictionary lookup and the
plane check. The GOP logic (IDR every ``gop`` pictures, on request, parameter sets in front) is
the same as the ``pyav`` backend's, so whatever consumes the stream sees the same NAL sequence.

- H.264: a real, decodable Baseline stream of a mid-grey picture. IDR: SPS, PPS and one I slice
  of Intra16x16 DC macroblocks without residual (one byte each: 8 KB at 1080p). P pictures: one
  slice skipping every macroblock (a few bytes). ``log2_max_frame_num`` = 4 and POC type 2, so
  the 16 possible P slices are prepared up front; ``idr_pic_id`` alternates 0/1 as consecutive
  IDRs need.
- JPEG: a real baseline JPEG of the same grey picture (Huffman tables with one code each: two
  bits per 8x8 block).
- H.265: NAL units with correct headers (VPS 32, SPS 33, PPS 34, IDR_N_LP 20, TRAIL_R 1) and a
  one-byte body: right for anything that looks at NAL types and sizes, but not decodable (H.265
  slice data is CABAC-coded; a grey picture is not a few constant bytes there).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import replace
from functools import lru_cache

import numpy as np

from imp.codec.base import (
    CodecConfig,
    CodecType,
    EncodedPicture,
    Nal,
    RateControl,
    SliceType,
    check_config,
    check_planes,
    check_rate_control,
)
from imp.codec.nal import START_CODE
from imp.errors import InvalidState

__all__ = ["NullBackend", "h264_grey_stream", "jpeg_grey_picture"]

_FRAME_NUM_BITS = 4  # log2_max_frame_num: 16 P slices cover every frame_num


class _Bits:
    """An MSB-first bit string, with the Exp-Golomb codes of H.264."""

    def __init__(self) -> None:
        self._bits: list[str] = []

    def u(self, width: int, value: int) -> _Bits:
        self._bits.append(format(value, f"0{width}b") if width else "")
        return self

    def ue(self, value: int) -> _Bits:
        code = format(value + 1, "b")
        self._bits.append("0" * (len(code) - 1) + code)
        return self

    def se(self, value: int) -> _Bits:
        return self.ue(2 * value - 1 if value > 0 else -2 * value)

    def raw(self, bits: str) -> _Bits:
        self._bits.append(bits)
        return self

    def rbsp(self) -> bytes:
        """The bits plus rbsp_trailing_bits (a one, then zeros to a byte boundary)."""
        bits = "".join(self._bits) + "1"
        bits += "0" * (-len(bits) % 8)
        return int(bits, 2).to_bytes(len(bits) // 8, "big")


def _nal(header: bytes, rbsp: bytes) -> bytes:
    """A NAL unit with start code: emulation prevention bytes inserted into ``rbsp``."""
    out = bytearray(START_CODE + header)
    zeros = 0
    for byte in rbsp:
        if zeros >= 2 and byte <= 3:
            out.append(3)
            zeros = 0
        out.append(byte)
        zeros = zeros + 1 if byte == 0 else 0
    return bytes(out)


def _h264_level(macroblocks: int) -> int:
    for level, max_frame_mbs in ((40, 8192), (51, 36864)):
        if macroblocks <= max_frame_mbs:
            return level
    return 62


_H264Stream = tuple[bytes, bytes, tuple[bytes, bytes], tuple[bytes, ...]]


@lru_cache(maxsize=8)
def h264_grey_stream(width: int, height: int) -> _H264Stream:
    """(SPS, PPS, (IDR with idr_pic_id 0, 1), P slices by frame_num) for a grey picture."""
    mb_w, mb_h = (width + 15) // 16, (height + 15) // 16
    crop_right, crop_bottom = (mb_w * 16 - width) // 2, (mb_h * 16 - height) // 2
    sps = _Bits().u(8, 66).u(8, 0xC0).u(8, _h264_level(mb_w * mb_h))  # Baseline, set0+set1
    sps.ue(0).ue(_FRAME_NUM_BITS - 4).ue(2).ue(1).u(1, 0)  # id, frame_num bits, POC 2, 1 ref
    sps.ue(mb_w - 1).ue(mb_h - 1).u(1, 1).u(1, 1)  # size; frames only; direct 8x8
    if crop_right or crop_bottom:
        sps.u(1, 1).ue(0).ue(crop_right).ue(0).ue(crop_bottom)
    else:
        sps.u(1, 0)
    sps.u(1, 0)  # no VUI
    pps = _Bits().ue(0).ue(0).u(1, 0).u(1, 0).ue(0).ue(0).ue(0)  # ids; CAVLC; 1 slice group
    pps.u(1, 0).u(2, 0).se(0).se(0).se(0).u(1, 1).u(1, 0).u(1, 0)  # QP 26; deblocking ctl
    # Intra16x16, DC prediction, no coded coefficients: mb_type 3, chroma DC, qp delta 0, an
    # empty Intra16x16 DC block (coeff_token "1"): 8 bits, and every picture is 128 grey.
    macroblock = "00100" + "1" + "1" + "1"
    idrs = []
    for idr_pic_id in (0, 1):
        idr = _Bits().ue(0).ue(7).ue(0).u(_FRAME_NUM_BITS, 0).ue(idr_pic_id)
        idr.u(1, 0).u(1, 0).se(0).ue(1)  # marking; slice QP delta 0; deblocking off
        idr.raw(macroblock * (mb_w * mb_h))
        idrs.append(_nal(b"\x65", idr.rbsp()))
    p_slices = []
    for frame_num in range(1 << _FRAME_NUM_BITS):
        p = _Bits().ue(0).ue(5).ue(0).u(_FRAME_NUM_BITS, frame_num)
        p.u(1, 0).u(1, 0).u(1, 0).se(0).ue(1)  # no overrides / reordering / MMCO; QP; deblock
        p.ue(mb_w * mb_h)  # mb_skip_run: the whole picture
        p_slices.append(_nal(b"\x41", p.rbsp()))
    return (
        _nal(b"\x67", sps.rbsp()),
        _nal(b"\x68", pps.rbsp()),
        (idrs[0], idrs[1]),
        tuple(p_slices),
    )


def _segment(marker: int, body: bytes) -> bytes:
    return struct.pack(">BBH", 0xFF, marker, len(body) + 2) + body


@lru_cache(maxsize=8)
def jpeg_grey_picture(width: int, height: int) -> bytes:
    """A baseline 4:2:0 JPEG file of a grey ``width`` x ``height`` picture."""
    mcus = ((width + 15) // 16) * ((height + 15) // 16)
    dqt = _segment(0xDB, b"\x00" + b"\x01" * 64)
    # Y sampled 2x2 (4:2:0), Cb and Cr 1x1; all with quantisation table 0
    components = bytes([1, 0x22, 0, 2, 0x11, 0, 3, 0x11, 0])
    sof = _segment(0xC0, struct.pack(">BHHB", 8, height, width, 3) + components)
    one_code = b"\x01" + b"\x00" * 15 + b"\x00"  # one code of length 1 ("0"), for symbol 0
    dht = _segment(0xC4, b"\x00" + one_code + b"\x10" + one_code)  # DC: diff 0; AC: EOB
    # three components, all on Huffman tables 0/0; spectral selection 0..63 (baseline)
    sos = _segment(0xDA, bytes([3, 1, 0x00, 2, 0x00, 3, 0x00, 0, 63, 0]))
    bits = 12 * mcus  # six blocks per MCU, "0" (DC diff 0) + "0" (EOB) each
    pad = -bits % 8
    scan = bytearray(bits // 8 + (1 if pad else 0))
    if pad:
        scan[-1] = (1 << pad) - 1  # fill with one-bits, as JPEG wants
    return b"\xff\xd8" + dqt + sof + dht + sos + bytes(scan) + b"\xff\xd9"


def _h265_stream() -> tuple[list[Nal], Nal, Nal]:
    def nal(kind: int) -> Nal:
        return Nal(START_CODE + bytes([kind << 1, 1, 0x80]), kind)

    return [nal(32), nal(33), nal(34)], nal(20), nal(1)


class NullBackend:
    """Pictures without encoding; see the module docstring."""

    def __init__(self, config: CodecConfig) -> None:
        check_config(config)
        self.config = config
        self._closed = False
        self._idr_requested = True
        self._since_idr = 0
        self._idr_count = 0
        self._frame_num = 0
        self._h264 = (
            h264_grey_stream(config.width, config.height)
            if config.codec is CodecType.H264
            else None
        )
        self._jpeg = (
            jpeg_grey_picture(config.width, config.height)
            if config.codec is CodecType.JPEG
            else b""
        )
        self._h265 = _h265_stream()

    def encode(
        self,
        y: np.ndarray,
        uv: np.ndarray,
        pts: int,
        force_idr: bool = False,
        input_done: Callable[[], None] | None = None,  # not called: the caller releases after
    ) -> list[EncodedPicture]:
        if self._closed:
            raise InvalidState("the codec backend is closed; open a new one with open_backend()")
        check_planes(self.config, y, uv)
        codec = self.config.codec
        if codec is CodecType.JPEG:
            data = self._jpeg
            return [EncodedPicture([Nal(data, 0)], True, SliceType.I, pts, None, len(data))]
        gop = self.config.gop
        idr = force_idr or self._idr_requested or gop <= 1 or self._since_idr >= gop
        if idr:
            self._idr_requested = False
            self._since_idr = 0
            self._frame_num = 0
        self._since_idr += 1
        if self._h264 is not None:
            sps, pps, idrs, p_slices = self._h264
            if idr:
                nals = [Nal(sps, 7), Nal(pps, 8), Nal(idrs[self._idr_count & 1], 5)]
                self._idr_count += 1
            else:
                self._frame_num = (self._frame_num + 1) % len(p_slices)
                nals = [Nal(p_slices[self._frame_num], 1)]
        else:
            params, idr_nal, p_nal = self._h265
            nals = [*params, idr_nal] if idr else [p_nal]
        size = sum(len(nal.data) for nal in nals)
        slice_type = SliceType.I if idr else SliceType.P
        return [EncodedPicture(nals, idr, slice_type, pts, None, size)]

    def update(
        self,
        *,
        rc: RateControl | None = None,
        fps: tuple[int, int] | None = None,
        gop: int | None = None,
    ) -> None:
        """All changes apply at once (nothing is encoded)."""
        new = self.config
        if rc is not None:
            check_rate_control(rc)
            new = replace(new, rc=rc)
        if fps is not None:
            new = replace(new, fps=fps)
        if gop is not None:
            new = replace(new, gop=gop)
        check_config(new)
        self.config = new

    def request_idr(self) -> None:
        self._idr_requested = True

    def flush(self) -> list[EncodedPicture]:
        self._idr_requested = True  # as pyav: a flushed stream restarts with an IDR
        return []

    def close(self) -> None:
        self._closed = True
