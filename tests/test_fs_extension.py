"""FrameSource completeness: extension channels fed by SetSource with RGBA / HSV conversion,
GetTimedFrame, SetChnRotate 90/270; each against an independent computation."""

from __future__ import annotations

import ctypes
import logging

import numpy as np
import pytest

from imp.capi import *
from kernel_stubs.sensor.mark import read_frame_mark
from tests.conftest import running_system
from tests.test_enc_helpers import add_channel, decode, enc_attr, read_streams

W, H = 640, 360


def fs_attr(w: int, h: int, fmt: int = PIX_FMT_NV12, ext: bool = False, vbs: int = 3):
    a = IMPFSChnAttr()
    a.picWidth, a.picHeight, a.pixFmt = w, h, fmt
    a.outFrmRateNum, a.outFrmRateDen, a.nrVBs = 25, 1, vbs
    a.type = FS_EXT_CHANNEL if ext else FS_PHY_CHANNEL
    if (w, h) != (1920, 1080):
        a.scaler.enable, a.scaler.outwidth, a.scaler.outheight = 1, w, h
    return a


def get(chn: int, size: int) -> tuple[bytes, int]:
    p = ctypes.POINTER(IMPFrameInfo)()
    assert IMP_FrameSource_GetFrame(chn, p) == 0
    data, ts = ctypes.string_at(p.contents.virAddr, size), int(p.contents.timeStamp)
    assert p.contents.size == size
    assert IMP_FrameSource_ReleaseFrame(chn, p) == 0
    return data, ts


def timed(chn: int, ts: int, w: int = W, h: int = H) -> np.ndarray:
    """The NV12 source picture of channel ``chn`` captured at ``ts`` (GetTimedFrame)."""
    want = IMPFrameTimestamp(ts, 0, 0)
    buf = ctypes.create_string_buffer(w * h * 3 // 2)
    info = IMPFrameInfo()
    assert IMP_FrameSource_GetTimedFrame(chn, want, 1, buf, info) == 0
    assert (info.timeStamp, info.width, info.height, info.size) == (ts, w, h, w * h * 3 // 2)
    return np.frombuffer(buf.raw, np.uint8).reshape(h * 3 // 2, w)


def reference_rgb(nv12: np.ndarray) -> np.ndarray:
    """Independent BT.601 limited-range conversion (float matrix, nearest chroma)."""
    h = nv12.shape[0] * 2 // 3
    y = nv12[:h].astype(np.float64) - 16
    cb = nv12[h:, 0::2].astype(np.float64) - 128
    cr = nv12[h:, 1::2].astype(np.float64) - 128
    cb, cr = (np.kron(c, np.ones((2, 2))) for c in (cb, cr))
    m = np.array([[1.164383, 0.0, 1.596027], [1.164383, -0.391762, -0.812968],
                  [1.164383, 2.017232, 0.0]])  # fmt: skip
    rgb = np.einsum("ij,jhw->hwi", m, np.stack([y, cb, cr]))
    return np.clip(rgb, 0, 255)


def test_rgba_and_hsv_extension_channels_match_an_independent_conversion() -> None:
    # real time: the source frame is looked up by timestamp among the last 50 kept; the
    # virtual clock could run further ahead than that while this thread waits
    with running_system("realtime"):
        assert IMP_FrameSource_CreateChn(0, fs_attr(1920, 1080)) == 0
        assert IMP_FrameSource_CreateChn(2, fs_attr(W, H)) == 0
        assert IMP_FrameSource_CreateChn(3, fs_attr(W, H, PIX_FMT_RGBA, ext=True)) == 0
        assert IMP_FrameSource_SetSource(3, 2) == 0
        assert IMP_FrameSource_CreateChn(4, fs_attr(W, H, PIX_FMT_HSV, ext=True)) == 0
        assert IMP_FrameSource_SetSource(4, 2) == 0
        assert IMP_FrameSource_SetMaxDelay(2, 50) == 0
        assert IMP_FrameSource_SetDelay(2, 2) == 0
        for c in (0, 2, 3, 4):
            assert IMP_FrameSource_EnableChn(c) == 0
        for c in (3, 4):
            assert IMP_FrameSource_SetFrameDepth(c, 1) == 0
        rgba, ts_rgba = get(3, W * H * 4)
        hsv, ts_hsv = get(4, W * H * 4)
        src_rgba, src_hsv = timed(2, ts_rgba), timed(2, ts_hsv)
        for c in (4, 3, 2, 0):
            assert IMP_FrameSource_DisableChn(c) == 0
            assert IMP_FrameSource_DestroyChn(c) == 0
    assert read_frame_mark(src_rgba[:H]) >= 0
    # RGBA: within 1 code of the independent conversion, alpha opaque
    got = np.frombuffer(rgba, np.uint8).reshape(H, W, 4)
    diff = np.abs(got[..., :3].astype(np.float64) - reference_rgb(src_rgba))
    assert diff.max() <= 1.0, diff.max()
    assert (got[..., 3] == 255).all()
    # HSV (planar: H uint16 degrees, S, V), the documented tolerance (convert.py): V 1 code,
    # S 3 codes, H 4 degrees at p99 where the colour has a hue at all
    # (max - min >= 8 codes: below that H is mostly rounding noise)
    ref = reference_rgb(src_hsv)
    mx, mn = ref.max(axis=2), ref.min(axis=2)
    hue = np.frombuffer(hsv, "<u2", W * H).reshape(H, W).astype(np.float64)
    sat = np.frombuffer(hsv, np.uint8, W * H, 2 * W * H).reshape(H, W)
    val = np.frombuffer(hsv, np.uint8, W * H, 3 * W * H).reshape(H, W)
    assert np.abs(val - mx).max() <= 1.0
    ref_s = np.where(mx > 0, 255 * (mx - mn) / np.maximum(mx, 1e-9), 0)
    # S is computed from RGB rounded to codes: in dark pixels that rounding is amplified
    assert np.abs(sat - ref_s).max() <= 3.0
    r, g, b = ref[..., 0], ref[..., 1], ref[..., 2]
    ref_h = np.degrees(np.arctan2(np.sqrt(3) * (g - b), 2 * r - g - b)) % 360  # hexcone-free
    colourful = (mx - mn) >= 8
    dh = np.abs(hue - ref_h)
    dh = np.minimum(dh, 360 - dh)[colourful]
    print(f"HSV: {colourful.mean():.0%} coloured, H error p99 {np.percentile(dh, 99):.1f} deg")
    assert hue.max() < 360
    assert np.percentile(dh, 99) <= 4.0  # the hexcone hue differs from the circular one by < 4°


@pytest.mark.parametrize("rot", [1, 2], ids=["90", "270"])
def test_rotation_turns_the_content_and_encoders_take_it(rot: int) -> None:
    with running_system("realtime"):  # timed lookups: see the test above
        assert IMP_FrameSource_CreateChn(0, fs_attr(1920, 1080)) == 0
        assert IMP_FrameSource_CreateChn(1, fs_attr(W, H)) == 0
        assert IMP_FrameSource_CreateChn(2, fs_attr(W, H)) == 0
        assert IMP_FrameSource_SetChnRotate(1, rot, H, W) == 0
        assert IMP_FrameSource_SetMaxDelay(2, 50) == 0
        add_channel(0, 0, enc_attr(IMP_ENC_PROFILE_AVC_HIGH, H, W, kbps=800))
        assert IMP_System_Bind(IMPCell(DEV_ID_FS, 1, 0), IMPCell(DEV_ID_ENC, 0, 0)) == 0
        for c in (0, 1, 2):
            assert IMP_FrameSource_EnableChn(c) == 0
        assert IMP_FrameSource_SetFrameDepth(1, 1) == 0
        # Channel 2 starts streaming a little after channel 1 (a frame or more on a loaded
        # host): the first frames of channel 1 may predate channel 2's history.
        for _ in range(3):
            get(1, W * H * 3 // 2)
        turned, ts = get(1, W * H * 3 // 2)
        source = timed(2, ts)
        assert IMP_Encoder_StartRecvPic(0) == 0
        streams = read_streams(0, 10)
        assert IMP_Encoder_StopRecvPic(0) == 0
        assert IMP_System_UnBind(IMPCell(DEV_ID_FS, 1, 0), IMPCell(DEV_ID_ENC, 0, 0)) == 0
        for c in (2, 1, 0):
            assert IMP_FrameSource_DisableChn(c) == 0
            assert IMP_FrameSource_DestroyChn(c) == 0
    y = np.frombuffer(turned, np.uint8, W * H).reshape(W, H)  # H wide, W high
    uv = np.frombuffer(turned, np.uint8, W * H // 2, W * H).reshape(W // 2, H)
    back = 1 if rot == 1 else -1  # undo the turn (np.rot90 is counter-clockwise)
    assert np.array_equal(np.rot90(y, back), source[:H])  # the same ISP picture, turned
    pairs = np.rot90(uv.reshape(W // 2, H // 2, 2), back).reshape(H // 2, W)
    assert np.array_equal(pairs, source[H:])
    frames = decode(b"".join(s.data for s in streams), "h264")
    assert {(f.width, f.height) for f in frames} == {(H, W)}
    marks = [read_frame_mark(np.rot90(f.reformat(format="nv12").to_ndarray()[:W], back))
             for f in frames]  # fmt: skip
    assert marks == sorted(set(marks))


def test_timed_frame_window_and_blocking() -> None:
    # Real time: the virtual clock runs ahead as fast as it can, so "10 frames from now" would
    # not be a moment still to come. 64 frames kept = 2.5 s of history for a loaded machine.
    with running_system("realtime"):
        assert IMP_FrameSource_CreateChn(0, fs_attr(1920, 1080)) == 0
        assert IMP_FrameSource_CreateChn(1, fs_attr(W, H)) == 0
        assert IMP_FrameSource_SetMaxDelay(1, 64) == 0
        assert IMP_FrameSource_EnableChn(1) == 0
        assert IMP_FrameSource_SetFrameDepth(1, 1) == 0
        _, ts = get(1, W * H * 3 // 2)
        buf = ctypes.create_string_buffer(W * H * 3 // 2)
        info = IMPFrameInfo()
        # a window around a time 10 frames ahead (half a period each side, so one frame lies
        # in it whatever the real-time jitter): blocking waits for it
        ahead = ts + 10 * 40000
        assert (
            IMP_FrameSource_GetTimedFrame(1, IMPFrameTimestamp(ahead, 20000, 20000), 1, buf, info)
            == 0
        )
        assert abs(info.timeStamp - ahead) <= 20000 and info.timeStamp > ts
        # non-blocking, already gone (older than the frames kept): fails
        assert (
            IMP_FrameSource_GetTimedFrame(1, IMPFrameTimestamp(ts - 10**6, 0, 0), 0, buf, info)
            == -1
        )
        assert IMP_FrameSource_DisableChn(1) == 0
        assert IMP_FrameSource_DestroyChn(1) == 0
        assert IMP_FrameSource_DestroyChn(0) == 0


def test_bad_input(caplog: pytest.LogCaptureFixture) -> None:
    buf = ctypes.create_string_buffer(16)
    with running_system("virtual"), caplog.at_level(logging.ERROR, "imp.capi"):
        assert IMP_FrameSource_CreateChn(0, fs_attr(1920, 1080)) == 0
        assert IMP_FrameSource_CreateChn(1, fs_attr(W, H)) == 0
        assert IMP_FrameSource_CreateChn(2, fs_attr(W, H, PIX_FMT_RGBA)) == -1  # physical RGBA
        assert IMP_FrameSource_CreateChn(3, fs_attr(W, H, PIX_FMT_YUYV422, ext=True)) == -1
        assert IMP_FrameSource_CreateChn(3, fs_attr(W, H, PIX_FMT_RGBA, ext=True)) == 0
        assert IMP_FrameSource_SetSource(3, 3) == -1  # not a physical source
        assert IMP_FrameSource_SetSource(1, 0) == -1  # 1 is not an extension channel
        assert IMP_FrameSource_SetChnRotate(1, 3, H, W) == -1
        assert IMP_FrameSource_SetChnRotate(1, 1, W, H) == -1  # sizes not swapped
        assert IMP_FrameSource_SetChnRotate(3, 1, H, W) == -1  # RGBA
        assert IMP_FrameSource_SetDelay(1, 1) == -1  # above max delay 0
        assert IMP_FrameSource_SetMaxDelay(1, -1) == -1
        assert IMP_FrameSource_EnableChn(1) == 0
        assert IMP_FrameSource_SetChnRotate(1, 1, H, W) == -1  # enabled
        ts = IMPFrameTimestamp(0, 0, 0)
        assert IMP_FrameSource_GetTimedFrame(1, ts, 0, buf, IMPFrameInfo()) == -1  # no history
        assert IMP_FrameSource_GetTimedFrame(1, None, 0, buf, IMPFrameInfo()) == -1
        assert IMP_FrameSource_GetTimedFrame(1, ts, 0, None, IMPFrameInfo()) == -1
        assert IMP_FrameSource_GetTimedFrame(1, ts, 0, buf, None) == -1
        assert IMP_FrameSource_DisableChn(1) == 0
        for c in (3, 1, 0):
            assert IMP_FrameSource_DestroyChn(c) == 0
    text = caplog.text
    for fragment in (
        "RGBA (15), BGRA (17) and HSV (35) are converted by an extension channel",
        "source channel 3 must be a physical channel",
        "channel 1 is not an extension channel",
        "rotTo90 3",
        "a turned 640x360 picture is 360x640, not 640x360",
        "only NV12 channels can be rotated",
        "delay 1 must be 0..0",
        "max_delay must be >= 0",
        "DisableChn before SetChnRotate",
        "call SetMaxDelay(chn, n > 0)",
        "IMP_FrameSource_GetTimedFrame: framets is NULL",
        "IMP_FrameSource_GetTimedFrame: framedata is NULL",
        "IMP_FrameSource_GetTimedFrame: frame is NULL",
    ):
        assert fragment in text, fragment
