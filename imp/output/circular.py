"""``CircularOutput``: pre-roll recording, the motion-clip feature.

While idle it keeps the last ``seconds`` of packets in a bounded ring starting at an IDR
(:class:`~imp.output.ring.PacketRing`). ``start(path)`` opens a file, writes the ring into it and
from then on forwards every packet, so the clip begins ``seconds`` (up to one GOP more) before
the trigger and continues live without a gap; ``stop()`` finishes the file and the output is a
ring again (it kept filling while recording, so the next clip has its pre-roll at once).

Threads: :meth:`write` comes from pipeline threads (video and audio encoders may be two), start
and stop from an application thread. One lock guards the ring and the state and is never held
across file I/O: the ring is copied under it and written out by ``start()`` in its own thread,
while packets arriving meanwhile queue in ``_pending``; ``start()`` drains that queue and switches
to forwarding under the lock once it is empty, so every packet reaches the file exactly once and
in order.
"""

from __future__ import annotations

import os
import threading

from imp.errors import InvalidArgument, InvalidState
from imp.output.base import OutputCounters
from imp.output.file import FileOutput
from imp.output.mp4 import Mp4Output
from imp.output.packet import Output, Packet
from imp.output.ring import PacketRing, RingStats

__all__ = ["CircularOutput"]

MP4_SUFFIXES = (".mp4", ".m4v", ".mov")
DEFAULT_MAX_BYTES = 16 * 1024 * 1024  # 60 s at 2 Mbit/s; a 64 MB camera should pass less

_IDLE, _FLUSHING, _RECORDING = "ring", "flushing", "recording"


def _open_target(target: str | os.PathLike[str] | Output) -> Output:
    if isinstance(target, str | os.PathLike):
        if os.fspath(target).lower().endswith(MP4_SUFFIXES):
            return Mp4Output(target)
        return FileOutput(target)
    if not isinstance(target, Output):
        raise InvalidArgument(
            f"start() takes a path or an Output (write/close), not {type(target).__name__}"
        )
    return target


class CircularOutput(OutputCounters):
    """Keep >= ``seconds`` of encoded video (from an IDR) in memory; ``start(path)`` records.

    The pre-roll reaches back from the newest packet when ``start()`` is called: a trigger k
    frames before that call gets ``seconds`` minus those frames (plus up to a GOP, as the clip
    begins on an IDR), so set ``seconds`` with the application's reaction time in mind.
    ``max_bytes`` bounds the ring (payload plus per-packet overhead, see ``bytes_held``); when a
    stream is too dense for it the pre-roll gets shorter rather than memory larger
    (``ring_stats.evicted`` counts it). ``start()`` takes a path (``.mp4``/``.m4v``/``.mov``:
    :class:`Mp4Output`, otherwise a raw :class:`FileOutput`) or any :class:`Output`, which
    ``stop()`` closes. Counters: ``written`` packets forwarded to files, ``errors`` failures of
    a file's ``write``.
    """

    def __init__(self, seconds: float = 5.0, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        if seconds < 0:
            raise InvalidArgument(f"seconds {seconds} must be >= 0")
        if max_bytes <= 0:
            raise InvalidArgument(f"max_bytes {max_bytes} must be > 0")
        super().__init__(f"CircularOutput({seconds:g} s)")
        self.seconds = seconds
        self._ring = PacketRing(seconds, max_bytes)
        self._control = threading.Lock()  # start/stop/close, one at a time
        self._state = _IDLE
        self._target: Output | None = None
        self._pending: list[Packet] = []
        self._closed = False

    @property
    def max_bytes(self) -> int:
        return self._ring.max_bytes

    @property
    def bytes_held(self) -> int:
        """Memory the ring holds now: packet payloads plus their object overhead."""
        return self._ring.bytes_held

    @property
    def seconds_held(self) -> float:
        """Time from the ring's first packet (a keyframe) to its newest."""
        with self._lock:
            return self._ring.seconds_held()

    def held(self) -> list[Packet]:
        """The packets the ring holds now, oldest (a keyframe) first: a copy."""
        with self._lock:
            return self._ring.snapshot()

    @property
    def ring_stats(self) -> RingStats:
        return self._ring.stats

    @property
    def recording(self) -> bool:
        return self._state != _IDLE

    # -- the Output protocol -------------------------------------------------------------

    def write(self, packet: Packet) -> None:
        with self._lock:
            if self._closed:
                self.skipped += 1
                return
            self._ring.add(packet)
            if self._state == _FLUSHING:
                self._pending.append(packet)
                return
            target = self._target if self._state == _RECORDING else None
        if target is not None:
            self._forward(target, packet)

    def close(self) -> None:
        """Stop a recording in progress and free the ring. Idempotent."""
        self.stop()
        with self._lock:
            self._closed = True
            self._ring.clear()

    # -- recording -----------------------------------------------------------------------

    def start(self, target: str | os.PathLike[str] | Output) -> Output:
        """Begin a file with the pre-roll held now and continue it live; returns its Output."""
        with self._control:
            with self._lock:
                if self._closed:
                    raise InvalidState(f"{self.name} is closed; create a new one")
                if self._state != _IDLE:
                    raise InvalidState(f"already recording to {self._target!r}; call stop() first")
            output = _open_target(target)  # may raise: a wrong path is the caller's to hear
            with self._lock:
                preroll = self._ring.snapshot()
                self._target, self._state, self._pending = output, _FLUSHING, []
            batch = preroll
            while True:
                for packet in batch:
                    self._forward(output, packet)
                with self._lock:
                    batch, self._pending = self._pending, []
                    if not batch:
                        self._state = _RECORDING
                        return output

    def stop(self) -> Output | None:
        """Finish the file being recorded (if any) and go back to ring mode; returns its Output."""
        with self._control:
            with self._lock:
                output, self._target = self._target, None
                self._state, self._pending = _IDLE, []
            if output is not None:
                try:
                    output.close()
                except Exception as exc:  # a caller's Output; the ring keeps working
                    self._failed("closing the recording failed", exc)
            return output

    def _forward(self, output: Output, packet: Packet) -> None:
        try:
            output.write(packet)
        except Exception as exc:  # an Output must not raise; one that does is counted
            self._failed(f"{output!r} raised", exc)
            return
        self.written += 1

    def __enter__(self) -> CircularOutput:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"<{self.name} {self._state} held={self.bytes_held}/{self.max_bytes} B {self._stats()}>"
        )
