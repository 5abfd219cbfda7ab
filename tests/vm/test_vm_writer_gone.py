"""The feed of a v4l2loopback device stops mid-stream and comes back (the writer process exits,
a new one starts): the pipeline keeps running on error frames while nothing arrives, and shows
the new writer's pictures as soon as they come."""

from __future__ import annotations

import threading
import time

import av
import numpy as np
from vmlib import LOOP_IN, mark_or_none, report, sensor_model

import imp
from imp.errors import ImpError

W, H = 320, 180


def write_level(
    level: int, seconds: float, fps: int = 8, started: threading.Event | None = None
) -> None:
    """An independent writer (FFmpeg's v4l2 muxer): flat frames of luma ``level``; ``started``
    is set once the first frame is written (the device has its format from then on)."""
    out = av.open(LOOP_IN, "w", format="v4l2")
    stream = out.add_stream("rawvideo", rate=fps)
    stream.width, stream.height, stream.pix_fmt = W, H, "yuyv422"
    picture = np.concatenate(
        [np.full((H, W), level, np.uint8), np.full((H // 2, W), 128, np.uint8)]
    )
    try:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            for packet in stream.encode(av.VideoFrame.from_ndarray(picture, format="yuv420p")):
                out.mux(packet)
            if started is not None:
                started.set()
            time.sleep(1 / fps)
    finally:
        out.close()


def test_writer_gone_and_back() -> None:
    writing = threading.Event()
    first = threading.Thread(target=write_level, args=(60, 6.0, 8, writing), daemon=True)
    first.start()
    assert writing.wait(60), "the first writer never wrote"  # the capture side has a format
    imp.kernel.sim_overrides(
        clock="virtual",
        sensor=f"v4l2:{LOOP_IN}?pace=latest&timeout=1&retry=0.5",
        sensor_size=(W, H),
    )
    seen: list[tuple[float, int | None, float]] = []  # (time, mark, mean luma)
    with imp.open() as cam:
        main = cam.framesource(0, size=(W, H))
        t0 = time.monotonic()
        second_started = False
        while time.monotonic() - t0 < 22:
            if not second_started and time.monotonic() - t0 > 10:  # ~5 s without a writer
                threading.Thread(target=write_level, args=(170, 8.0), daemon=True).start()
                second_started = True
            try:
                frame = main.get_frame(timeout=0.5)
            except ImpError:
                continue  # nothing arrived in time: the device is silent
            with frame:
                seen.append(
                    (time.monotonic() - t0, mark_or_none(frame.y), float(frame.y[40:].mean()))
                )
        corrupt = main.stats.corrupt
        error = sensor_model().last_error
        sensor_model().close()
    first.join(5)
    old = [s for s in seen if abs(s[2] - 60) < 5]
    new = [s for s in seen if abs(s[2] - 170) < 5]
    gap = new[0][0] - old[-1][0] if old and new else None
    report(
        f"v4l2loopback writer gone for ~5 s, then a new writer: {len(old)} frames before, "
        f"{corrupt} error frames while silent (sensor: {error!r}), {len(new)} frames of the new "
        f"writer after, first one {gap:.1f} s after the last old one"
        if gap
        else "no frames"
    )
    assert old and new and corrupt >= 1
    marks = [m for _, m, _ in seen]
    assert None not in marks and marks == sorted(marks)
    assert all(s[0] < new[0][0] for s in old)  # no old picture after the new writer started
