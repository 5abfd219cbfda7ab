"""The V4L2 sensor against a fake V4L2 kernel: ioctl encoding, format negotiation, pixel
conversions (NV12, I420, padded YUYV/UYVY, MJPEG), scale/crop, controls, pacing and
device errors."""

from __future__ import annotations

import ctypes
import errno
import time

import av
import numpy as np
import pytest

from imp.kernel.abi import ioc
from imp.v4l2 import abi
from imp.v4l2.abi import host_arch
from imp.v4l2.device import V4L2Error
from kernel_stubs.sensor import ChannelGeometry, IspControls, make_sensor, read_frame_mark
from kernel_stubs.sensor.mark import mark_band_height
from kernel_stubs.sensor.v4l2 import V4L2Options, V4L2Sensor, parse_v4l2_spec, set_default_backend
from kernel_stubs.sensor.v4l2_fake import FakeCapture, FakeV4L2

W, H = 320, 180
DEV = "/dev/video7"


def reference(seq: int, w: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    """The picture the fake device 'sees' at ``seq``: a luma ramp with a bright block whose
    position tells the sequence number; chroma constant over each 2x2 block (so 4:2:2 and
    4:2:0 carry the same colour), smooth so that chroma filters change it by a code at most)."""
    xs = np.arange(w, dtype=np.int32)[None, :]
    ys = np.arange(h, dtype=np.int32)[:, None]
    y = (32 + (xs * 3 + ys * 2) % 160).astype(np.uint8)
    x0 = (seq * 8) % (w - 16)
    y[h // 2 : h // 2 + 16, x0 : x0 + 16] = 230
    cols, rows = np.arange(w // 2)[None, :], np.arange(h // 2)[:, None]
    u = (64 + (cols * 2 + rows) // 4).astype(np.uint8)
    v = (200 - (cols + rows * 3) // 4).astype(np.uint8)
    uv = np.empty((h // 2, w), dtype=np.uint8)
    uv[:, 0::2], uv[:, 1::2] = u, v
    return y, uv


def source(seq: int, fourcc: int, w: int, h: int, bpl: int) -> bytes:
    """Encode the reference picture as the device would, independently of imp.v4l2.convert."""
    y, uv = reference(seq, w, h)
    if fourcc == abi.PIX_NV12:
        return y.tobytes() + uv.tobytes()
    if fourcc == abi.PIX_YU12:
        return y.tobytes() + uv[:, 0::2].tobytes() + uv[:, 1::2].tobytes()
    if fourcc in (abi.PIX_YUYV, abi.PIX_UYVY):
        u = np.repeat(uv[:, 0::2], 2, axis=0)
        v = np.repeat(uv[:, 1::2], 2, axis=0)
        line = np.zeros((h, bpl), dtype=np.uint8)
        quad = line[:, : 2 * w].reshape(h, w // 2, 4)
        order = (y[:, 0::2], u, y[:, 1::2], v)
        if fourcc == abi.PIX_UYVY:
            order = (u, y[:, 0::2], v, y[:, 1::2])
        for i, plane in enumerate(order):
            quad[:, :, i] = plane
        return line.tobytes()
    if fourcc == abi.PIX_MJPEG:
        enc = av.CodecContext.create("mjpeg", "w")
        enc.width, enc.height, enc.pix_fmt = w, h, "yuvj420p"
        enc.options = {"qscale": "2"}
        enc.qmin = enc.qmax = 2
        frame = av.VideoFrame.from_ndarray(np.concatenate([y, uv]), format="nv12")
        packets = enc.encode(frame.reformat(format="yuvj420p")) + enc.encode(None)
        return bytes(packets[0])
    raise AssertionError(f"unexpected fourcc {abi.fourcc_name(fourcc)}")


@pytest.fixture
def fake() -> FakeV4L2:
    backend = FakeV4L2()
    set_default_backend(backend)
    yield backend
    set_default_backend(None)


def add_device(fake: FakeV4L2, formats: list[int], **kw: object) -> FakeCapture:
    device = FakeCapture(formats=formats, source=source, **kw)  # type: ignore[arg-type]
    fake.add(DEV, device)
    return device


def render(sensor: V4L2Sensor, n: int, controls: IspControls | None = None, size=(W, H)):
    return sensor.render(
        n,
        ChannelGeometry(*size, scale=size != (sensor.width, sensor.height)),
        controls or IspControls(),
    )


def below_mark(plane: np.ndarray) -> np.ndarray:
    return plane[mark_band_height(plane.shape[1]) :]


# -- ioctl layer -------------------------------------------------------------------------------
def test_ioctl_numbers_follow_the_host_ioc_rules() -> None:
    if host_arch() == "generic" and ctypes.sizeof(ctypes.c_long) == 8:
        # videodev2.h on x86-64 / arm64
        assert abi.VIDIOC_QUERYCAP == 0x80685600
        assert abi.VIDIOC_S_FMT == 0xC0D05605
        assert abi.VIDIOC_QBUF == 0xC058560F
        assert abi.VIDIOC_DQBUF == 0xC0585611
        assert abi.VIDIOC_STREAMON == 0x40045612
        assert abi.VIDIOC_REQBUFS == 0xC0145608
        assert ctypes.sizeof(abi.Buffer) == 88 and ctypes.sizeof(abi.Format) == 208
    # MIPS encodes the direction in 3 bits at 29 (tooling.md: QUERYCAP is 0x40685600 there)
    assert host_arch("mips") == "mips" and host_arch("x86_64") == "generic"
    assert ioc("r", "V", 0, ctypes.sizeof(abi.Capability), "mips") == 0x40685600
    with pytest.raises(OSError, match="not supported"):
        host_arch("ppc64le")


def test_spec_options_parse_and_reject_with_reasons() -> None:
    path, opts = parse_v4l2_spec("/dev/video3?format=yuyv&size=640x480&pace=fifo&osd=0")
    assert path == "/dev/video3"
    assert (opts.format, opts.size, opts.pace, opts.osd) == ("yuyv", (640, 480), "fifo", False)
    with pytest.raises(ValueError, match="unknown option 'colour'"):
        parse_v4l2_spec("/dev/video3?colour=red")
    with pytest.raises(ValueError, match="format='rgb'"):
        parse_v4l2_spec("/dev/video3?format=rgb")
    with pytest.raises(ValueError, match="device path"):
        make_sensor("v4l2:video0", (W, H))


# -- negotiation ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("offered", "option", "chosen"),
    [
        ([abi.PIX_MJPEG, abi.PIX_YUYV, abi.PIX_NV12], None, "NV12"),
        ([abi.PIX_MJPEG, abi.PIX_YUYV], None, "YUYV"),
        ([abi.PIX_MJPEG, abi.PIX_UYVY], None, "UYVY"),
        ([abi.PIX_MJPEG, abi.PIX_YUYV, abi.PIX_NV12], "mjpeg", "MJPG"),
    ],
)
def test_format_negotiation_prefers_uncompressed(
    fake: FakeV4L2, offered: list[int], option: str | None, chosen: str
) -> None:
    add_device(fake, offered)
    spec = f"v4l2:{DEV}" + (f"?format={option}" if option else "")
    sensor = make_sensor(spec, (W, H))
    assert isinstance(sensor, V4L2Sensor)
    assert sensor.device_format == (chosen, W, H)
    sensor.close()


def test_no_usable_format_and_refused_format_are_explained(fake: FakeV4L2) -> None:
    add_device(fake, [abi.fourcc("RGB3")])
    with pytest.raises(V4L2Error, match=r"offers RGB3; the V4L2 sensor needs NV12 or I420 or YUYV"):
        make_sensor(f"v4l2:{DEV}", (W, H))
    add_device(fake, [abi.PIX_NV12], refuse_format=abi.fourcc("BA81"))
    with pytest.raises(V4L2Error, match="format refused: asked NV12 320x180, the driver set BA81"):
        make_sensor(f"v4l2:{DEV}", (W, H))
    assert fake.open_count() == 0  # nothing left open after a failed negotiation


# -- pixels ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("fourcc", [abi.PIX_NV12, abi.PIX_YU12, abi.PIX_YUYV, abi.PIX_UYVY])
def test_uncompressed_formats_convert(fake: FakeV4L2, fourcc: int) -> None:
    add_device(fake, [fourcc])  # YUYV/UYVY come with 32 bytes of padding per line
    with V4L2Sensor(DEV, W, H, V4L2Options(pace="fifo")) as sensor:
        for n in range(3):
            y, uv = render(sensor, n)
            ref_y, ref_uv = reference(n, W, H)
            assert read_frame_mark(y) == n
            band = mark_band_height(W)
            np.testing.assert_array_equal(y[band:], ref_y[band:])
            # swscale's 4:2:2 -> 4:2:0 filter spans more than a row pair: a code off at most
            chroma_err = np.abs(uv[band // 2 :].astype(int) - ref_uv[band // 2 :])
            assert chroma_err.max() <= (0 if fourcc in (abi.PIX_NV12, abi.PIX_YU12) else 1)


def test_mjpeg_is_decoded(fake: FakeV4L2) -> None:
    add_device(fake, [abi.PIX_MJPEG])
    with V4L2Sensor(DEV, W, H, V4L2Options(pace="fifo")) as sensor:
        y, _uv = render(sensor, 0)
    # The same JPEG decoded independently: the sensor shows exactly that picture ...
    jpeg = source(0, abi.PIX_MJPEG, W, H, 0)
    direct = av.CodecContext.create("mjpeg", "r").decode(av.Packet(jpeg))[0].to_ndarray()[:H]
    assert np.abs(below_mark(y).astype(int) - below_mark(direct)).max() <= 1
    # ... and that picture is the scene, up to JPEG's loss
    ref_y, _ = reference(0, W, H)
    mse = np.mean((below_mark(y).astype(np.float64) - below_mark(ref_y)) ** 2)
    psnr = 10 * np.log10(255**2 / mse)
    assert psnr >= 28, f"MJPEG decode PSNR {psnr:.1f} dB"
    assert read_frame_mark(y) == 0


def test_other_aspect_is_centre_cropped_or_stretched(fake: FakeV4L2) -> None:
    add_device(fake, [abi.PIX_NV12], sizes=[(W, 240)])  # 4:3 only; the sensor is 16:9
    with V4L2Sensor(DEV, W, H, V4L2Options(pace="fifo")) as sensor:
        assert sensor.device_format == ("NV12", W, 240)
        y, _ = render(sensor, 0)
    ref_y, _ = reference(0, W, 240)
    band = mark_band_height(W)
    np.testing.assert_array_equal(y[band:], ref_y[30 + band : 30 + H])  # rows 30..210 of 240
    with V4L2Sensor(DEV, W, H, V4L2Options(pace="fifo", fit="stretch")) as sensor:
        y, _ = render(sensor, 0)
    squeezed = av.VideoFrame.from_ndarray(ref_y, format="gray").reformat(height=H).to_ndarray()
    assert np.abs(y[band:].astype(int) - squeezed[band:]).mean() < 3


def test_channel_crop_and_scale_come_from_the_sensor_picture(fake: FakeV4L2) -> None:
    add_device(fake, [abi.PIX_YUYV])
    with V4L2Sensor(DEV, W, H, V4L2Options(pace="fifo")) as sensor:
        full_y, _ = render(sensor, 0)
        half_y, _half_uv = render(sensor, 0, size=(W // 2, H // 2))  # same frame: same picture
    ref_y, _ = reference(0, W, H)
    box = ref_y.reshape(H // 2, 2, W // 2, 2).mean(axis=(1, 3))
    band = mark_band_height(W // 2)
    assert np.abs(half_y[band:].astype(float) - box[band:]).mean() < 2.0
    assert read_frame_mark(half_y) == 0 and read_frame_mark(full_y) == 0


def test_isp_controls_apply_to_device_pictures(fake: FakeV4L2) -> None:
    add_device(fake, [abi.PIX_NV12])
    band = mark_band_height(W)
    with V4L2Sensor(DEV, W, H, V4L2Options(pace="fifo")) as sensor:
        y, uv = render(sensor, 0, IspControls(hflip=True, vflip=True))
        ref_y, _ref_uv = reference(0, W, H)
        np.testing.assert_array_equal(y[band:], ref_y[::-1, ::-1][band:])
        assert read_frame_mark(y) == 0  # marks are stamped after the flips
        y, uv = render(sensor, 1, IspControls(night=True))
        assert np.all(uv == 128)
        bright, _ = render(sensor, 2, IspControls(brightness=200))
        plain, _ = render(sensor, 3)
        lift = below_mark(bright).astype(float).mean() - below_mark(plain).astype(float).mean()
        assert 25 < lift < 45, lift  # 72 levels x 0.5 codes, less clipping at the top
        _, grey_uv = render(sensor, 5, IspControls(saturation=0))
        assert np.all(grey_uv[band:] == 128)


# -- pacing ------------------------------------------------------------------------------------
def test_fifo_shows_every_device_frame_once_in_order(fake: FakeV4L2) -> None:
    add_device(fake, [abi.PIX_NV12])
    with V4L2Sensor(DEV, W, H, V4L2Options(pace="fifo")) as sensor:
        for n in range(6):
            y, _ = render(sensor, n)
            again, _ = render(sensor, n)  # a second channel of the same sensor frame
            np.testing.assert_array_equal(y, again)
            ref_y, _ = reference(n, W, H)
            np.testing.assert_array_equal(y[H // 2 : H // 2 + 16], ref_y[H // 2 : H // 2 + 16])
            assert sensor.capture_time_ns(n) is not None
            assert sensor.device_sequence(n) == n
        assert sensor.frames_captured == 6


def test_latest_skips_to_the_newest_waiting_frame(fake: FakeV4L2) -> None:
    device = add_device(fake, [abi.PIX_NV12], interval=0.02)
    with V4L2Sensor(DEV, W, H, V4L2Options(pace="latest", buffers=4)) as sensor:
        render(sensor, 0)
        time.sleep(0.2)  # ~10 frames fall due; only 4 buffers hold any
        render(sensor, 1)
        seq_shown = device.sequence - 1
        assert seq_shown >= 8, seq_shown
        stamp0, stamp1 = sensor.capture_time_ns(0), sensor.capture_time_ns(1)
        assert stamp0 is not None and stamp1 is not None and stamp1 > stamp0
        raw_now = time.clock_gettime_ns(time.CLOCK_MONOTONIC_RAW)
        assert 0 <= raw_now - stamp1 < 5_000_000_000  # on the MONOTONIC_RAW time line


# -- errors --------------------------------------------------------------------------------------
def test_missing_and_busy_devices_fail_registration_with_reasons(fake: FakeV4L2) -> None:
    with pytest.raises(V4L2Error, match="no such device node: is the driver loaded") as info:
        make_sensor("v4l2:/dev/video99", (W, H))
    assert info.value.errno == errno.ENOENT
    add_device(fake, [abi.PIX_NV12], faults={"open": [errno.EBUSY]})
    with pytest.raises(V4L2Error, match="busy: another program is streaming") as info:
        make_sensor(f"v4l2:{DEV}", (W, H))
    assert info.value.errno == errno.EBUSY


def test_eio_fails_one_frame_then_the_device_comes_back(fake: FakeV4L2) -> None:
    device = add_device(fake, [abi.PIX_NV12], faults={"dqbuf": [errno.EIO]})
    with V4L2Sensor(DEV, W, H, V4L2Options(pace="fifo", retry=0.05)) as sensor:
        with pytest.raises(V4L2Error, match="I/O error"):
            render(sensor, 0)
        y, _ = render(sensor, 1)
        assert read_frame_mark(y) == 1 and sensor.errors == 1
        assert device.opens == 2  # closed after the error, reopened for frame 1


def test_unplug_fails_fast_and_replug_resumes(fake: FakeV4L2) -> None:
    add_device(fake, [abi.PIX_NV12])
    with V4L2Sensor(DEV, W, H, V4L2Options(pace="fifo", retry=0.1, timeout=1.0)) as sensor:
        render(sensor, 0)
        fake.unplug(DEV)
        t0 = time.monotonic()
        for n in (1, 2, 3):
            with pytest.raises(OSError):
                render(sensor, n)
        elapsed = time.monotonic() - t0
        assert 0.15 <= elapsed < 2.0, elapsed  # paced by retry: neither spinning nor hanging
        assert "gone" in (sensor.last_error or "") or "no such device" in (sensor.last_error or "")
        fake.replug(DEV)
        time.sleep(0.1)
        y, _ = render(sensor, 4)
        assert read_frame_mark(y) == 4


def test_a_silent_device_times_out(fake: FakeV4L2) -> None:
    add_device(fake, [abi.PIX_NV12], interval=30.0)
    with V4L2Sensor(DEV, W, H, V4L2Options(timeout=0.3)) as sensor:
        render(sensor, 0)  # the first frame is due at STREAMON
        t0 = time.monotonic()
        with pytest.raises(V4L2Error, match=r"no frame within 0\.3 s") as info:
            render(sensor, 1)
        assert info.value.errno == errno.ETIMEDOUT
        assert time.monotonic() - t0 < 2.0


def test_an_idle_device_is_released_and_reopened_on_demand(fake: FakeV4L2) -> None:
    device = add_device(fake, [abi.PIX_NV12])
    sensor = V4L2Sensor(DEV, W, H, V4L2Options(pace="fifo", idle=0.2))
    render(sensor, 0)
    assert device.streaming
    deadline = time.monotonic() + 5
    while fake.open_count() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert fake.open_count() == 0 and not device.streaming  # free for other programs
    y, _ = render(sensor, 1)
    assert read_frame_mark(y) == 1 and device.opens == 2
    sensor.close()


def test_busy_at_stream_start_fails_a_frame_then_recovers(fake: FakeV4L2) -> None:
    add_device(fake, [abi.PIX_NV12], faults={"streamon": [errno.EBUSY]})
    with V4L2Sensor(DEV, W, H, V4L2Options(pace="fifo", retry=0.05)) as sensor:
        with pytest.raises(V4L2Error, match=r"VIDIOC_STREAMON.*busy") as info:
            render(sensor, 0)
        assert info.value.errno == errno.EBUSY
        y, _ = render(sensor, 1)
        assert read_frame_mark(y) == 1
