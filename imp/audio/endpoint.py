"""The lifetime shared by the Pythonic :class:`~imp.audio.Microphone` and
:class:`~imp.audio.Speaker`: attributes checked at construction, the device enabled on
``open()`` (or ``with``) and disabled on ``close()``, volume and gain as properties."""

from __future__ import annotations

from types import TracebackType
from typing import TypeVar

from imp.audio import levels
from imp.audio.attrs import IoAttr
from imp.errors import InvalidArgument, InvalidState

__all__ = ["Endpoint"]

E = TypeVar("E", bound="Endpoint")


class Endpoint:
    """Base of the microphone and the speaker (subclasses provide the ``_start``, ``_stop``,
    ``_apply_volume`` and ``_apply_gain`` of their module)."""

    kind = "endpoint"

    def __init__(
        self, rate: int, frame_ms: int, frames: int, device: int, volume: int, gain: int
    ) -> None:
        if frame_ms <= 0 or (rate * frame_ms) % 1000:
            raise InvalidArgument(f"frame_ms {frame_ms}: must give whole samples at {rate} Hz")
        self.attr = IoAttr(rate, frmNum=frames, numPerFrm=rate * frame_ms // 1000)
        self.attr.validate(type(self).__name__, max_channels=1)
        levels.check_volume(volume)
        levels.check_gain(gain)
        self.device = device
        self._volume, self._gain = volume, gain
        self._open = False

    # -- lifetime ---------------------------------------------------------------------------------
    def open(self: E) -> E:
        if not self._open:
            self._start()
            self._open = True
        return self

    def close(self) -> None:
        if self._open:
            self._open = False
            self._stop()

    def __enter__(self: E) -> E:
        return self.open()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc_type is None and self._open:
                self._finish()
        finally:
            self.close()

    def _require_open(self) -> None:
        if not self._open:
            raise InvalidState(f"the {self.kind} is closed; use open() or a with block")

    def _start(self) -> None:
        raise NotImplementedError

    def _stop(self) -> None:
        raise NotImplementedError

    def _finish(self) -> None:
        """What a with block does on a normal exit before closing (the speaker flushes)."""

    # -- levels -----------------------------------------------------------------------------------
    @property
    def volume(self) -> int:
        """-30 (mute) .. 60 (0 dB) .. 120 (+30 dB), 0.5 dB a step."""
        return self._volume

    @volume.setter
    def volume(self, value: int) -> None:
        levels.check_volume(value)
        if self._open:
            self._apply_volume(value)
        self._volume = value

    @property
    def gain(self) -> int:
        """Codec gain 0..31 = -18 .. +28.5 dB (12 = 0 dB)."""
        return self._gain

    @gain.setter
    def gain(self, value: int) -> None:
        levels.check_gain(value)
        if self._open:
            self._apply_gain(value)
        self._gain = value

    def _apply_volume(self, value: int) -> None:
        raise NotImplementedError

    def _apply_gain(self, value: int) -> None:
        raise NotImplementedError
