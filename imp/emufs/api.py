"""The Pythonic EmuFrameSource: run any pipeline over recorded pictures.

:class:`EmuSource` is a :class:`~imp.pipeline.source.FrameSourceChannel` node (an emulated
channel is a FrameSource channel) that owns its channel and its feed: attach an overlay or an
encoder to it like to a camera channel, :meth:`EmuSource.start` it, and :meth:`EmuSource.wait`
returns once every picture of the source was handed on::

    from imp.emufs import EmuSource
    from imp.encoder import H264, open_encoder
    with EmuSource.from_file("clip.mp4", size=(1280, 720)) as clip:
        enc = open_encoder(clip, H264())
        clip.start()
        for stream in enc.streams(limit=clip_frames): ...
"""

from __future__ import annotations

from pathlib import Path

from imp.emufs.sources import from_arrays, open_source
from imp.errors import Busy, InvalidState, Timeout
from imp.framesource import MAX_CHANNELS, ChannelAttr, get_framesource
from imp.framesource.emulated import EmuChannel, Picture, PictureSource
from imp.pipeline.events import Event, EventBus, EventKind, State
from imp.pipeline.source import FrameSourceChannel


class EmuSource(FrameSourceChannel):
    """One EmuFrameSource channel and what feeds it (``None``: :meth:`push` only). ``pace``:
    "consumers" (every picture reaches the consumers) or "realtime" (see
    :mod:`imp.framesource.emulated`). ``chn`` None takes the highest free channel number."""

    kind = "emufs"

    def __init__(
        self,
        source: PictureSource | None,
        size: tuple[int, int],
        fps: tuple[int, int] = (25, 1),
        *,
        chn: int | None = None,
        pace: str = "consumers",
        buffers: int = 3,
        bus: EventBus | None = None,
    ) -> None:
        fs = get_framesource()
        if chn is None:
            free = [c for c in range(MAX_CHANNELS) if c not in fs.channels]
            if not free:
                raise Busy(f"all {MAX_CHANNELS} FrameSource channel numbers are in use")
            chn = free[-1]  # from the top: the low numbers are the camera's
        attr = ChannelAttr(width=size[0], height=size[1], fps=fps, nr_vbs=buffers)
        ch = fs.create_emulated(chn, attr)
        try:
            assert isinstance(ch, EmuChannel)
            ch.set_feed(source, pace)
            super().__init__(chn, bus)
            ch.on_exhausted = self._end_of_stream
        except BaseException:
            fs.destroy(chn)
            raise
        self._emu = ch

    @classmethod
    def from_file(
        cls,
        path: str | Path,
        size: tuple[int, int],
        fps: tuple[int, int] = (25, 1),
        **options: object,
    ) -> EmuSource:
        """The pictures of a video file (or a raw .nv12 file), scaled to ``size``."""
        return cls(open_source(path, *size), size, fps, **options)  # type: ignore[arg-type]

    @classmethod
    def from_arrays(
        cls,
        pictures: PictureSource,
        size: tuple[int, int],
        fps: tuple[int, int] = (25, 1),
        **options: object,
    ) -> EmuSource:
        """Numpy pictures: NV12 (H*3/2, W), luma (H, W) or (y, uv) planes."""
        return cls(from_arrays(pictures), size, fps, **options)  # type: ignore[arg-type, arg-type]

    def __repr__(self) -> str:
        a = self._emu.attr
        return f"<EmuSource {self.chn} {a.width}x{a.height} {self._state.value}>"

    @property
    def cell(self) -> tuple[int, int, int]:
        """Output 0, for a C-style IMP_System_Bind."""
        return self.output_cell(0)

    def start(self) -> EmuSource:
        """Enable the channel: the feeder starts handing pictures on."""
        self.enable()
        return self

    def _end_of_stream(self, pictures: int, error: str | None) -> None:
        """The feeder ran out: end of stream on the bus (after an error, the error first)."""
        if error is not None:
            self.bus.post(Event(EventKind.ERROR, repr(self), error))
        self.bus.post(Event(EventKind.EOS, repr(self), f"source ended after {pictures} pictures"))

    def push(self, picture: Picture, pts: int | None = None) -> int:
        """Deliver one picture now; returns its timestamp (µs)."""
        self.check()
        return self._emu.push(picture, pts)

    def wait(self, timeout: float | None = None) -> int:
        """Until the whole source was handed on; returns the pictures delivered."""
        self.check()
        if self._state is not State.RUNNING:
            raise InvalidState(f"{self!r} is not started; call start() first")
        if not self._emu.exhausted.wait(timeout):
            raise Timeout(
                f"{self!r}: source not finished within {timeout} s "
                f"({self._emu.stats.captured} pictures so far)"
            )
        return self._emu.stats.captured
