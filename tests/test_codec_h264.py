"""The pyav backend's H.264 stream: NAL layout, GOP, decodability, profiles, rate control, input.

QP claims are checked in the bitstream itself: the slice header's QP (PPS pic_init_qp + the
slice's slice_qp_delta) is parsed below. x264's ``ultrafast`` has adaptive quantisation off, so
with a constant slice QP every macroblock has that QP.
"""

from __future__ import annotations

import mmap
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import av
import numpy as np
import pytest

from imp.codec import (
    CodecConfig,
    CodecType,
    EncodedPicture,
    RateControl,
    RcMode,
    SliceType,
    open_backend,
)
from imp.codec.pyav_backend import PyAVBackend, vbv_cap
from imp.errors import InvalidArgument, InvalidState
from kernel_stubs import read_frame_mark
from kernel_stubs.sensor import ChannelGeometry, IspControls, SyntheticSensor

W, H = 640, 360
_SENSOR = SyntheticSensor(1920, 1080)


def planes(frame_no: int, width: int = W, height: int = H) -> tuple[np.ndarray, np.ndarray]:
    geometry = ChannelGeometry(width, height, scale=(width, height) != (1920, 1080))
    return _SENSOR.render(frame_no, geometry, IspControls())


def config(**changes: Any) -> CodecConfig:
    return replace(CodecConfig(CodecType.H264, W, H, gop=10), **changes)


def run(
    backend: PyAVBackend, frames: range, idr_at: tuple[int, ...] = (), **size: int
) -> list[EncodedPicture]:
    out = []
    for n in frames:
        y, uv = planes(n, **size)
        out.extend(backend.encode(y, uv, 1000 * n, force_idr=n in idr_at))
    return out


def types(picture: EncodedPicture) -> list[int]:
    return [nal.nal_type for nal in picture.nals]


def luma(frame: av.VideoFrame) -> np.ndarray:
    plane = frame.planes[0]
    rows = np.frombuffer(plane, dtype=np.uint8).reshape(-1, plane.line_size)
    return rows[: frame.height, : frame.width]


def decode(pictures: list[EncodedPicture], codec: str = "h264") -> list[av.VideoFrame]:
    """Each picture as one access unit, then the decoder drained."""
    ctx = av.CodecContext.create(codec, "r")
    assert isinstance(ctx, av.VideoCodecContext)
    frames: list[av.VideoFrame] = []
    for picture in pictures:
        packet = av.Packet(b"".join(nal.data for nal in picture.nals))
        frames.extend(ctx.decode(packet))
    frames.extend(ctx.decode(None))
    return frames


# -- a minimal H.264 header reader --------------------------------------------------------------
class BitReader:
    def __init__(self, nal: bytes) -> None:
        body = nal[4:]  # the start code
        rbsp = bytearray()
        zeros = 0
        for byte in body:
            if zeros >= 2 and byte == 3:
                zeros = 0
                continue  # emulation prevention
            rbsp.append(byte)
            zeros = zeros + 1 if byte == 0 else 0
        self.bits = "".join(format(b, "08b") for b in rbsp)
        self.pos = 8  # past the NAL header

    def u(self, n: int) -> int:
        value = int(self.bits[self.pos : self.pos + n], 2) if n else 0
        self.pos += n
        return value

    def ue(self) -> int:
        zeros = 0
        while self.bits[self.pos] == "0":
            zeros += 1
            self.pos += 1
        return self.u(zeros + 1) - 1

    def se(self) -> int:
        k = self.ue()
        return (k + 1) // 2 if k % 2 else -(k // 2)


class H264Headers:
    """Enough of SPS, PPS and the slice header to reach slice_qp_delta (x264's streams)."""

    def __init__(self) -> None:
        self.profile_idc = 0
        self.frame_num_bits = 0
        self.poc_type = 0
        self.poc_lsb_bits = 0
        self.cabac = False
        self.init_qp = 26
        self.weighted_pred = False

    def sps(self, nal: bytes) -> None:
        r = BitReader(nal)
        self.profile_idc = r.u(8)
        r.u(16)
        r.ue()
        if self.profile_idc in (100, 110, 122, 244, 44, 83, 86, 118, 128):
            if r.ue() == 3:
                r.u(1)
            r.ue()
            r.ue()
            r.u(1)
            assert r.u(1) == 0, "scaling matrices are not parsed here"
        self.frame_num_bits = r.ue() + 4
        self.poc_type = r.ue()
        assert self.poc_type in (0, 2)
        if self.poc_type == 0:
            self.poc_lsb_bits = r.ue() + 4

    def pps(self, nal: bytes) -> None:
        r = BitReader(nal)
        r.ue()
        r.ue()
        self.cabac = bool(r.u(1))
        assert r.u(1) == 0
        assert r.ue() == 0
        r.ue()
        r.ue()
        self.weighted_pred = bool(r.u(1))
        r.u(2)
        self.init_qp = 26 + r.se()

    def slice(self, nal: bytes) -> tuple[int, int, int]:
        """(first_mb_in_slice, slice_type % 5, slice QP)."""
        r = BitReader(nal)
        ref_idc, kind = (nal[4] >> 5) & 3, nal[4] & 0x1F
        first_mb, slice_type = r.ue(), r.ue() % 5
        r.ue()
        r.u(self.frame_num_bits)
        if kind == 5:
            r.ue()
        if self.poc_type == 0:
            r.u(self.poc_lsb_bits)
        if slice_type == 0:  # P
            if r.u(1):
                r.ue()
            if r.u(1):
                while (op := r.ue()) != 3:
                    r.ue()
                    assert op in (0, 1, 2)
            assert not self.weighted_pred
        if ref_idc:
            if kind == 5:
                r.u(2)
            elif r.u(1):
                while (op := r.ue()) != 0:
                    r.ue()
                    if op == 3:
                        r.ue()
        if self.cabac and slice_type != 2:
            r.ue()
        return first_mb, slice_type, self.init_qp + r.se()


def slice_qps(pictures: list[EncodedPicture]) -> list[int]:
    headers = H264Headers()
    qps = []
    for picture in pictures:
        for nal in picture.nals:
            if nal.nal_type == 7:
                headers.sps(nal.data)
            elif nal.nal_type == 8:
                headers.pps(nal.data)
            elif nal.nal_type in (1, 5):
                qps.append(headers.slice(nal.data)[2])
    return qps


@pytest.fixture
def backend() -> Iterator[PyAVBackend]:
    codec = PyAVBackend(config())
    yield codec
    codec.close()


# -- NAL layout, GOP ----------------------------------------------------------------------------
def test_nal_types_and_start_codes(backend: PyAVBackend) -> None:
    pictures = run(backend, range(4))
    assert [len(backend.encode(*planes(9), 0))] == [1]  # zero latency: one picture per call
    first = types(pictures[0])
    assert first in ([7, 8, 6, 5], [7, 8, 5])
    assert pictures[0].keyframe and pictures[0].slice_type is SliceType.I
    for picture in pictures[1:]:
        assert types(picture) == [1]
        assert not picture.keyframe and picture.slice_type is SliceType.P
    for picture in pictures:
        assert all(nal.data.startswith(b"\x00\x00\x00\x01") for nal in picture.nals)
        assert all(nal.data[4] & 0x1F == nal.nal_type for nal in picture.nals)
        assert picture.size == sum(len(nal.data) for nal in picture.nals)
    assert [p.pts for p in pictures] == [0, 1000, 2000, 3000]


def test_one_slice_per_picture(backend: PyAVBackend) -> None:
    headers = H264Headers()
    for picture in run(backend, range(12)):
        slices = [nal for nal in picture.nals if nal.nal_type in (1, 5)]
        assert len(slices) == 1
        for nal in picture.nals:
            if nal.nal_type == 7:
                headers.sps(nal.data)
            if nal.nal_type == 8:
                headers.pps(nal.data)
        assert headers.slice(slices[0].data)[0] == 0  # first_mb_in_slice: the whole picture


def test_gop_and_requested_idr(backend: PyAVBackend) -> None:
    pictures = run(backend, range(35), idr_at=(13,))
    backend.request_idr()
    pictures += run(backend, range(35, 37))
    idrs = [n for n, p in enumerate(pictures) if p.keyframe]
    assert idrs == [0, 10, 13, 23, 33, 35]  # a requested IDR restarts the GOP
    for n in idrs:
        assert types(pictures[n])[:2] == [7, 8] and types(pictures[n])[-1] == 5
    assert all(types(p) == [1] for n, p in enumerate(pictures) if n not in idrs)


@pytest.mark.parametrize("gop", [0, 1])
def test_all_intra(gop: int) -> None:
    codec = PyAVBackend(config(gop=gop))
    pictures = run(codec, range(4))
    assert all(p.keyframe and types(p)[-1] == 5 and 7 in types(p) for p in pictures)


def test_decodes_to_the_frames_in_order(backend: PyAVBackend) -> None:
    pictures = run(backend, range(30), idr_at=(17,))
    frames = decode(pictures)
    assert len(frames) == 30
    assert {(f.width, f.height) for f in frames} == {(W, H)}
    assert [read_frame_mark(luma(f)) for f in frames] == list(range(30))


def test_decodable_from_a_later_idr(backend: PyAVBackend) -> None:
    # what an RTSP client joining late does: start at the first IDR it sees
    pictures = run(backend, range(25))
    frames = decode(pictures[10:])
    assert [read_frame_mark(luma(f)) for f in frames] == list(range(10, 25))


@pytest.mark.parametrize(("profile", "idc"), [("baseline", 66), ("main", 77), ("high", 100)])
def test_profiles(profile: str, idc: int) -> None:
    codec = PyAVBackend(config(profile=profile))
    pictures = run(codec, range(3))
    sps = pictures[0].nals[0]
    assert sps.nal_type == 7 and sps.data[5] == idc
    assert [read_frame_mark(luma(f)) for f in decode(pictures)] == [0, 1, 2]


# -- input layout -------------------------------------------------------------------------------
def dma_buffer(mem: mmap.mmap | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(buffer, y, uv) laid out as a framechan buffer: UV at W * align16(H)."""
    aligned = (H + 15) // 16 * 16
    size = W * aligned * 3 // 2
    buf = np.frombuffer(mem, dtype=np.uint8, count=size) if mem else np.zeros(size, np.uint8)
    buf[:] = 0xEE  # the padding rows: garbage that must not show
    y = buf[: W * H].reshape(H, W)
    uv = buf[W * aligned : W * aligned + W * H // 2].reshape(H // 2, W)
    return buf, y, uv


def test_uv_not_after_y_matches_contiguous_input() -> None:
    reference = PyAVBackend(config())
    dma = PyAVBackend(config())
    _, y, uv = dma_buffer()
    expected, got = [], []
    for n in range(12):
        src_y, src_uv = planes(n)
        y[:], uv[:] = src_y, src_uv
        expected += reference.encode(src_y, src_uv, n)
        got += dma.encode(y, uv, n)
    # x264 is deterministic: the same pictures in give the same bytes out
    assert [[nal.data for nal in p.nals] for p in got] == [
        [nal.data for nal in p.nals] for p in expected
    ]
    frame = decode(got)[5]
    chroma = frame.to_ndarray(format="yuv420p")[H:]
    src_uv = planes(5)[1]
    assert abs(float(chroma[: H // 4].mean()) - float(src_uv[:, 0::2].mean())) < 2


def test_strided_and_read_only_views() -> None:
    reference = PyAVBackend(config())
    other = PyAVBackend(config())
    wide_y = np.zeros((H, W + 64), np.uint8)
    wide_uv = np.zeros((H // 2, W + 64), np.uint8)
    for n in range(6):
        src_y, src_uv = planes(n)
        wide_y[:, :W], wide_uv[:, :W] = src_y, src_uv
        y, uv = wide_y[:, :W], wide_uv[:, :W]  # row stride W + 64
        if n % 2:
            y, uv = y.copy(), uv.copy()
            y.flags.writeable = uv.flags.writeable = False  # cannot go through DLPack
        a = reference.encode(src_y, src_uv, n)
        b = other.encode(y, uv, n)
        assert [nal.data for nal in a[0].nals] == [nal.data for nal in b[0].nals]


@pytest.mark.parametrize("codec", [CodecType.H264, CodecType.H265, CodecType.JPEG])
def test_no_reference_to_input_kept(codec: CodecType) -> None:
    # If anything (frame, DLPack capsule, codec) still held the planes, closing the mapping
    # would raise BufferError: "cannot close exported pointers exist".
    aligned = (H + 15) // 16 * 16
    mem = mmap.mmap(-1, W * aligned * 3 // 2)
    profile = {"h264": "high", "h265": "main", "jpeg": "baseline"}[codec.value]
    backend = PyAVBackend(config(codec=codec, profile=profile))
    buf, y, uv = dma_buffer(mem)
    for n in range(3):
        src_y, src_uv = planes(n)
        y[:], uv[:] = src_y, src_uv
        assert backend.encode(y, uv, n)
    del buf, y, uv
    mem.close()
    backend.close()


def test_bad_planes_are_refused(backend: PyAVBackend) -> None:
    y, uv = planes(0)
    with pytest.raises(InvalidArgument, match="luma plane"):
        backend.encode(y[:-2], uv, 0)
    with pytest.raises(InvalidArgument, match="chroma plane"):
        backend.encode(y, uv[:, :-2], 0)
    with pytest.raises(InvalidArgument, match="uint8"):
        backend.encode(y.astype(np.int16), uv, 0)


def test_closed_backend_refuses_work(backend: PyAVBackend) -> None:
    backend.close()
    backend.close()  # idempotent
    with pytest.raises(InvalidState, match="closed"):
        backend.encode(*planes(0), 0)


def test_flush_then_restart_with_idr(backend: PyAVBackend) -> None:
    first = run(backend, range(5))
    assert backend.flush() == []  # zero latency: nothing held back
    later = run(backend, range(5, 17))
    assert [n for n, p in enumerate(later) if p.keyframe] == [0, 10]  # a new GOP from there
    assert 7 in types(later[0])
    assert [read_frame_mark(luma(f)) for f in decode(first + later)] == list(range(17))


# -- rate control -------------------------------------------------------------------------------
def test_fixqp_is_constant_in_the_bitstream() -> None:
    codec = PyAVBackend(config(rc=RateControl(mode=RcMode.FIXQP, qp=33)))
    pictures = run(codec, range(25), idr_at=(7,))
    assert slice_qps(pictures) == [33] * 25  # I pictures too: no ip offset unless asked
    assert [p.qp for p in pictures] == [33.0] * 25  # x264's own report agrees


def test_fixqp_ip_delta() -> None:
    codec = PyAVBackend(config(rc=RateControl(mode=RcMode.FIXQP, qp=33, ip_delta=3)))
    pictures = run(codec, range(12))
    assert slice_qps(pictures) == [30] + [33] * 9 + [30, 33]


def test_cbr_1080p_2000_kbps() -> None:
    rc = RateControl(mode=RcMode.CBR, target_kbps=2000)
    codec = PyAVBackend(config(width=1920, height=1080, gop=50, rc=rc))
    y = np.empty((1080, 1920), np.uint8)
    uv = np.empty((540, 1920), np.uint8)
    geometry = ChannelGeometry(1920, 1080)
    total = 0
    for n in range(250):
        _SENSOR.render_nv12(n, geometry, IspControls(), y, uv)
        total += sum(p.size for p in codec.encode(y, uv, n))
    kbps = total * 8 / 10 / 1000
    assert 1800 <= kbps <= 2200, f"CBR 2000 kbit/s gave {kbps:.0f}"


def window_peak_kbps(sizes: list[int], fps: int = 25) -> float:
    return float(np.convolve(sizes, np.ones(fps), "valid").max() * 8 / 1000)


@pytest.mark.parametrize("mode", [RcMode.VBR, RcMode.CAPPED_VBR, RcMode.CAPPED_QUALITY])
def test_capped_modes_never_exceed_max(mode: RcMode) -> None:
    # 100 kbit/s is below what this scene takes at QP 21 (170 kbit/s) or even QP 30 (95), so
    # the cap binds
    rc = RateControl(mode=mode, target_kbps=100, max_kbps=100)
    codec = PyAVBackend(config(gop=50, rc=rc))
    sizes = [p.size for p in run(codec, range(250))]
    peak = window_peak_kbps(sizes)
    average = sum(sizes) * 8 / 10 / 1000
    assert peak <= 100, f"{mode.name}: a 1 s window carried {peak:.0f} kbit"
    assert average >= 50, f"{mode.name}: {average:.0f} kbit/s is far below the 100 allowed"


def test_capped_modes_respect_the_quality_ceiling() -> None:
    # 63 - 42 dB = QP 21: a plentiful budget must not buy QPs below it
    rc = RateControl(mode=RcMode.CAPPED_QUALITY, max_kbps=20000, max_psnr=42)
    pictures = run(PyAVBackend(config(rc=rc)), range(20))
    assert min(slice_qps(pictures)) >= 21
    rc = RateControl(mode=RcMode.CAPPED_VBR, target_kbps=20000, max_kbps=20000, max_psnr=40)
    pictures = run(PyAVBackend(config(rc=rc)), range(20))
    assert min(slice_qps(pictures)) >= 23


def test_qp_bounds() -> None:
    rc = RateControl(mode=RcMode.CBR, target_kbps=50, min_qp=20, max_qp=40)
    low = slice_qps(run(PyAVBackend(config(rc=rc)), range(20)))
    assert max(low) == 40  # 50 kbit/s wants more than QP 40: clamped
    rc = RateControl(mode=RcMode.CBR, target_kbps=50000, min_qp=20, max_qp=40)
    high = slice_qps(run(PyAVBackend(config(rc=rc)), range(20)))
    assert min(high) == 20


def test_vbv_cap_arithmetic() -> None:
    for max_kbps in (100, 2000, 8000):
        maxrate, bufsize = vbv_cap(max_kbps)
        assert maxrate + bufsize == max_kbps  # buffer + 1 s of rate: the 1 s window bound


# -- run-time changes ---------------------------------------------------------------------------
def test_bit_rate_change_is_live() -> None:
    rc = RateControl(mode=RcMode.CBR, target_kbps=1500, min_qp=0, max_qp=51)
    codec = PyAVBackend(config(gop=250, rc=rc))
    before = [p.size for p in run(codec, range(75))]
    codec.update(rc=RateControl(mode=RcMode.CBR, target_kbps=300, min_qp=0, max_qp=51))
    assert not codec.reopen_pending
    after = run(codec, range(75, 175))
    assert not any(p.keyframe for p in after)  # no reopen, no extra IDR
    rate_before = sum(before[25:]) * 8 / 2 / 1000
    rate_after = sum(p.size for p in after[50:]) * 8 / 2 / 1000
    assert rate_before > 1000 and rate_after < 450, (rate_before, rate_after)


def test_mode_change_waits_for_the_next_idr() -> None:
    codec = PyAVBackend(config(gop=20, rc=RateControl(mode=RcMode.FIXQP, qp=25)))
    pictures = run(codec, range(5))
    codec.update(rc=RateControl(mode=RcMode.FIXQP, qp=40))
    assert codec.reopen_pending and codec.config.rc.qp == 40
    pictures += run(codec, range(5, 25))
    qps = slice_qps(pictures)
    assert qps[:20] == [25] * 20  # the running GOP keeps its QP
    assert qps[20:] == [40] * 5 and pictures[20].keyframe and not codec.reopen_pending
    codec.update(rc=RateControl(mode=RcMode.CBR, target_kbps=500))
    codec.request_idr()
    pictures += run(codec, range(25, 27))
    assert pictures[25].keyframe and slice_qps(pictures[25:]) != [40, 40]
    frames = decode(pictures)
    assert [read_frame_mark(luma(f)) for f in frames] == list(range(27))


def test_gop_change_is_immediate() -> None:
    codec = PyAVBackend(config(gop=50))
    pictures = run(codec, range(15))
    codec.update(gop=10)
    assert not codec.reopen_pending
    pictures += run(codec, range(15, 30))
    assert [n for n, p in enumerate(pictures) if p.keyframe] == [0, 15, 25]


def test_fps_change_reopens_at_next_idr() -> None:
    codec = PyAVBackend(config(gop=10))
    run(codec, range(3))
    codec.update(fps=(15, 1))
    assert codec.reopen_pending and codec.config.fps == (15, 1)
    pictures = run(codec, range(3, 12))
    assert [n for n, p in enumerate(pictures) if p.keyframe] == [7]
    assert not codec.reopen_pending


def test_bad_updates_are_refused(backend: PyAVBackend) -> None:
    with pytest.raises(InvalidArgument, match="QP bounds"):
        backend.update(rc=RateControl(min_qp=40, max_qp=20))
    with pytest.raises(InvalidArgument, match="frame rate"):
        backend.update(fps=(0, 1))
    with pytest.raises(InvalidArgument, match="GOP"):
        backend.update(gop=-1)
    assert backend.config == config()


def test_open_backend_builds_pyav(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IMP_CODEC_BACKEND", raising=False)
    codec = open_backend(config())
    assert isinstance(codec, PyAVBackend)
    codec.close()
