"""The Pythonic microphone: iterate it for numpy int16 views of frames in rmem, with timestamps.

    with imp.audio.Microphone(rate=16000, frame_ms=40) as mic:
        for chunk in mic.frames(250):          # 10 s
            level = np.abs(chunk.samples).max()  # a zero-copy view, valid inside the loop
            print(chunk.timestamp, level)

Each chunk is returned (ReleaseFrame) when the loop asks for the next one; keep a copy
(``chunk.samples.copy()``) to hold on to the data. Built on the same AI device and channel as
``IMP_AI_*`` (device 1 by default, as prudynt and the vendor samples use).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from imp.audio import levels
from imp.audio.ai import get_ai
from imp.audio.capture import CapturedFrame
from imp.audio.endpoint import Endpoint
from imp.core.iterate import borrowed
from imp.errors import InvalidState

__all__ = ["AudioChunk", "Microphone"]


class AudioChunk:
    """One captured frame: ``samples`` (int16, read-only view), ``timestamp`` (µs, IMP clock),
    ``seq``; ``ref`` is the speaker reference of the same instant when requested."""

    def __init__(self, mic: Microphone, frame: CapturedFrame) -> None:
        self._mic = mic
        self._frame: CapturedFrame | None = frame
        self.timestamp = frame.timestamp
        self.seq = frame.seq
        self.samples = _readonly(frame.samples)
        self.ref = None if frame.ref is None else _readonly(frame.ref.samples)

    def release(self) -> None:
        """Give the frame back (idempotent); ``samples`` must not be used afterwards."""
        frame, self._frame = self._frame, None
        if frame is not None:
            self._mic._release(frame)

    def __enter__(self) -> AudioChunk:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _readonly(array: np.ndarray) -> np.ndarray:
    view = array.view()
    view.flags.writeable = False
    return view


class Microphone(Endpoint):
    """An AI device and channel, enabled on :meth:`open` (or ``with``), disabled on close."""

    kind = "microphone"

    def __init__(
        self,
        rate: int = 16000,
        frame_ms: int = 40,
        *,
        device: int = 1,
        volume: int = levels.VOLUME_UNITY,
        gain: int = levels.GAIN_UNITY,
        depth: int = 20,
        reference: bool = False,
    ) -> None:
        super().__init__(rate, frame_ms, max(depth, 2), device, volume, gain)
        self._depth = depth
        self._reference = reference

    def _start(self) -> None:
        ai = get_ai()
        ai.set_pub_attr(self.device, self.attr)
        ai.enable(self.device)
        try:
            ai.set_chn_param(self.device, 0, self._depth)
            ai.set_gain(self.device, 0, self._gain)
            ai.set_volume(self.device, 0, self._volume)
            ai.enable_chn(self.device, 0)
            if self._reference:
                ai.set_aec(self.device, 0, True, ref_only=True)
        except BaseException:
            ai.disable(self.device)
            raise

    def _stop(self) -> None:
        get_ai().disable(self.device)

    def _apply_volume(self, value: int) -> None:
        get_ai().set_volume(self.device, 0, value)

    def _apply_gain(self, value: int) -> None:
        get_ai().set_gain(self.device, 0, value)

    # -- frames -----------------------------------------------------------------------------------
    def read(self, timeout: float | None = None) -> AudioChunk:
        """The next chunk (``timeout`` s; None waits, 0 does not); call ``release()`` on it."""
        self._require_open()
        engine = get_ai().channel(self.device, 0).engine
        if engine is None:
            raise InvalidState("the microphone's channel was disabled")
        return AudioChunk(self, engine.get(timeout))

    def frames(self, count: int | None = None) -> Iterator[AudioChunk]:
        """Chunks until ``count`` (forever for None); each is released when the loop moves on."""
        return borrowed(self.read, count)

    def __iter__(self) -> Iterator[AudioChunk]:
        return self.frames()

    def record(self, seconds: float) -> np.ndarray:
        """``seconds`` of audio as one new int16 array."""
        count = max(1, round(seconds * 1000 / self.attr.frame_ms))
        return np.concatenate([chunk.samples.copy() for chunk in self.frames(count)])

    def _release(self, frame: CapturedFrame) -> None:
        engine = get_ai().channel(self.device, 0).engine
        if engine is not None:
            engine.release_frame(frame)
