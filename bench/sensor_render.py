"""Milliseconds per frame of the sensor models, per output size (steady state, caches warm).

Run from the repo root: PYTHONPATH=. .venv/bin/python bench/sensor_render.py [--frames N]
FileSensor is timed on a clip recorded from the synthetic sensor (or ``--file CLIP``).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from kernel_stubs.sensor import (
    ChannelGeometry,
    FileSensor,
    IspControls,
    Scene,
    SensorModel,
    SyntheticSensor,
)

SIZES = ((1920, 1080), (1280, 720), (640, 360))


def ms_per_frame(
    sensor: SensorModel, geometry: ChannelGeometry, controls: IspControls, frames: int
) -> tuple[float, float]:
    """(first frame including cache builds, steady-state mean) in milliseconds."""
    w, h = geometry.out_width, geometry.out_height
    buf = np.empty(w * h * 3 // 2, np.uint8)  # laid out as a framechan DMA buffer
    y, uv = buf[: w * h].reshape(h, w), buf[w * h :].reshape(h // 2, w)
    start = time.perf_counter()
    sensor.render_nv12(0, geometry, controls, y, uv)
    first = time.perf_counter() - start
    start = time.perf_counter()
    for frame_no in range(1, frames + 1):
        sensor.render_nv12(frame_no, geometry, controls, y, uv)
    return first * 1e3, (time.perf_counter() - start) / frames * 1e3


def record_clip(path: Path, frames: int = 50) -> None:
    """A 1280x720 H.264 clip of the synthetic scene, for timing FileSensor."""
    sensor = SyntheticSensor(1280, 720)
    geometry = ChannelGeometry(1280, 720)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 1280, 720, "yuv420p"
        stream.time_base = Fraction(1, 25)
        for frame_no in range(frames):
            nv12 = np.concatenate(sensor.render(frame_no, geometry, IspControls()))
            frame = av.VideoFrame.from_ndarray(nv12, format="nv12")
            frame.pts = frame_no
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--file", type=Path, help="time FileSensor on this clip")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        clip = args.file
        if clip is None:
            clip = Path(tmp) / "synthetic.mp4"
            record_clip(clip)
        static = SyntheticSensor(1920, 1080, Scene.static())
        cases: list[tuple[str, SensorModel, IspControls]] = [
            ("synthetic default", SyntheticSensor(1920, 1080), IspControls()),
            (
                "synthetic default, hflip+sat",
                SyntheticSensor(),
                IspControls(hflip=True, saturation=90),
            ),
            ("synthetic static (noise, flicker)", static, IspControls()),
            ("file (sensor 1920x1080)", FileSensor(clip, 1920, 1080), IspControls()),
        ]
        for label, sensor, controls in cases:
            for width, height in SIZES:
                geometry = ChannelGeometry(width, height, scale=(width, height) != (1920, 1080))
                first, steady = ms_per_frame(sensor, geometry, controls, args.frames)
                print(
                    f"{label:34s} {width:4d}x{height:<4d} {steady:7.3f} ms/frame"
                    f"   (first frame {first:6.1f} ms)"
                )


if __name__ == "__main__":
    main()
