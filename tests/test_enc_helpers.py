"""Helpers shared by the encoder tests (no tests here): setting channels up through the C API
as an application does, reading streams the way C reads them, decoding with PyAV."""

from __future__ import annotations

import ctypes
import io
import itertools
from dataclasses import dataclass

import av
import numpy as np

from imp.capi import *
from kernel_stubs import read_frame_mark

PERIOD_US = 40_000  # 25 fps


def fs_attr(w: int, h: int, nr_vbs: int = 2, fps: int = 25) -> IMPFSChnAttr:
    a = IMPFSChnAttr()
    a.picWidth, a.picHeight, a.pixFmt = w, h, PIX_FMT_NV12
    a.outFrmRateNum, a.outFrmRateDen, a.nrVBs, a.type = fps, 1, nr_vbs, FS_PHY_CHANNEL
    if (w, h) != (1920, 1080):
        a.scaler.enable, a.scaler.outwidth, a.scaler.outheight = 1, w, h
    return a


def enc_attr(
    profile: int,
    w: int,
    h: int,
    rc: int = IMP_ENC_RC_MODE_CBR,
    kbps: int = 1000,
    gop: int = 50,
    qp: int = -1,
    fps: int = 25,
) -> IMPEncoderChnAttr:
    a = IMPEncoderChnAttr()
    assert IMP_Encoder_SetDefaultParam(a, profile, rc, w, h, fps, 1, gop, 2, qp, kbps) == 0
    return a


def jpeg_attr(w: int, h: int, quality: int = 50, fps: int = 25) -> IMPEncoderChnAttr:
    a = IMPEncoderChnAttr()
    assert (
        IMP_Encoder_SetDefaultParam(
            a, IMP_ENC_PROFILE_JPEG, IMP_ENC_RC_MODE_FIXQP, w, h, fps, 1, 0, 0, quality, 0
        )
        == 0
    )
    return a


def start_fs(chn: int, w: int, h: int, **kw: int) -> None:
    assert IMP_FrameSource_CreateChn(chn, fs_attr(w, h, **kw)) == 0


def add_channel(group: int, chn: int, attr: IMPEncoderChnAttr, create_group: bool = True) -> None:
    if create_group:
        assert IMP_Encoder_CreateGroup(group) == 0
    assert IMP_Encoder_CreateChn(chn, attr) == 0
    assert IMP_Encoder_RegisterChn(group, chn) == 0


def bind(fs: int, group: int, output: int = 0) -> None:
    assert IMP_System_Bind(IMPCell(DEV_ID_FS, fs, output), IMPCell(DEV_ID_ENC, group, 0)) == 0


def unbind(fs: int, group: int, output: int = 0) -> None:
    assert IMP_System_UnBind(IMPCell(DEV_ID_FS, fs, output), IMPCell(DEV_ID_ENC, group, 0)) == 0


@dataclass
class PackCopy:
    offset: int
    length: int
    timestamp: int
    frame_end: bool
    nal_type: int
    slice_type: int
    data: bytes


@dataclass
class StreamCopy:
    seq: int
    packs: list[PackCopy]
    stream_size: int
    vir_addr: int
    phy_addr: int
    slice_qp: int

    @property
    def data(self) -> bytes:
        return b"".join(p.data for p in self.packs)

    @property
    def timestamp(self) -> int:
        return self.packs[0].timestamp

    @property
    def nal_types(self) -> list[int]:
        return [p.nal_type for p in self.packs]


def pack_bytes(s: IMPEncoderStream, i: int) -> bytes:
    """Pack i as the vendor save_stream reads it (wrapping at streamSize)."""
    p = s.pack[i]
    rem = s.streamSize - p.offset
    if rem < p.length:
        return ctypes.string_at(s.virAddr + p.offset, rem) + ctypes.string_at(
            s.virAddr, p.length - rem
        )
    return ctypes.string_at(s.virAddr + p.offset, p.length)


def copy_stream(s: IMPEncoderStream) -> StreamCopy:
    packs = [
        PackCopy(
            s.pack[i].offset,
            s.pack[i].length,
            s.pack[i].timestamp,
            bool(s.pack[i].frameEnd),
            s.pack[i].nalType.h264NalType,
            s.pack[i].sliceType,
            pack_bytes(s, i),
        )
        for i in range(s.packCount)
    ]
    return StreamCopy(s.seq, packs, s.streamSize, s.virAddr, s.phyAddr, s.streamInfo.iSliceQP)


def read_streams(chn: int, n: int, poll_ms: int = 5000) -> list[StreamCopy]:
    """n pictures as prudynt reads them: PollingStream, GetStream, copy, ReleaseStream."""
    out = []
    for _ in range(n):
        assert IMP_Encoder_PollingStream(chn, poll_ms) == 0, f"channel {chn}: no stream"
        s = IMPEncoderStream()
        assert IMP_Encoder_GetStream(chn, s, False) == 0
        out.append(copy_stream(s))
        assert IMP_Encoder_ReleaseStream(chn, s) == 0
    return out


def decode(data: bytes, fmt: str) -> list[av.VideoFrame]:
    """Decode an Annex-B elementary stream (h264/hevc) or one JPEG (mjpeg)."""
    with av.open(io.BytesIO(data), format=fmt) as container:
        return list(container.decode(video=0))


def marks(frames: list[av.VideoFrame]) -> list[int]:
    return [read_frame_mark(f.to_ndarray(format="gray")) for f in frames]


def assert_marks_in_order(m: list[int]) -> None:
    assert len(set(m)) == len(m), f"duplicated frames: {m}"
    assert all(b > a for a, b in itertools.pairwise(m)), f"out of order: {m}"


def assert_timestamps_match_marks(streams: list[StreamCopy], m: list[int]) -> int:
    """Virtual clock: frame n's capture time is t0 + n * 40 ms. Returns t0."""
    t0s = {s.timestamp - mark * PERIOD_US for s, mark in zip(streams, m, strict=True)}
    assert len(t0s) == 1, f"pack timestamps are not the capture times of the frames: {t0s}"
    for s in streams:
        assert all(p.timestamp == s.timestamp for p in s.packs)
    return t0s.pop()


def kbps_of(sizes: list[int], seconds: float) -> float:
    return sum(sizes) * 8 / seconds / 1000


def sliding_max_kbps(sizes: list[int], window: int) -> float:
    c = np.cumsum([0, *sizes])
    return float(max(c[i + window] - c[i] for i in range(len(sizes) - window + 1)) * 8 / 1000)
