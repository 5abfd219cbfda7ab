"""Decoder (IMP_Decoder_*): the encoder's own H.264 and JPEG decoded back to the frames it was
given (marks and pixels), polling/get/release, the graph source, and bad input."""

from __future__ import annotations

import ctypes
import logging
import threading

import numpy as np
import pytest

from imp.capi import *
from kernel_stubs.sensor.mark import read_frame_mark
from tests.conftest import running_system
from tests.test_enc_helpers import (
    StreamCopy,
    add_channel,
    bind,
    enc_attr,
    jpeg_attr,
    read_streams,
    start_fs,
    unbind,
)

W, H = 640, 360


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 99.0 if mse == 0 else 10 * np.log10(255.0**2 / mse)


def dec_attr(payload: int, w: int = W, h: int = H, keep: int = 4) -> IMPDecoderCHNAttr:
    a = IMPDecoderCHNAttr()
    d = a.decAttr
    d.decType, d.maxWidth, d.maxHeight, d.pixelFormat = payload, w, h, PIX_FMT_NV12
    d.nrKeepStream, d.frmRateNum, d.frmRateDen = keep, 25, 1
    return a


def send(chn: int, data: bytes, ts: int, timeout_ms: int = 2000) -> int:
    buf = (ctypes.c_uint8 * len(data)).from_buffer_copy(data)
    s = IMPDecoderStream()
    s.decoderNal.i_payload = len(data)
    s.decoderNal.p_payload = ctypes.cast(buf, ctypes.POINTER(ctypes.c_uint8))
    s.decoderNal.timeStamp = ts
    return IMP_Decoder_SendStreamTimeout(chn, s, timeout_ms)


def get_nv12(chn: int) -> tuple[np.ndarray, np.ndarray, int]:
    """PollingFrame, GetFrame, copy the NV12 planes out of rmem, ReleaseFrame."""
    assert IMP_Decoder_PollingFrame(chn, 5000) == 0
    p = ctypes.POINTER(IMPFrameInfo)()
    assert IMP_Decoder_GetFrame(chn, p) == 0
    info = p.contents
    assert (info.width, info.height, info.pixfmt) == (W, H, PIX_FMT_NV12)
    assert info.size == W * H * 3 // 2
    raw = ctypes.string_at(info.virAddr, info.size)
    y = np.frombuffer(raw, np.uint8, W * H).reshape(H, W).copy()
    uv = np.frombuffer(raw, np.uint8, W * H // 2, W * H).reshape(H // 2, W).copy()
    ts = int(info.timeStamp)
    assert IMP_Decoder_ReleaseFrame(chn, p) == 0
    return y, uv, ts


def capture_and_encode(
    attr: IMPEncoderChnAttr, n: int
) -> tuple[list[StreamCopy], dict[int, tuple[np.ndarray, np.ndarray]]]:
    """n coded pictures of FS channel 0, and the source frames they were coded from (kept by
    the channel: SetMaxDelay, read back by timestamp with GetTimedFrame)."""
    from imp.encoder import get_encoder

    start_fs(0, W, H, nr_vbs=3)
    assert IMP_FrameSource_SetMaxDelay(0, 64) == 0
    add_channel(0, 0, attr)
    # The encoder holds frames instead of dropping them, so on the virtual clock it paces the
    # capture: the frame of each picture is still among the 64 the channel keeps.
    get_encoder().channel(0).lossless = True
    bind(0, 0)
    assert IMP_FrameSource_EnableChn(0) == 0
    assert IMP_Encoder_StartRecvPic(0) == 0
    streams: list[StreamCopy] = []
    sources: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    buf = ctypes.create_string_buffer(W * H * 3 // 2)
    for _ in range(n):
        # Look the source up as soon as its picture is out (the channel keeps 64 frames).
        (s,) = read_streams(0, 1)
        info = IMPFrameInfo()
        want = IMPFrameTimestamp(s.timestamp, 0, 0)
        assert IMP_FrameSource_GetTimedFrame(0, want, 0, buf, info) == 0
        nv12 = np.frombuffer(buf.raw, np.uint8).reshape(H * 3 // 2, W)
        sources[s.timestamp] = (nv12[:H].copy(), nv12[H:].copy())
        streams.append(s)
    assert IMP_Encoder_StopRecvPic(0) == 0
    assert IMP_FrameSource_DisableChn(0) == 0
    unbind(0, 0)
    assert IMP_Encoder_UnRegisterChn(0) == 0
    assert IMP_Encoder_DestroyChn(0) == 0
    assert IMP_Encoder_DestroyGroup(0) == 0
    assert IMP_FrameSource_DestroyChn(0) == 0
    return streams, sources


@pytest.mark.parametrize(
    ("payload", "attr"),
    [
        # the default bitrate of the vendor samples' main stream scaled to 640x360
        (PT_H264, lambda: enc_attr(IMP_ENC_PROFILE_AVC_HIGH, W, H, kbps=1000)),
        (PT_JPEG, lambda: jpeg_attr(W, H, quality=75)),
    ],
    ids=["h264", "jpeg"],
)
def test_decoder_returns_the_frames_the_encoder_was_given(payload: int, attr: object) -> None:
    n = 40
    with running_system("virtual"):
        streams, sources = capture_and_encode(attr(), n)  # type: ignore[operator]
        assert IMP_Decoder_CreateChn(0, dec_attr(payload)) == 0
        assert IMP_Decoder_StartRecvPic(0) == 0
        decoded = []
        for s in streams:
            assert send(0, s.data, s.timestamp) == 0
            decoded.append(get_nv12(0))  # zero latency: each unit gives its picture
        assert IMP_Decoder_StopRecvPic(0) == 0
        assert IMP_Decoder_DestroyChn(0) == 0
    assert len(decoded) == n
    assert [ts for _, _, ts in decoded] == [s.timestamp for s in streams]
    dec_marks = [read_frame_mark(y) for y, _, _ in decoded]
    assert dec_marks == sorted(set(dec_marks))  # every picture, once, in order
    matched = [(d, sources[d[2]]) for d in decoded]
    worst_y = worst_uv = 99.0
    for (y, uv, _), (sy, suv) in matched:
        assert read_frame_mark(y) == read_frame_mark(sy)
        worst_y, worst_uv = min(worst_y, psnr(y, sy)), min(worst_uv, psnr(uv, suv))
    print(f"{len(matched)}/{n} matched, worst PSNR Y {worst_y:.1f} dB, UV {worst_uv:.1f} dB")
    assert worst_y >= 35.0 and worst_uv >= 35.0


def test_polling_times_out_without_input_and_get_needs_a_frame(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with running_system("virtual"), caplog.at_level(logging.ERROR, "imp.capi"):
        assert IMP_Decoder_CreateChn(1, dec_attr(PT_H264)) == 0
        assert IMP_Decoder_PollingFrame(1, 10) == -1  # not receiving
        assert IMP_Decoder_StartRecvPic(1) == 0
        assert IMP_Decoder_PollingFrame(1, 20) == -1
        p = ctypes.POINTER(IMPFrameInfo)()
        assert IMP_Decoder_GetFrame(1, p) == -1
        assert not p
        assert IMP_Decoder_DestroyChn(1) == 0  # stops receiving by itself
    text = caplog.text
    assert "IMP_Decoder_PollingFrame: PollingFrame(1): channel is not receiving" in text
    assert "no decoded frame within 0.02 s" in text
    assert "IMP_Decoder_GetFrame" in text


def test_garbage_is_counted_and_the_channel_keeps_decoding() -> None:
    from imp.codec.base import CodecConfig, CodecType
    from imp.codec.pyav_backend import PyAVBackend
    from imp.decoder import get_decoder

    enc = PyAVBackend(CodecConfig(CodecType.JPEG, 64, 48, profile="baseline"))
    y = np.full((48, 64), 90, np.uint8)
    uv = np.full((24, 64), 128, np.uint8)
    (pic,) = enc.encode(y, uv, 7)
    enc.close()
    with running_system("virtual"):
        assert IMP_Decoder_CreateChn(0, dec_attr(PT_JPEG, 64, 48)) == 0
        assert IMP_Decoder_StartRecvPic(0) == 0
        assert send(0, b"\xff\xd8 not a jpeg", 1) == 0  # taken; the worker rejects it
        assert send(0, pic.nals[0].data, 2) == 0
        assert IMP_Decoder_PollingFrame(0, 5000) == 0
        p = ctypes.POINTER(IMPFrameInfo)()
        assert IMP_Decoder_GetFrame(0, p) == 0
        assert (p.contents.width, p.contents.height, p.contents.timeStamp) == (64, 48, 2)
        luma = np.frombuffer(ctypes.string_at(p.contents.virAddr, 64 * 48), np.uint8)
        assert abs(int(luma.mean()) - 90) <= 1
        assert IMP_Decoder_ReleaseFrame(0, p) == 0
        assert IMP_Decoder_ReleaseFrame(0, p) == -1  # once only
        stats = get_decoder().channel(0).stats
        assert (stats.units, stats.decoded, stats.errors) == (2, 1, 1)
        assert IMP_Decoder_DestroyChn(0) == 0


def test_bad_input_returns_minus_one_and_logs(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, "imp.capi"):
        assert IMP_Decoder_CreateChn(0, dec_attr(PT_H264)) == -1  # System not initialised
        with running_system("virtual"):
            assert IMP_Decoder_CreateChn(0, None) == -1
            assert IMP_Decoder_CreateChn(0, IMPFSChnAttr()) == -1
            assert IMP_Decoder_CreateChn(-1, dec_attr(PT_H264)) == -1
            assert IMP_Decoder_CreateChn(0, dec_attr(PT_H265)) == -1
            assert IMP_Decoder_CreateChn(0, dec_attr(PT_H264, 15, 16)) == -1
            assert IMP_Decoder_CreateChn(0, dec_attr(PT_H264, keep=0)) == -1
            a = dec_attr(PT_H264)
            a.decAttr.pixelFormat = PIX_FMT_RGBA
            assert IMP_Decoder_CreateChn(0, a) == -1
            assert IMP_Decoder_StartRecvPic(3) == -1  # no such channel
            assert IMP_Decoder_CreateChn(0, dec_attr(PT_H264)) == 0
            assert IMP_Decoder_CreateChn(0, dec_attr(PT_H264)) == -1  # exists
            assert send(0, b"\0\0\0\1", 0) == -1  # not receiving
            assert IMP_Decoder_StartRecvPic(0) == 0
            assert IMP_Decoder_SendStreamTimeout(0, None, 10) == -1
            assert IMP_Decoder_SendStreamTimeout(0, IMPDecoderStream(), 10) == -1  # 0 bytes
            s = IMPDecoderStream()
            s.decoderNal.i_payload = 4
            assert IMP_Decoder_SendStreamTimeout(0, s, 10) == -1  # NULL payload
            assert send(0, b"\0\0\0\1", 0, timeout_ms=-1) == -1
            assert IMP_Decoder_GetFrame(0, None) == -1
            assert IMP_Decoder_ReleaseFrame(0, IMPFrameInfo()) == -1
            assert IMP_Decoder_ReleaseFrame(0, None) == -1
            assert IMP_Decoder_StopRecvPic(0) == 0
            assert IMP_Decoder_DestroyChn(0) == 0
            assert IMP_Decoder_DestroyChn(0) == -1
    messages = [r.getMessage() for r in caplog.records if r.name == "imp.capi"]
    for fragment in (
        "IMP_Decoder_CreateChn: Decoder CreateChn(0): call IMP_System_Init first",
        "IMP_Decoder_CreateChn: attr is NULL",
        "must be 0..7",
        "H.265 decoding is not part of the T31 decoder",
        "maximum size 15x16",
        "nrKeepStream 0",
        "only NV12",
        "IMP_Decoder_StartRecvPic: decoder channel 3 does not exist",
        "exists already",
        "call StartRecvPic first",
        "IMP_Decoder_SendStreamTimeout: stream is NULL",
        "i_payload 0 must be > 0",
        "p_payload is NULL",
        "timeoutMsec -1",
        "IMP_Decoder_GetFrame: frame is NULL",
        "IMP_Decoder_ReleaseFrame: ReleaseFrame(0): no outstanding frame",
        "IMP_Decoder_DestroyChn: decoder channel 0 was destroyed",
    ):
        assert any(fragment in m for m in messages), fragment


def test_bound_decoder_feeds_an_encoder() -> None:
    """DEC(0) -> ENC group: decoded JPEGs re-encoded as H.264, same marks."""
    from imp.codec.base import CodecConfig, CodecType
    from imp.codec.pyav_backend import PyAVBackend
    from kernel_stubs.sensor.mark import stamp_frame_mark

    n = 10
    enc = PyAVBackend(CodecConfig(CodecType.JPEG, W, H, profile="baseline", jpeg_quality=90))
    jpegs = []
    for i in range(n):
        y = np.full((H, W), 100, np.uint8)
        stamp_frame_mark(y, 1000 + i)
        (pic,) = enc.encode(y, np.full((H // 2, W), 128, np.uint8), i * 40000)
        jpegs.append(pic.nals[0].data)
    enc.close()
    with running_system("virtual"):
        assert IMP_Decoder_CreateChn(0, dec_attr(PT_JPEG)) == 0
        add_channel(0, 0, enc_attr(IMP_ENC_PROFILE_AVC_HIGH, W, H, kbps=800))
        assert IMP_System_Bind(IMPCell(DEV_ID_DEC, 0, 0), IMPCell(DEV_ID_ENC, 0, 0)) == 0
        assert IMP_Encoder_StartRecvPic(0) == 0
        assert IMP_Decoder_StartRecvPic(0) == 0
        for i, data in enumerate(jpegs):
            assert send(0, data, i * 40000) == 0
        streams = read_streams(0, n)
        assert IMP_Decoder_PollingFrame(0, 10) == -1  # bound: frames go to the encoder only
        assert IMP_Encoder_StopRecvPic(0) == 0
        assert IMP_System_UnBind(IMPCell(DEV_ID_DEC, 0, 0), IMPCell(DEV_ID_ENC, 0, 0)) == 0
        assert IMP_Decoder_DestroyChn(0) == 0
        assert IMP_Encoder_UnRegisterChn(0) == 0
        assert IMP_Encoder_DestroyChn(0) == 0
        assert IMP_Encoder_DestroyGroup(0) == 0
    from tests.test_enc_helpers import decode, marks

    frames = decode(b"".join(s.data for s in streams), "h264")
    assert marks(frames) == list(range(1000, 1000 + n))
    assert [s.timestamp for s in streams] == [i * 40000 for i in range(n)]


def test_stop_does_not_wait_for_a_consumer_that_holds_frames() -> None:
    """Bound to a group that keeps every frame, the worker waits for it; StopRecvPic ends that
    wait at once (no thread left behind), and the frames come back when the holder lets go."""
    import time

    from imp.codec.base import CodecConfig, CodecType
    from imp.codec.pyav_backend import PyAVBackend
    from imp.core.vbm import Frame
    from imp.decoder import get_decoder
    from imp.system import get_system

    class Holder:
        device, group, num_outputs = DEV_ID_IVS, 30, 0

        def __init__(self) -> None:
            self.frames: list[Frame] = []

        def on_frame(self, frame: Frame) -> None:
            self.frames.append(frame)  # never released until the test says so

    enc = PyAVBackend(CodecConfig(CodecType.JPEG, 64, 48, profile="baseline"))
    (pic,) = enc.encode(np.full((48, 64), 90, np.uint8), np.full((24, 64), 128, np.uint8), 0)
    enc.close()
    holder = Holder()
    with running_system("virtual"):
        graph = get_system().graph
        graph.register(holder)
        assert IMP_Decoder_CreateChn(0, dec_attr(PT_JPEG, 64, 48)) == 0
        graph.bind((DEV_ID_DEC, 0, 0), (DEV_ID_IVS, 30, 0))
        assert IMP_Decoder_StartRecvPic(0) == 0
        assert send(0, pic.nals[0].data, 1) == 0
        assert send(0, pic.nals[0].data, 2) == 0
        deadline = time.monotonic() + 5
        while not holder.frames and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(holder.frames) == 1  # the second waits for the first to come back
        t = time.monotonic()
        assert IMP_Decoder_StopRecvPic(0) == 0
        assert time.monotonic() - t < 1.0
        assert not [th for th in threading.enumerate() if th.name == "imp-dec0"]
        for frame in holder.frames:
            frame.release()
        graph.unbind((DEV_ID_DEC, 0, 0), (DEV_ID_IVS, 30, 0))
        assert IMP_Decoder_DestroyChn(0) == 0
        assert get_decoder().channels == {}
        graph.unregister(DEV_ID_IVS, 30)
