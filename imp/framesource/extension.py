"""Software stages of a FrameSource channel: extension channels fed by SetSource, rotation.

- :class:`ExtensionFeed`: an extension channel (``FS_EXT_CHANNEL``) with a source channel
  (``SetSource``; an RGBA/BGRA/HSV one without SetSource takes channel 0) taps the source's
  published frames and converts each, in its own thread (the source's capture thread only hands
  a reference over), to its size (swscale) and format (:mod:`imp.framesource.convert`). Its
  frames keep the source frame's timestamp. When the converter is behind, only the newest source
  frame waits (``stats.skipped`` counts the others).
- :class:`Rotator`: a channel with ``SetChnRotate`` publishes its frames turned by 90° or 270°
  (sizes swapped) instead of the captured ones.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import numpy as np

from imp import log
from imp.core.fifo import Fifo
from imp.core.vbm import Frame
from imp.errors import ImpError, InvalidState, Timeout
from imp.framesource.convert import (
    PIX_FMT_BGRA,
    PIX_FMT_HSV,
    PIX_FMT_NV12,
    nv12_to_rgb,
    rotate_nv12,
    write_hsv,
    write_rgba,
)
from imp.framesource.softpool import SoftPool

if TYPE_CHECKING:
    from imp.framesource.channel import FsChannel

_log = log.get("fs")

_JOIN = 2.0
_TAKE_WAIT = 0.5  # a consumer holding every converted buffer: the source frame is skipped


def _scaled(frame: Frame, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """The NV12 planes of ``frame`` at width x height (swscale when the size differs)."""
    if (frame.width, frame.height) == (width, height):
        return frame.y, frame.uv
    import av

    src = av.VideoFrame(frame.width, frame.height, "nv12")
    for plane, data in zip(src.planes, (frame.y, frame.uv), strict=True):
        rows = np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)
        rows[: data.shape[0], : data.shape[1]] = data
    arr = src.reformat(width=width, height=height, format="nv12").to_ndarray()
    return arr[:height], arr[height:]


def convert_into(frame: Frame, out: Frame) -> None:
    """Write ``frame`` (NV12) into ``out`` in ``out``'s size and pixel format."""
    y, uv = _scaled(frame, out.width, out.height)
    if out.pixfmt == PIX_FMT_NV12:
        out.y[...] = y
        out.uv[...] = uv
        return
    rgb = nv12_to_rgb(y, uv)
    if out.pixfmt == PIX_FMT_HSV:
        write_hsv(rgb, out.data)
    else:
        pixels = np.frombuffer(out.data, np.uint8, count=out.width * out.height * 4)
        write_rgba(rgb, pixels.reshape(out.height, out.width, 4), out.pixfmt == PIX_FMT_BGRA)


class ExtensionFeed:
    """The converter of one extension channel ``ch`` fed by ``source``."""

    def __init__(self, ch: FsChannel, source: FsChannel) -> None:
        a = ch.attr
        self._ch, self._source = ch, source
        self.pool = SoftPool(f"fs{ch.group}-ext", a.nr_vbs, a.width, a.height, a.pixfmt)
        self._queue: Fifo[Frame] = Fifo(1, on_drop=self._skip, drop_oldest=True)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"imp-fs{ch.group}-ext", daemon=True)
        self._thread.start()
        source.add_tap(self._offer)

    def _skip(self, frame: Frame) -> None:
        self._ch.stats.skipped += 1
        frame.release()

    def _offer(self, frame: Frame) -> None:
        """From the source's capture thread, with a reference for us: never blocks."""
        self._ch.stats.captured += 1
        if self._stop.is_set() or not self._ch._rate_allows():
            self._skip(frame)
            return
        self._queue.put(frame)

    def _run(self) -> None:
        ch = self._ch
        while not self._stop.is_set():
            try:
                frame = self._queue.get(None)
            except (InvalidState, Timeout):
                return
            try:
                out = self.pool.take(_TAKE_WAIT, self._stop)
            except (InvalidState, Timeout):
                self._skip(frame)
                continue
            stamp, seq = frame.timestamp, frame.seq  # the buffer may be refilled once released
            try:
                convert_into(frame, out)
            except Exception as exc:
                ch.stats.errors += 1
                _log.error("extension channel %d: conversion failed: %s", ch.group, exc)
                self.pool.give_back(out)
                continue
            finally:
                frame.release()
            self.pool.publish(out, stamp, seq)
            with out.handing_on():
                try:
                    ch.stats.last_timestamp = stamp
                    ch._publish(out)
                except ImpError as exc:
                    ch.stats.errors += 1
                    _log.error("extension channel %d: %s", ch.group, exc)

    def close(self) -> None:
        self._source.remove_tap(self._offer)
        self._stop.set()
        self._queue.abort()
        self._thread.join(timeout=_JOIN)
        for frame in self._queue.drain():
            frame.release()
        self.pool.close()


class Rotator:
    """Turns each captured frame of ``ch`` by 90° (``clockwise``) or 270° into its own pool."""

    def __init__(self, ch: FsChannel, clockwise: bool) -> None:
        a = ch.attr
        self._ch, self._clockwise = ch, clockwise
        self.pool = SoftPool(f"fs{ch.group}-rot", a.nr_vbs, a.height, a.width, PIX_FMT_NV12)

    def __call__(self, frame: Frame) -> Frame | None:
        """The rotated copy of ``frame`` with one reference for the caller; None when every
        rotated buffer is held by consumers (the frame is skipped, as a full encoder would)."""
        try:
            out = self.pool.take(0.0)
        except Timeout:
            self._ch.stats.skipped += 1
            return None
        rotate_nv12(frame.y, frame.uv, out.y, out.uv, self._clockwise)
        return self.pool.publish(out, frame.timestamp, frame.seq)

    def close(self) -> None:
        self.pool.close()
