"""Publishing the decoded output of an H.264 encoder channel, with a clock OSD, to a
v4l2loopback device: what a viewer of the T31's main stream would see (encoder artefacts, the
overlay burnt in), as a webcam.

The chain is FrameSource -> OSD group (a clock following the frames' timestamps) -> H.264
encoder channel -> FFmpeg's H.264 decoder (PyAV) -> :class:`~imp.v4l2.publish.LoopbackWriter`,
paced by the pictures' capture timestamps, i.e. at the channel's rate even under the virtual
clock. Only the loop lives here; the writer and its error handling are shared with
:func:`~imp.v4l2.publish.publish_channel`.
"""

from __future__ import annotations

import threading
from collections.abc import Generator

import numpy as np

from imp.v4l2.publish import LoopbackWriter, Pacer, PublishStats

__all__ = ["publish_encoder"]


def _nv12_planes(frame: object, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """(y, uv) NV12 planes of a decoded PyAV frame at ``width`` x ``height``."""
    import av

    assert isinstance(frame, av.VideoFrame)
    if (frame.width, frame.height) != (width, height) or frame.format.name != "nv12":
        frame = frame.reformat(width=width, height=height, format="nv12")
    y = np.frombuffer(frame.planes[0], dtype=np.uint8).reshape(-1, frame.planes[0].line_size)
    uv = np.frombuffer(frame.planes[1], dtype=np.uint8).reshape(-1, frame.planes[1].line_size)
    return y[:height, :width], uv[: height // 2, :width]


def _decoded_frames(
    sensor: str,
    chn: int,
    size: tuple[int, int],
    fps: int,
    bitrate_kbps: int,
    clock: bool,
    limit: int | None,
) -> Generator[tuple[np.ndarray, np.ndarray, int], None, None]:
    """(y, uv, timestamp µs) of each decoded picture of the H.264 channel, in order."""
    import av

    import imp

    with imp.open(sensor=sensor) as cam:
        source = cam.framesource(chn, size=size, fps=fps)
        node: imp.pipeline.Node = source
        if clock:
            osd = cam.overlay(source)
            # below the frame-mark band (top rows), so marks and clock both survive
            osd.clock(position=(16, 48))
            node = osd
        encoder = cam.encoder(node, imp.H264(bitrate_kbps=bitrate_kbps))
        decoder = av.CodecContext.create("h264", "r")
        for stream in encoder.streams(limit=limit, timeout=10.0):
            packet = av.Packet(stream.data)
            packet.pts = stream.timestamp
            for frame in decoder.decode(packet):
                y, uv = _nv12_planes(frame, *size)
                yield y, uv, int(frame.pts if frame.pts is not None else stream.timestamp)
        for frame in decoder.decode(None):  # the decoder's delay, at end of stream
            y, uv = _nv12_planes(frame, *size)
            yield y, uv, int(frame.pts or 0)


def publish_encoder(
    writer: LoopbackWriter,
    *,
    sensor: str = "gc2053",
    chn: int = 0,
    fps: int = 25,
    bitrate_kbps: int = 2000,
    clock: bool = True,
    limit: int | None = None,
    pace: bool = True,
    stop: threading.Event | None = None,
) -> PublishStats:
    """Encode FrameSource channel ``chn`` (at the writer's size) with H.264 at
    ``bitrate_kbps``, a clock overlay drawn first when ``clock``, decode it with FFmpeg and
    write each picture to ``writer`` until ``limit`` encoded pictures, ``stop`` or
    KeyboardInterrupt. ``pace``: each picture is written at its capture time relative to the
    first. Returns the writer's statistics."""
    pacer = Pacer() if pace else None
    size = (writer.width, writer.height)
    frames = _decoded_frames(sensor, chn, size, fps, bitrate_kbps, clock, limit)
    try:
        for y, uv, stamp in frames:
            if stop is not None and stop.is_set():
                break
            if pacer is not None:
                pacer.wait(stamp)
            writer.write(y, uv)
    finally:
        frames.close()  # leaves the camera's 'with' block now
    return writer.stats
