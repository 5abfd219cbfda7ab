"""Encoders feed outputs: each picture becomes an :class:`imp.output.Packet` for every output.

picamera2's Encoder/Output split is the model. One pump thread per encoder handle takes each
picture from the channel's stream buffer, converts it to a packet (one access unit; an IDR
carries its parameter sets in front, as the channel stores them), writes it to every output and
releases the stream at once, so the stream buffer never fills while outputs keep up. An output
that raises is logged and counted (``errors``), never allowed to stop the others.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from imp.encoder.stream import EncodedStream
from imp.errors import InvalidState, Timeout

if TYPE_CHECKING:
    # Not at run time: importing imp.output loads the muxers (PyAV), which ``import imp`` must
    # not need (the MIPS tier has no PyAV); the pump imports Packet when it first needs one.
    from imp.output.packet import Output, Packet
    from imp.pipeline.node import Node

log = logging.getLogger("imp.pipeline")

_CHECK_EVERY = 25  # pictures between looks at the drop counters
_TAKE_WAIT = 0.1  # s: how often the pump looks at its stop flag while no picture comes


def to_packet(stream: EncodedStream, width: int, height: int) -> Packet:
    """One encoded picture as a contract :class:`Packet` (µs pts on the IMP clock)."""
    from imp.output.packet import Packet

    return Packet(
        data=stream.data,
        pts=stream.timestamp,
        keyframe=stream.keyframe,
        codec=stream.codec.value,
        seq=stream.seq,
        kind="video",
        width=width,
        height=height,
    )


class OutputPump:
    """The thread moving one encoder handle's pictures to its outputs."""

    def __init__(
        self,
        node: Node,
        take: Callable[[float | None], EncodedStream],
        check_drops: Callable[[], object],
    ) -> None:
        self._node = node
        self._take = take
        self._check_drops = check_drops
        self._outputs: tuple[Output, ...] = ()  # replaced, never mutated: read unlocked
        self._stop = threading.Event()
        self.packets = 0
        self.errors = 0
        self.limit: int | None = None  # write this many packets, then release the rest unwritten
        self.reached = threading.Event()
        self._thread = threading.Thread(target=self._run, name="imp-enc-out", daemon=True)
        self._thread.start()

    def __repr__(self) -> str:
        return f"<OutputPump {self._node!r} outputs={len(self._outputs)} packets={self.packets}>"

    @property
    def outputs(self) -> tuple[Output, ...]:
        return self._outputs

    def add(self, output: Output) -> None:
        if not callable(getattr(output, "write", None)):
            raise TypeError(f"{output!r} has no write(packet): not an imp.output.Output")
        self._outputs = (*self._outputs, output)

    def remove(self, output: Output) -> None:
        self._outputs = tuple(o for o in self._outputs if o is not output)
        _close(output)

    def _run(self) -> None:
        while True:
            try:
                stream = self._take(_TAKE_WAIT)
            except Timeout:
                if self._stop.is_set():
                    return  # closing and the buffer is empty
                continue
            except InvalidState:  # paused (not receiving), or stopped for close and drained
                if self._stop.is_set():
                    return
                self._stop.wait(_TAKE_WAIT)
                continue
            try:
                attr = stream._channel.attr
                packet = to_packet(stream, attr.width, attr.height)
            finally:
                stream.release()
            if self.limit is not None and self.packets >= self.limit:
                self.reached.set()
                continue
            self.packets += 1
            if self.packets % _CHECK_EVERY == 0:
                self._check_drops()  # warns once per cause, posts new counts on the bus
            for output in self._outputs:
                try:
                    output.write(packet)
                except Exception as exc:  # an output's failure must not stop the others
                    self.errors += 1
                    if self.errors <= 3:
                        log.error("%r: output %r failed: %s", self._node, output, exc)

    def close(self) -> None:
        """Write what the stream buffer still holds, stop the thread, close every output.

        Call after StopRecvPic, so that "what it still holds" is final."""
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=10)
        outputs, self._outputs = self._outputs, ()
        for output in outputs:
            _close(output)


def _close(output: Output) -> None:
    try:
        output.close()
    except Exception as exc:
        log.error("closing output %r: %s", output, exc)


__all__ = ["OutputPump", "to_packet"]
