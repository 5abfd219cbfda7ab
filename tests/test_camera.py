"""The Pythonic face: imp.open(), channels, frames, errors."""

from __future__ import annotations

import numpy as np
import pytest

import imp
from kernel_stubs import read_frame_mark


def test_camera_frames_in_a_few_lines() -> None:
    imp.kernel.sim_overrides(clock="virtual")
    with imp.open(sensor="gc2053") as cam:
        assert cam.sensor_size == (1920, 1080)
        main = cam.framesource(0, size=(1920, 1080), nr_vbs=3)
        sub = cam.framesource(1, size=(640, 360), fps=5)
        sub.depth = 2
        main.depth = 3
        marks, stamps = [], []
        for frame in main.frames(limit=30):
            assert frame.size == (1920, 1080)
            assert frame.y.shape == (1080, 1920) and frame.uv.shape == (540, 1920)
            marks.append(read_frame_mark(frame.y))
            stamps.append(frame.timestamp)
        assert np.all(np.diff(marks) == 1)
        assert np.all(np.diff(stamps) == 40000)
        with sub.get_frame() as f1, sub.get_frame() as f2:
            # fps=5 of a 25 fps sensor: every fifth sensor frame
            assert read_frame_mark(f2.y) - read_frame_mark(f1.y) == 5
        snap = sub.snapshot()
        assert snap.shape == (540, 640)
        cam.set_control("brightness", 140)
        assert cam.get_control("brightness") == 140
        assert 0 <= stamps[-1] <= cam.timestamp() + 10_000_000


def test_camera_errors_say_what_to_fix() -> None:
    imp.kernel.sim_overrides(clock="virtual")
    with imp.open() as cam:
        with pytest.raises(imp.InvalidArgument, match="even"):
            cam.framesource(0, size=(641, 360))
        ch = cam.framesource(0, size=(640, 360))
        with pytest.raises(imp.AlreadyExists):
            cam.framesource(0, size=(640, 360))
        frame = ch.get_frame()
        frame.release()
        with pytest.raises(imp.InvalidState, match="released"):
            _ = frame.y
        ch.disable()
        with pytest.raises(imp.InvalidState, match="not enabled"):
            imp.framesource.get_framesource().channel(0).get_frame(0.1)
    with pytest.raises(imp.InvalidState, match="with"):
        cam.framesource(1, size=(640, 360))


def test_camera_on_a_file_sensor(tmp_path: pytest.TempPathFactory) -> None:
    import av

    path = str(tmp_path) + "/clip.mp4"
    with av.open(path, "w") as out:
        stream = out.add_stream("mpeg4", rate=25)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        for i in range(10):
            rgb = np.zeros((240, 320, 3), np.uint8)
            rgb[:] = (i * 25, 255 - i * 25, 128)
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    imp.kernel.sim_overrides(clock="virtual", sensor=f"file:{path}", sensor_size=(640, 480))
    with imp.open() as cam:
        assert cam.sensor_size == (640, 480)
        ch = cam.framesource(0, size=(320, 240))
        ch.depth = 2
        means = [float(f.y[40:].mean()) for f in ch.frames(limit=12)]
    # the clip's luma changes frame to frame and the sensor loops it
    assert len(set(round(m) for m in means)) > 5


def test_camera_encodes_h264_and_jpeg(tmp_path: pytest.TempPathFactory) -> None:
    import io

    import av

    imp.kernel.sim_overrides(clock="virtual")
    with imp.open() as cam:
        main = cam.framesource(0, size=(640, 360))
        h264 = cam.encoder(main, imp.H264(bitrate_kbps=800, gop=25))
        snap = cam.encoder(h264, imp.JPEG(quality=60, fps=5))  # shares the H.264 group
        data = bytearray()
        stamps = []
        for stream in h264.streams(limit=50):
            data += stream.data
            stamps.append(stream.timestamp)
        jpeg = snap.get_stream(timeout=5).data
        snap.close()
        h264.close()
    with av.open(io.BytesIO(bytes(data)), format="h264") as container:
        frames = [f.to_ndarray(format="gray") for f in container.decode(video=0)]
    assert len(frames) == 50 and frames[0].shape == (360, 640)
    marks = [read_frame_mark(f) for f in frames]
    assert marks == list(range(marks[0], marks[0] + 50))
    assert np.all(np.diff(stamps) == 40000)
    with av.open(io.BytesIO(jpeg), format="mjpeg") as container:
        picture = next(container.decode(video=0))
    assert (picture.width, picture.height) == (640, 360)
