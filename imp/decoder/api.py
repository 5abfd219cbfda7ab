"""The Pythonic face of the decoder: :class:`VideoDecoder`.

It is a graph source like a camera channel: bind ``decoder.cell`` to an OSD group or an encoder
and decoded pictures flow there; left unbound, :meth:`VideoDecoder.frames` yields them.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import TracebackType

from imp.codec.base import CodecType
from imp.core.graph import Cell
from imp.core.vbm import Frame
from imp.decoder.attr import MAX_CHANNELS, DecoderAttr
from imp.decoder.channel import DecoderChannel
from imp.decoder.module import get_decoder
from imp.errors import Busy, InvalidArgument, Timeout


class VideoDecoder:
    """One decoder channel, receiving. ``codec`` is "h264" or "jpeg"."""

    def __init__(
        self,
        codec: str = "h264",
        max_size: tuple[int, int] = (1920, 1080),
        *,
        channel: int | None = None,
        keep: int = 2,
        fps: tuple[int, int] = (25, 1),
    ) -> None:
        try:
            kind = CodecType(codec)
        except ValueError as exc:
            raise InvalidArgument(f"codec {codec!r} must be 'h264' or 'jpeg'") from exc
        module = get_decoder()
        if channel is None:
            free = [c for c in range(MAX_CHANNELS) if c not in module.channels]
            if not free:
                raise Busy(f"all {MAX_CHANNELS} decoder channels are in use")
            channel = free[0]
        attr = DecoderAttr(kind, max_size[0], max_size[1], nr_keep_stream=keep, fps=fps)
        self._channel: DecoderChannel | None = module.create(channel, attr)
        self._channel.start()

    @property
    def channel(self) -> DecoderChannel:
        if self._channel is None:
            raise InvalidArgument("the decoder is closed")
        return self._channel

    @property
    def cell(self) -> Cell:
        """The output to bind from: (DEV_ID_DEC, channel, 0)."""
        return (self.channel.device, self.channel.group, 0)

    def send(self, data: bytes, pts: int = 0, timeout: float = 2.0) -> None:
        """Queue one access unit (or one JPEG file) stamped ``pts`` µs."""
        self.channel.send(data, pts, timeout)

    def frames(self, timeout: float = 2.0) -> Iterator[Frame]:
        """Decoded frames of an unbound decoder, oldest first; each is released when the loop
        moves on (copy what you keep). Ends when none arrives within ``timeout``."""
        ch = self.channel
        while True:
            try:
                ch.poll(timeout)
            except Timeout:
                return
            frame = ch.get_frame()
            try:
                yield frame
            finally:
                ch.release_frame(frame)

    def close(self) -> None:
        ch, self._channel = self._channel, None
        if ch is not None:
            get_decoder().destroy(ch.group)

    def __enter__(self) -> VideoDecoder:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
