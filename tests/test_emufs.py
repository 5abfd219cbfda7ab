"""EmuFrameSource: channels fed by the program, bound like FrameSource channels; a recorded
10 s clip through OSD into H.264 with every frame accounted for; the C API and bad input."""

from __future__ import annotations

import ctypes
import logging
from pathlib import Path

import av
import numpy as np
import pytest

from imp.capi import *
from imp.emufs import EmuSource
from imp.framesource import get_framesource
from kernel_stubs.sensor.mark import read_frame_mark, stamp_frame_mark
from tests.conftest import running_system
from tests.test_enc_helpers import add_channel, decode, enc_attr, marks, read_streams

W, H = 320, 240
PERIOD = 40_000


def picture(n: int) -> np.ndarray:
    """NV12 (H*3/2, W): a gradient that moves with n, the frame mark n in the top band."""
    nv12 = np.empty((H * 3 // 2, W), np.uint8)
    nv12[:H] = (np.add.outer(np.arange(H), np.arange(W)) + 3 * n).astype(np.uint8) // 2 + 40
    nv12[H:] = 128
    stamp_frame_mark(nv12[:H], n, nv12[H:])
    return nv12


def write_clip(path: Path, frames: int) -> None:
    """A near-lossless H.264 MP4 of ``frames`` marked pictures at 25 fps."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        stream.options = {"qp": "4", "preset": "ultrafast"}
        for n in range(frames):
            frame = av.VideoFrame.from_ndarray(picture(n), format="nv12").reformat(format="yuv420p")
            frame.pts = n
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


def test_clip_through_osd_into_h264_every_frame_accounted_for(tmp_path: Path) -> None:
    """The Pythonic layer only: EmuSource -> Overlay (a cover) -> open_encoder(H264)."""
    from imp.encoder import H264, open_encoder
    from imp.pipeline.overlay import Overlay

    n = 250  # 10 s at 25 fps
    clip = tmp_path / "clip.mp4"
    write_clip(clip, n)
    with running_system("virtual"), EmuSource.from_file(clip, size=(W, H)) as src:
        overlay = Overlay(0)
        overlay.attach(src)
        overlay.cover((200, 150, 80, 60), 0xFF000000)  # x, y, w, h; opaque black
        overlay.start()
        encoder = open_encoder(overlay, H264(bitrate_kbps=800))
        src.start()
        streams = [(s.data, s.timestamp) for s in encoder.streams(limit=n, timeout=10)]
        assert src.wait(30) == n
        assert encoder.channel.ready_count == 0  # nothing beyond the n pictures
        assert src.stats.captured == n and src.stats.errors == 0
        assert not any(overlay.drops.values()) and not any(src.drops.values())
        encoder.close()
        overlay.close()
    frames = decode(b"".join(data for data, _ in streams), "h264")
    assert marks(frames) == list(range(n))  # every picture, once, in order
    t0 = streams[0][1]
    assert [ts - t0 for _, ts in streams] == [i * PERIOD for i in range(n)]
    lumas = [f.reformat(format="nv12").to_ndarray()[:H] for f in frames]  # Y as coded
    assert all(abs(float(y[155:205, 205:275].mean()) - 16) < 4 for y in lumas)  # OSD cover
    source = picture(100)[:H].astype(np.float64)
    mse = np.mean((lumas[100][30:140].astype(np.float64) - source[30:140]) ** 2)
    assert 10 * np.log10(255**2 / mse) > 35


def test_clip_bound_c_style(tmp_path: Path) -> None:
    """The same channel bound with IMP_System_Bind to an encoder made with the C API."""
    n = 30
    clip = tmp_path / "clip.mp4"
    write_clip(clip, n)
    with running_system("virtual"), EmuSource.from_file(clip, size=(W, H), chn=3) as src:
        add_channel(0, 0, enc_attr(IMP_ENC_PROFILE_AVC_HIGH, W, H, kbps=800))
        assert IMP_System_Bind(IMPCell(DEV_ID_FS, 3, 0), IMPCell(DEV_ID_ENC, 0, 0)) == 0
        assert IMP_Encoder_StartRecvPic(0) == 0
        src.start()
        streams = read_streams(0, n)
        assert src.wait(30) == n
        assert IMP_Encoder_StopRecvPic(0) == 0
        assert IMP_System_UnBind(IMPCell(DEV_ID_FS, 3, 0), IMPCell(DEV_ID_ENC, 0, 0)) == 0
        assert IMP_Encoder_UnRegisterChn(0) == 0
        assert IMP_Encoder_DestroyChn(0) == 0
        assert IMP_Encoder_DestroyGroup(0) == 0
    assert marks(decode(b"".join(s.data for s in streams), "h264")) == list(range(n))


def test_arrays_push_and_getframe_on_an_emulated_channel() -> None:
    with running_system("virtual"), EmuSource(None, size=(W, H), chn=5) as src:
        assert IMP_FrameSource_SetFrameDepth(5, 2) == 0
        src.start()
        ts = [src.push(picture(i)) for i in range(3)]
        assert ts[1] - ts[0] == PERIOD and ts[2] - ts[1] == PERIOD
        p = ctypes.POINTER(IMPFrameInfo)()
        got = []
        for _ in range(2):  # depth 2: the oldest of the three was dropped
            assert IMP_FrameSource_GetFrame(5, p) == 0
            y = np.frombuffer(ctypes.string_at(p.contents.virAddr, W * H), np.uint8)
            got.append((read_frame_mark(y.reshape(H, W)), int(p.contents.timeStamp)))
            assert IMP_FrameSource_ReleaseFrame(5, p) == 0
        assert got == [(1, ts[1]), (2, ts[2])]
        assert get_framesource().channel(5).stats.fifo_dropped == 1
        src.push((picture(7)[:H], picture(7)[H:]), pts=123)  # (y, uv) planes, own pts
        with pytest.raises(Exception, match="expected NV12"):
            src.push(np.zeros((10, 10), np.uint8))


def test_decoder_feeds_an_emulated_channel() -> None:
    """DEC -> FS(emu) -> ENC: a JPEG sequence decoded into the emulated channel's outputs."""
    from imp.codec.base import CodecConfig, CodecType
    from imp.codec.pyav_backend import PyAVBackend
    from tests.test_decoder_capi import dec_attr, send

    enc = PyAVBackend(CodecConfig(CodecType.JPEG, W, H, profile="baseline", jpeg_quality=90))
    jpegs = [enc.encode(picture(i)[:H], picture(i)[H:], i)[0].nals[0].data for i in range(8)]
    enc.close()
    with running_system("virtual"), EmuSource(None, size=(W, H), chn=4) as src:
        assert IMP_Decoder_CreateChn(0, dec_attr(PT_JPEG, W, H)) == 0
        add_channel(0, 0, enc_attr(IMP_ENC_PROFILE_AVC_HIGH, W, H, kbps=800))
        assert IMP_System_Bind(IMPCell(DEV_ID_DEC, 0, 0), IMPCell(DEV_ID_FS, 4, 0)) == 0
        assert IMP_System_Bind(IMPCell(DEV_ID_FS, 4, 0), IMPCell(DEV_ID_ENC, 0, 0)) == 0
        src.start()
        assert IMP_Encoder_StartRecvPic(0) == 0
        assert IMP_Decoder_StartRecvPic(0) == 0
        for i, data in enumerate(jpegs):
            assert send(0, data, 1000 + i * PERIOD) == 0
        streams = read_streams(0, len(jpegs))
        assert IMP_Encoder_StopRecvPic(0) == 0
        assert IMP_System_UnBind(IMPCell(DEV_ID_FS, 4, 0), IMPCell(DEV_ID_ENC, 0, 0)) == 0
        assert IMP_System_UnBind(IMPCell(DEV_ID_DEC, 0, 0), IMPCell(DEV_ID_FS, 4, 0)) == 0
        assert IMP_Decoder_DestroyChn(0) == 0
        assert IMP_Encoder_UnRegisterChn(0) == 0
        assert IMP_Encoder_DestroyChn(0) == 0
        assert IMP_Encoder_DestroyGroup(0) == 0
    frames = decode(b"".join(s.data for s in streams), "h264")
    assert marks(frames) == list(range(8))
    assert [s.timestamp for s in streams] == [1000 + i * PERIOD for i in range(8)]


def _fs_attr(w: int = W, h: int = H) -> IMPFSChnAttr:
    a = IMPFSChnAttr()
    a.picWidth, a.picHeight, a.pixFmt = w, h, PIX_FMT_NV12
    a.outFrmRateNum, a.outFrmRateDen, a.nrVBs, a.type = 25, 1, 2, FS_PHY_CHANNEL
    return a


def test_capi_lifecycle_and_attr() -> None:
    with running_system("virtual"):
        assert IMP_EmuFrameSource_CreateChn(3, _fs_attr()) == 0
        out = IMPFSChnAttr()
        assert IMP_EmuFrameSource_GetChnAttr(3, out) == 0
        assert (out.picWidth, out.picHeight, out.nrVBs) == (W, H, 2)
        assert IMP_EmuFrameSource_EnableChn(3) == 0
        ch = get_framesource().channel(3)
        ch.push(picture(42))  # type: ignore[attr-defined]
        assert ch.stats.captured == 1
        assert IMP_EmuFrameSource_DisableChn(3) == 0
        assert IMP_EmuFrameSource_DestroyChn(3) == 0
        assert IMP_FrameSource_ChnStatQuery(3, ctypes.c_int()) == 0


def test_capi_bad_input(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, "imp.capi"):
        assert IMP_EmuFrameSource_CreateChn(0, _fs_attr()) == -1  # System not initialised
        with running_system("virtual"):
            assert IMP_EmuFrameSource_CreateChn(0, None) == -1
            assert IMP_EmuFrameSource_CreateChn(9, _fs_attr()) == -1
            assert IMP_EmuFrameSource_CreateChn(0, _fs_attr(15, 16)) == -1
            assert IMP_FrameSource_CreateChn(0, _fs_attr(1920, 1080)) == 0
            assert IMP_EmuFrameSource_CreateChn(0, _fs_attr()) == -1  # a camera channel has it
            assert IMP_EmuFrameSource_EnableChn(0) == -1  # not an emulated channel
            assert IMP_EmuFrameSource_GetChnAttr(0, IMPFSChnAttr()) == -1
            assert IMP_FrameSource_DestroyChn(0) == 0
            assert IMP_EmuFrameSource_EnableChn(2) == -1  # no such channel
            assert IMP_EmuFrameSource_DisableChn(2) == -1
            assert IMP_EmuFrameSource_DestroyChn(2) == -1
            assert IMP_EmuFrameSource_CreateChn(2, _fs_attr()) == 0
            assert IMP_EmuFrameSource_GetChnAttr(2, None) == -1
            assert IMP_EmuFrameSource_DisableChn(2) == -1  # not enabled
            assert IMP_EmuFrameSource_EnableChn(2) == 0
            assert IMP_EmuFrameSource_DestroyChn(2) == -1  # enabled
            assert IMP_EmuFrameSource_DisableChn(2) == 0
            assert IMP_EmuFrameSource_DestroyChn(2) == 0
    text = caplog.text
    for fragment in (
        "IMP_EmuFrameSource_CreateChn: EmuFrameSource CreateChn(0): call IMP_System_Init first",
        "IMP_EmuFrameSource_CreateChn: chn_attr is NULL",
        "channel 9 must be 0..5",
        "picture size 15x16",
        "FrameSource channel 0 exists already",
        "IMP_EmuFrameSource_EnableChn: FrameSource channel 0 is a camera channel",
        "IMP_EmuFrameSource_GetChnAttr: FrameSource channel 0 is a camera channel",
        "IMP_EmuFrameSource_EnableChn: FrameSource channel 2 ",  # does not exist / destroyed
        "IMP_EmuFrameSource_GetChnAttr: chn_attr is NULL",
        "IMP_EmuFrameSource_DisableChn: DisableChn(2): channel is not enabled",
        "IMP_EmuFrameSource_DestroyChn: DestroyChn(2): channel is enabled",
    ):
        assert fragment in text, fragment


def test_c_style_program_names_its_source_in_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """IMP_EMUFS_SOURCE_<chn>: a raw NV12 file feeds channel 2, bound to an encoder."""
    n = 12
    raw = tmp_path / "clip.nv12"
    raw.write_bytes(b"".join(picture(i).tobytes() for i in range(n)))
    monkeypatch.setenv("IMP_EMUFS_SOURCE_2", str(raw))
    monkeypatch.setenv("IMP_EMUFS_SOURCE_1", str(tmp_path / "missing.mp4"))
    with running_system("virtual"):
        with caplog.at_level(logging.ERROR, "imp.capi"):
            assert IMP_EmuFrameSource_CreateChn(1, _fs_attr()) == -1
        assert "IMP_EMUFS_SOURCE_1=" in caplog.text and "no such file" in caplog.text
        assert IMP_EmuFrameSource_CreateChn(2, _fs_attr()) == 0
        add_channel(0, 0, enc_attr(IMP_ENC_PROFILE_AVC_HIGH, W, H, kbps=800))
        assert IMP_System_Bind(IMPCell(DEV_ID_FS, 2, 0), IMPCell(DEV_ID_ENC, 0, 0)) == 0
        assert IMP_Encoder_StartRecvPic(0) == 0
        assert IMP_EmuFrameSource_EnableChn(2) == 0
        streams = read_streams(0, n)
        assert IMP_Encoder_StopRecvPic(0) == 0
        assert IMP_EmuFrameSource_DisableChn(2) == 0
        assert IMP_System_UnBind(IMPCell(DEV_ID_FS, 2, 0), IMPCell(DEV_ID_ENC, 0, 0)) == 0
        assert IMP_EmuFrameSource_DestroyChn(2) == 0
        assert IMP_Encoder_UnRegisterChn(0) == 0
        assert IMP_Encoder_DestroyChn(0) == 0
        assert IMP_Encoder_DestroyGroup(0) == 0
    assert marks(decode(b"".join(s.data for s in streams), "h264")) == list(range(n))


def test_emulated_channel_turns_and_keeps_timed_frames() -> None:
    """SetChnRotate and SetMaxDelay apply to an emulated channel like to a camera channel."""
    with running_system("virtual"), EmuSource(None, size=(W, H), chn=4) as src:
        assert IMP_FrameSource_SetChnRotate(4, 1, H, W) == 0
        assert IMP_FrameSource_SetMaxDelay(4, 4) == 0
        assert IMP_FrameSource_SetFrameDepth(4, 1) == 0
        src.start()
        ts = src.push(picture(9))
        p = ctypes.POINTER(IMPFrameInfo)()
        assert IMP_FrameSource_GetFrame(4, p) == 0
        assert (p.contents.width, p.contents.height) == (H, W)
        y = np.frombuffer(ctypes.string_at(p.contents.virAddr, W * H), np.uint8).reshape(W, H)
        assert IMP_FrameSource_ReleaseFrame(4, p) == 0
        assert np.array_equal(np.rot90(y, 1), picture(9)[:H])  # turned 90° clockwise
        buf = ctypes.create_string_buffer(W * H * 3 // 2)
        info = IMPFrameInfo()
        assert IMP_FrameSource_GetTimedFrame(4, IMPFrameTimestamp(ts, 0, 0), 0, buf, info) == 0
        assert (info.width, info.height, info.timeStamp) == (H, W, ts)
        assert buf.raw[: W * H] == y.tobytes()
