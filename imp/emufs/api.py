"""The Pythonic EmuFrameSource: run any pipeline over recorded pictures.

:class:`EmuSource` is a thin handle on one emulated FrameSource channel: bind ``source.cell``
(or pass ``source`` wherever a FrameSource channel is accepted, e.g. ``open_encoder``) and
call :meth:`EmuSource.start`; :meth:`EmuSource.wait` returns when every picture was handed on::

    from imp.emufs import EmuSource
    with EmuSource.from_file("clip.mp4", size=(1280, 720)) as clip:
        ...  # bind clip.cell -> OSD -> encoder
        clip.start()
        clip.wait()
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

from imp.core.graph import Cell
from imp.emufs.sources import from_arrays, open_source
from imp.errors import Busy, InvalidArgument, Timeout
from imp.framesource import MAX_CHANNELS, ChannelAttr, ChannelStats, get_framesource
from imp.framesource.emulated import EmuChannel, PictureSource


class EmuSource:
    """One EmuFrameSource channel and what feeds it. ``pace``: see imp.framesource.emulated."""

    def __init__(
        self,
        source: PictureSource | None,
        size: tuple[int, int],
        fps: tuple[int, int] = (25, 1),
        *,
        chn: int | None = None,
        pace: str = "consumers",
        buffers: int = 3,
    ) -> None:
        fs = get_framesource()
        if chn is None:
            free = [c for c in range(MAX_CHANNELS) if c not in fs.channels]
            if not free:
                raise Busy(f"all {MAX_CHANNELS} FrameSource channel numbers are in use")
            chn = free[-1]  # from the top: 0.. are the camera's
        attr = ChannelAttr(width=size[0], height=size[1], fps=fps, nr_vbs=buffers)
        ch = fs.create_emulated(chn, attr)
        assert isinstance(ch, EmuChannel)
        self._channel: EmuChannel | None = ch
        try:
            ch.set_feed(source, pace)
        except BaseException:
            self.close()
            raise

    @classmethod
    def from_file(
        cls, path: str | Path, size: tuple[int, int], fps: tuple[int, int] = (25, 1), **kw: object
    ) -> EmuSource:
        """Pictures of a video file (or a raw .nv12 file) scaled to ``size``."""
        return cls(open_source(path, *size), size, fps, **kw)  # type: ignore[arg-type]

    @classmethod
    def from_arrays(
        cls,
        pictures: PictureSource,
        size: tuple[int, int],
        fps: tuple[int, int] = (25, 1),
        **kw: object,
    ) -> EmuSource:
        return cls(from_arrays(pictures), size, fps, **kw)  # type: ignore[arg-type]

    @property
    def channel(self) -> EmuChannel:
        if self._channel is None:
            raise InvalidArgument("the EmuSource is closed")
        return self._channel

    @property
    def chn(self) -> int:
        """The FrameSource channel number (what open_encoder and Bind take)."""
        return self.channel.group

    @property
    def cell(self) -> Cell:
        return self.output_cell(0)

    def output_cell(self, output: int = 0) -> Cell:
        return (self.channel.device, self.channel.group, output)

    def frame_format(self) -> tuple[tuple[int, int], tuple[int, int]]:
        a = self.channel.attr
        return (a.width, a.height), a.fps

    @property
    def stats(self) -> ChannelStats:
        return self.channel.stats

    def start(self) -> None:
        """Enable the channel: the feeder starts handing pictures on."""
        get_framesource().enable(self.chn)

    def push(self, picture: object, pts: int | None = None) -> int:
        return self.channel.push(picture, pts)  # type: ignore[arg-type]

    def wait(self, timeout: float | None = None) -> int:
        """Until the whole source was handed on; returns the pictures delivered."""
        if not self.channel.exhausted.wait(timeout):
            raise Timeout(
                f"EmuFrameSource channel {self.chn}: source not finished within {timeout} s "
                f"({self.stats.captured} pictures so far)"
            )
        return self.stats.captured

    def close(self) -> None:
        ch, self._channel = self._channel, None
        if ch is None:
            return
        fs = get_framesource()
        if fs.channels.get(ch.group) is ch:
            ch.disable()
            fs.destroy(ch.group)

    def __enter__(self) -> EmuSource:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
