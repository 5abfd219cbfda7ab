"""The Pythonic encoder handle: a graph node holding its channel object, with outputs.

``open_encoder`` does what an application does with the C API (CreateGroup, CreateChn,
RegisterChn, Bind, StartRecvPic) and undoes it on ``close()``; passing another handle as the
source puts the new channel into that handle's group (two channels on the same frames). The
group's bind is shared by the handles in it and undone when the last one leaves.

Streams go either to the caller (``get_stream``/``streams()``/``fileno()``) or, once an output
is added (``add_output``), to a pump thread that turns each picture into an
:class:`imp.output.Packet`, writes it to every output and releases the stream.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from imp.core.graph import DEV_ID_ENC, Cell
from imp.core.iterate import borrowed
from imp.encoder.api import Fps, Settings, fps_of
from imp.encoder.attr import EncoderAttr
from imp.encoder.channel import EncoderChannel, EncoderChannelStats
from imp.encoder.module import get_encoder
from imp.encoder.picture import StoredPicture
from imp.encoder.stream import EncodedStream
from imp.errors import Busy, ImpError, InvalidArgument, InvalidState
from imp.framesource import MAX_VBS
from imp.pipeline.events import DEFAULT_TIMEOUT, EventBus, State
from imp.pipeline.node import FrameFormat, Node
from imp.pipeline.outputs import OutputPump
from imp.pipeline.pacing import consumers_pace_source
from imp.system import get_system

if TYPE_CHECKING:
    from imp.output.packet import Output

log = logging.getLogger("imp.encoder")


class _GroupShare:
    """An encoder group opened by the Pythonic layer and the handles registered in it."""

    def __init__(self, num: int, owned: bool) -> None:
        self.num = num
        self.owned = owned
        self.members: list[EncoderHandle] = []
        self.bound_from: Cell | None = None
        self.attached = 0


class EncoderHandle(Node):
    """An encoder channel opened by :func:`open_encoder`; a context manager."""

    kind = "encoder"

    def __init__(
        self, channel: EncoderChannel, share: _GroupShare, bus: EventBus | None = None
    ) -> None:
        super().__init__(bus)
        self.chn = channel.chn
        self._channel = channel
        self._share = share
        share.members.append(self)
        self._pump: OutputPump | None = None
        self._last_pts: int | None = None
        self._gaps = 0

    def __repr__(self) -> str:
        a = self._channel.attr
        return (
            f"<EncoderHandle chn={self.chn} group={self._share.num} {a.codec.name} "
            f"{a.width}x{a.height} {self._state.value}>"
        )

    # -- node -----------------------------------------------------------------------------------
    def input_cell(self) -> Cell:
        return (DEV_ID_ENC, self._share.num, 0)

    def _bind_input(self, src: Cell) -> None:
        share = self._share
        if share.bound_from is None:
            get_system().bind(src, self.input_cell())
            share.bound_from = src
        elif share.bound_from != src:
            raise Busy(
                f"encoder group {share.num} already receives from {share.bound_from}; a group "
                "has one input: open a separate encoder for another source"
            )
        share.attached += 1

    def _unbind_input(self, src: Cell) -> None:
        share = self._share
        share.attached -= 1
        if share.attached <= 0 and share.bound_from is not None:
            share.bound_from, share.attached = None, 0
            get_system().unbind(src, self.input_cell())

    def _alive(self) -> bool:
        return get_encoder().channels.get(self.chn) is self._channel

    def frame_format(self) -> FrameFormat:
        a = self.channel.attr
        return (a.width, a.height), a.fps

    def _teardown(self) -> None:
        enc = get_encoder()
        ch = self._channel
        ch.stop()  # no new pictures; the outputs still get every one already encoded
        if self._pump is not None:
            self._pump.close()
            self._pump = None
        if ch.group is not None:
            enc.unregister(self.chn)
        enc.destroy_channel(self.chn)
        share = self._share
        if self in share.members:
            share.members.remove(self)
        if share.owned and not share.members:
            node = enc.groups.get(share.num)
            if node is not None and node.created and not node.channels:
                enc.destroy_group(share.num)

    # -- attributes -----------------------------------------------------------------------------
    @property
    def channel(self) -> EncoderChannel:
        self.check()
        return self._channel

    @property
    def attr(self) -> EncoderAttr:
        return self.channel.attr

    @property
    def group(self) -> int:
        self.check()
        return self._share.num

    @property
    def stats(self) -> EncoderChannelStats:
        return self.channel.stats

    @property
    def pictures(self) -> int:
        """Pictures encoded so far."""
        return self.channel.stats.encoded

    @property
    def drops(self) -> dict[str, int]:
        """Frames or pictures this channel lost, by cause. ``upstream``: capture-time gaps
        larger than the channel's frame period (frames lost before they reached it)."""
        s = self.channel.stats
        # A gap in capture time is a frame lost somewhere; those this channel lost itself are
        # counted by cause already, the rest were lost before they reached it.
        upstream = max(0, self._gaps - s.dropped_behind - s.dropped_full)
        counts = {"behind": s.dropped_behind, "buffer_full": s.dropped_full, "upstream": upstream}
        if self._pump is not None:
            counts["output_errors"] = self._pump.errors
        return self.note_drops(counts)

    def bitrate_kbps(self, window_s: float = 1.0) -> float:
        """Measured kbit/s over the last ``window_s`` of capture time."""
        return self.channel.meter.window_kbps(int(window_s * 1e6))

    # -- streams -------------------------------------------------------------------------------
    def _account(self, picture: StoredPicture) -> None:
        num, den = self._channel.attr.fps
        period = 1_000_000 * den // max(num, 1)
        last, self._last_pts = self._last_pts, picture.timestamp
        if last is not None and picture.timestamp - last > period * 3 // 2:
            self._gaps += round((picture.timestamp - last) / period) - 1

    def _take(self, timeout: float | None) -> EncodedStream:
        picture = self._channel.take(timeout)
        self._account(picture)
        return EncodedStream(self._channel, picture, self._channel.attr.codec)

    def get_stream(self, timeout: float | None = DEFAULT_TIMEOUT) -> EncodedStream:
        """The next picture (``None`` waits forever, ``0`` does not wait; Timeout otherwise)."""
        self.check()
        if self._pump is not None:
            raise InvalidState(
                f"{self!r} feeds its outputs; read streams there, or remove the outputs first"
            )
        return self._take(timeout)

    def streams(
        self, limit: int | None = None, timeout: float | None = DEFAULT_TIMEOUT
    ) -> Iterator[EncodedStream]:
        """Iterate pictures; each is released when the loop moves on."""
        return borrowed(lambda: self.get_stream(timeout), limit)

    def poll(self, timeout: float | None = DEFAULT_TIMEOUT) -> bool:
        return self.channel.poll(timeout)

    def fileno(self) -> int:
        """An fd readable while streams are ready (for select/poll/selectors)."""
        return self.channel.fd()

    # -- outputs --------------------------------------------------------------------------------
    @property
    def outputs(self) -> tuple[Output, ...]:
        return self._pump.outputs if self._pump is not None else ()

    def add_output(self, output: Output) -> None:
        """Send every picture from now on to ``output`` (closed with the handle)."""
        self.check()
        if self._pump is None:
            self._pump = OutputPump(self, self._take, lambda: self.drops)
        self._pump.add(output)

    def limit_pictures(self, count: int) -> None:
        """Write only the first ``count`` pictures (from the start) to the outputs."""
        if self._pump is None:
            raise InvalidState(f"{self!r} has no output to limit")
        self._pump.limit = count

    def reached_limit(self) -> bool:
        pump = self._pump
        return pump is not None and pump.limit is not None and pump.packets >= pump.limit

    def remove_output(self, output: Output) -> None:
        """Stop feeding ``output`` and close it."""
        if self._pump is not None:
            self._pump.remove(output)

    # -- control -------------------------------------------------------------------------------
    def start(self) -> None:
        self.channel.start()
        self._set_state(State.RUNNING)

    def stop(self) -> None:
        self.channel.stop()
        self._set_state(State.PAUSED)

    def request_idr(self) -> None:
        self.channel.request_idr()

    def flush(self) -> int:
        """Discard the pictures not read yet (FlushStream); returns how many."""
        return self.channel.flush()

    def set_bitrate(self, target_kbps: int, max_kbps: int | None = None) -> None:
        self.channel.set_bitrate(target_kbps, max_kbps or target_kbps)

    def set_fps(self, fps: Fps) -> None:
        self.channel.set_fps(fps_of(fps, self.attr.fps))

    def set_gop(self, length: int) -> None:
        self.channel.set_gop_length(length)

    def set_qp(self, qp: int) -> None:
        self.channel.set_qp(qp)

    def set_qp_bounds(self, min_qp: int, max_qp: int) -> None:
        self.channel.set_qp_bounds(min_qp, max_qp)


def _fs_node(chn: int) -> Node:
    from imp.pipeline.source import FrameSourceChannel

    return FrameSourceChannel(chn)


def open_encoder(
    source: Node | int,
    settings: Settings,
    chn: int | None = None,
    group: int | None = None,
    output: int | Output | Sequence[Output] | None = None,
    start: bool = True,
    wrap: bool | None = None,
    backend: str | None = None,
    source_output: int = 0,
    bus: EventBus | None = None,
) -> EncoderHandle:
    """Encode the frames of ``source`` (any node: a FrameSource channel or its number, an OSD
    overlay, a motion detector, or another handle whose group to share) with ``settings``
    (:class:`H264`, :class:`H265`, :class:`JPEG`).

    ``output``: an :class:`imp.output.Output` (or several) fed with every picture; an ``int``
    is the legacy spelling of ``source_output`` (which output of the source to bind).
    ``chn``/``group`` None pick free numbers; ``wrap`` selects the vendor's wrapping stream
    buffer; ``backend`` a codec backend ("pyav", "null").
    """
    if isinstance(output, int):
        source_output, output = output, None
    outputs: list[Output] = []
    if isinstance(output, Sequence):
        outputs.extend(output)
    elif output is not None:
        outputs.append(output)
    node = _fs_node(source) if isinstance(source, int) else source
    if not isinstance(node, Node):
        raise InvalidArgument(
            f"cannot encode {source!r}: pass a channel, an overlay, a detector or an encoder"
        )
    node.check()
    size, fps = node.frame_format()
    attr = settings.attr(size, fps)
    enc = get_encoder()
    if chn is None:
        chn = enc.channels.free()
    ch = enc.create_channel(chn, attr, wrap=wrap, backend=backend)
    # Hold frames rather than drop them: a short stall of the codec (GIL, a loaded host) is
    # absorbed by the source's buffers. Under the virtual clock also wait for stream-buffer
    # room, so the slowest consumer paces the sensor and nothing is lost.
    if consumers_pace_source():
        ch.lossless = True
    else:
        ch.hold_frames(MAX_VBS)
    share: _GroupShare
    if isinstance(node, EncoderHandle):
        share = node._share
    else:
        grp = group
        if grp is None:
            grp = enc.groups.free()
        owned = grp not in enc.groups or not enc.groups[grp].created
        if owned:
            enc.create_group(grp)
        share = _GroupShare(grp, owned)
    handle = EncoderHandle(ch, share, bus if bus is not None else node.bus)
    try:
        enc.register(share.num, chn)
        if isinstance(node, EncoderHandle):
            bound = share.bound_from
            if bound is not None:  # the same edge again: counted, not bound twice
                handle.attach(node.source if node.source is not None else bound, bound[2])
        else:
            handle.attach(node, source_output)
        for out in outputs:
            handle.add_output(out)
        if start:
            handle.start()
        return handle
    except BaseException:
        try:
            handle.close()
        except ImpError as exc:
            log.warning("clean-up after a failed open_encoder: %s", exc)
        raise


__all__ = ["EncodedStream", "EncoderHandle", "open_encoder"]
