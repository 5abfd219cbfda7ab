"""The Pythonic face of the decoder: :class:`VideoDecoder`, a source node of the pipeline.

Attach an overlay or an encoder to it (``open_encoder(decoder, H264())``) and the decoded
pictures flow there, every one of them (the channel waits for its consumers); left unattached,
:meth:`VideoDecoder.frames` yields them.
"""

from __future__ import annotations

from collections.abc import Iterator

from imp.codec.base import CodecType
from imp.core.graph import DEV_ID_DEC, Cell
from imp.core.vbm import Frame
from imp.decoder.attr import DecoderAttr
from imp.decoder.channel import DecoderChannel, DecoderStats
from imp.decoder.module import get_decoder
from imp.errors import InvalidArgument, Timeout
from imp.pipeline.events import EventBus, State
from imp.pipeline.node import FrameFormat, Node


class VideoDecoder(Node):
    """One decoder channel, receiving. ``codec`` is "h264" or "jpeg"; ``max_size`` the largest
    picture (and the size :meth:`frame_format` reports to consumers)."""

    kind = "decoder"

    def __init__(
        self,
        codec: str = "h264",
        max_size: tuple[int, int] = (1920, 1080),
        *,
        channel: int | None = None,
        keep: int = 2,
        fps: tuple[int, int] = (25, 1),
        bus: EventBus | None = None,
    ) -> None:
        super().__init__(bus)
        try:
            kind = CodecType(codec)
        except ValueError as exc:
            raise InvalidArgument(f"codec {codec!r} must be 'h264' or 'jpeg'") from exc
        module = get_decoder()
        if channel is None:
            channel = module.channels.free()
        attr = DecoderAttr(kind, max_size[0], max_size[1], nr_keep_stream=keep, fps=fps)
        self._channel = module.create(channel, attr)
        self._channel.start()
        self._set_state(State.RUNNING)

    def __repr__(self) -> str:
        a = self._channel.attr
        return f"<VideoDecoder {self._channel.group} {a.codec.value} {self._state.value}>"

    # -- node -----------------------------------------------------------------------------------
    def output_cell(self, output: int = 0) -> Cell:
        self.check()
        return (DEV_ID_DEC, self._channel.group, output)

    def frame_format(self) -> FrameFormat:
        a = self._channel.attr
        return (a.max_width, a.max_height), a.fps

    def _alive(self) -> bool:
        return get_decoder().channels.get(self._channel.group) is self._channel

    def _teardown(self) -> None:
        get_decoder().destroy(self._channel.group)

    @property
    def channel(self) -> DecoderChannel:
        self.check()
        return self._channel

    @property
    def stats(self) -> DecoderStats:
        return self.channel.stats

    # -- stream in, frames out ------------------------------------------------------------------
    def send(self, data: bytes, pts: int = 0, timeout: float = 2.0) -> None:
        """Queue one access unit (or one JPEG file) stamped ``pts`` µs."""
        self.channel.send(data, pts, timeout)

    def frames(self, timeout: float = 2.0) -> Iterator[Frame]:
        """Decoded frames of an unattached decoder, oldest first; each is released when the
        loop moves on (copy what you keep). Ends when none arrives within ``timeout``."""
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
