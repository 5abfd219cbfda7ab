"""The Pythonic face of the encoder: settings objects, a channel handle, stream objects.

>>> import imp, imp.encoder as enc
>>> with imp.open() as cam:                                            # doctest: +SKIP
...     main = cam.framesource(0, size=(1920, 1080), fps=25)
...     with enc.open_encoder(main, enc.H264(bitrate_kbps=2000, gop=50)) as h264, \\
...          enc.open_encoder(h264, enc.JPEG(quality=75, fps=1)) as snap:
...         for stream in h264.streams(limit=250):
...             out.write(stream.data)

``open_encoder`` does what an application does with the C API (CreateGroup, CreateChn,
RegisterChn, Bind, StartRecvPic) and undoes it on ``close()``; passing another handle as the
source puts the new channel into that handle's group (two channels on the same frames).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol

from imp.codec import CodecType, RcMode
from imp.core.graph import DEV_ID_ENC, DEV_ID_FS
from imp.core.iterate import borrowed
from imp.encoder.attr import (
    PROFILE_AVC_BASELINE,
    PROFILE_AVC_HIGH,
    PROFILE_AVC_MAIN,
    PROFILE_HEVC_MAIN,
    PROFILE_JPEG,
    EncoderAttr,
    default_attr,
)
from imp.encoder.channel import ChannelStats, EncoderChannel
from imp.encoder.module import NR_MAX_ENC_CHN, NR_MAX_ENC_GROUPS, get_encoder
from imp.encoder.picture import StoredPicture
from imp.errors import Busy, ImpError, InvalidArgument, InvalidState, Timeout
from imp.framesource import get_framesource
from imp.system import get_system

_AVC_PROFILES = {
    "baseline": PROFILE_AVC_BASELINE,
    "main": PROFILE_AVC_MAIN,
    "high": PROFILE_AVC_HIGH,
}
_RC_NAMES = {
    "fixqp": RcMode.FIXQP,
    "cbr": RcMode.CBR,
    "vbr": RcMode.VBR,
    "capped_vbr": RcMode.CAPPED_VBR,
    "capped_quality": RcMode.CAPPED_QUALITY,
}

Fps = int | tuple[int, int]


def _fps(value: Fps | None, default: tuple[int, int]) -> tuple[int, int]:
    if value is None:
        return default
    if isinstance(value, int):
        return (value, 1)
    if isinstance(value, tuple) and len(value) == 2:
        return (int(value[0]), int(value[1]))
    raise InvalidArgument(f"fps must be an int or a (num, den) tuple, got {value!r}")


def _rc(value: str | RcMode) -> RcMode:
    if isinstance(value, RcMode):
        return value
    try:
        return _RC_NAMES[value.lower()]
    except (KeyError, AttributeError):
        raise InvalidArgument(
            f"rate control {value!r}: use one of {', '.join(_RC_NAMES)} or an RcMode"
        ) from None


@dataclass(frozen=True)
class H264:
    """H.264 settings. ``size``/``fps`` None: those of the source. ``qp``: FIXQP's QP, or the
    initial QP of the other modes (-1 lets the rate control choose)."""

    bitrate_kbps: int = 2000
    rc: str | RcMode = "cbr"
    gop: int = 50
    fps: Fps | None = None
    profile: str = "high"
    qp: int = -1
    max_bitrate_kbps: int | None = None
    size: tuple[int, int] | None = None

    def _profile(self) -> int:
        try:
            return _AVC_PROFILES[self.profile]
        except KeyError:
            raise InvalidArgument(
                f"H.264 profile {self.profile!r}: use baseline, main or high"
            ) from None

    def attr(self, size: tuple[int, int], fps: tuple[int, int]) -> EncoderAttr:
        w, h = self.size or size
        num, den = _fps(self.fps, fps)
        a = default_attr(
            self._profile(), _rc(self.rc), w, h, num, den, self.gop, 2, self.qp, self.bitrate_kbps
        )
        if self.max_bitrate_kbps is not None:
            a = a.with_rc(max_kbps=self.max_bitrate_kbps)
        return a


@dataclass(frozen=True)
class H265(H264):
    """H.265 (HEVC Main) settings; same fields as :class:`H264` (``profile`` is ignored)."""

    profile: str = "main"

    def _profile(self) -> int:
        return PROFILE_HEVC_MAIN


@dataclass(frozen=True)
class JPEG:
    """JPEG snapshots: ``quality`` 1..100 at ``fps`` pictures per second (of the source's)."""

    quality: int = 75
    fps: Fps | None = 1
    size: tuple[int, int] | None = None

    def attr(self, size: tuple[int, int], fps: tuple[int, int]) -> EncoderAttr:
        w, h = self.size or size
        num, den = _fps(self.fps, fps)
        return default_attr(PROFILE_JPEG, RcMode.FIXQP, w, h, num, den, 0, 0, self.quality, 0)


Settings = H264 | H265 | JPEG


@dataclass(frozen=True)
class Pack:
    """One NAL unit (with its 4-byte start code) or one whole JPEG file."""

    data: bytes
    nal_type: int
    timestamp: int
    frame_end: bool
    slice_type: int


class EncodedStream:
    """One encoded picture (``IMPEncoderStream``). Release it (or use ``with``) when done: the
    stream buffer frees pictures in the order they were fetched."""

    def __init__(self, handle: EncoderHandle, picture: StoredPicture, codec: CodecType) -> None:
        self._picture: StoredPicture | None = picture
        self.codec = codec
        self.seq = picture.seq
        self.timestamp = picture.timestamp
        self.keyframe = picture.keyframe
        self.slice_type = picture.slice_type
        self.qp = picture.qp
        self._channel = handle.channel
        ring = self._channel.ring
        self.packs = [
            Pack(
                ring.read(picture.region, (p.offset - picture.region.start) % ring.size, p.length),
                p.nal_type,
                p.timestamp,
                p.frame_end,
                p.slice_type,
            )
            for p in picture.packs
        ]

    @property
    def data(self) -> bytes:
        """The whole picture: its packs back to back (Annex-B, or the JPEG file)."""
        return b"".join(p.data for p in self.packs)

    @property
    def size(self) -> int:
        return sum(len(p.data) for p in self.packs)

    @property
    def nal_types(self) -> list[int]:
        return [p.nal_type for p in self.packs]

    def release(self) -> None:
        picture = self._picture
        if picture is None:
            return
        # After UnRegisterChn or DestroyChn the channel dropped it already: nothing to free.
        if self._channel.holds(picture):
            self._channel.release(picture)  # out of GetStream order: InvalidArgument, kept
        self._picture = None

    def __enter__(self) -> EncodedStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def __repr__(self) -> str:
        kind = "key" if self.keyframe else "delta"
        return (
            f"<EncodedStream {self.codec.name} seq={self.seq} ts={self.timestamp} {kind} "
            f"{self.size} B nals={self.nal_types}>"
        )


class _SourceLike(Protocol):
    chn: int


class EncoderHandle:
    """An encoder channel opened by :func:`open_encoder`; a context manager."""

    def __init__(self, chn: int, owned_group: bool, bound: tuple[tuple[int, int, int], int] | None):
        self.chn = chn
        self._owned_group = owned_group
        self._bound = bound  # (source cell, group) this handle bound, undone at close
        self._closed = False

    @property
    def channel(self) -> EncoderChannel:
        return get_encoder().channel(self.chn)

    @property
    def attr(self) -> EncoderAttr:
        return self.channel.attr

    @property
    def group(self) -> int:
        group = self.channel.group
        if group is None:
            raise InvalidState(f"encoder channel {self.chn} is not registered")
        return group

    @property
    def stats(self) -> ChannelStats:
        return self.channel.stats

    def bitrate_kbps(self, window_s: float = 1.0) -> float:
        """Measured kbit/s over the last ``window_s`` of capture time."""
        return self.channel.meter.window_kbps(int(window_s * 1e6))

    # -- streams -------------------------------------------------------------------------------
    def get_stream(self, timeout: float | None = 2.0) -> EncodedStream:
        """The next picture (``None`` waits forever, ``0`` does not wait; Timeout otherwise)."""
        picture = self.channel.take(timeout)
        return EncodedStream(self, picture, self.attr.codec)

    def streams(
        self, limit: int | None = None, timeout: float | None = 2.0
    ) -> Iterator[EncodedStream]:
        """Iterate pictures; each is released when the loop moves on."""
        return borrowed(lambda: self.get_stream(timeout), limit)

    def poll(self, timeout: float | None = 1.0) -> bool:
        return self.channel.poll(timeout)

    def fileno(self) -> int:
        """An fd readable while streams are ready (for select/poll/selectors)."""
        return self.channel.fd()

    # -- control -------------------------------------------------------------------------------
    def start(self) -> None:
        self.channel.start()

    def stop(self) -> None:
        self.channel.stop()

    def request_idr(self) -> None:
        self.channel.request_idr()

    def flush(self) -> int:
        return self.channel.flush()

    def set_bitrate(self, target_kbps: int, max_kbps: int | None = None) -> None:
        self.channel.set_bitrate(target_kbps, max_kbps or target_kbps)

    def set_fps(self, fps: Fps) -> None:
        self.channel.set_fps(_fps(fps, self.attr.fps))

    def set_gop(self, length: int) -> None:
        self.channel.set_gop_length(length)

    def set_qp(self, qp: int) -> None:
        self.channel.set_qp(qp)

    def set_qp_bounds(self, min_qp: int, max_qp: int) -> None:
        self.channel.set_qp_bounds(min_qp, max_qp)

    def close(self) -> None:
        """StopRecvPic, UnBind (if this handle bound), UnRegisterChn, DestroyChn[, DestroyGroup]."""
        if self._closed:
            return
        self._closed = True
        enc = get_encoder()
        if self.chn not in enc.channels:
            return  # System_Exit tore it down already
        ch = enc.channels[self.chn]
        ch.stop()
        group = ch.group
        if self._bound is not None and get_system().initialized:
            src, grp = self._bound
            try:
                get_system().unbind(src, (DEV_ID_ENC, grp, 0))
            except ImpError:
                pass  # unbound by the application already
        if group is not None:
            enc.unregister(self.chn)
        enc.destroy_channel(self.chn)
        if self._owned_group and group is not None:
            node = enc.groups.get(group)
            if node is not None and node.created and not node.channels:
                enc.destroy_group(group)

    def __enter__(self) -> EncoderHandle:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _free_number(used: set[int], limit: int, what: str) -> int:
    for n in range(limit):
        if n not in used:
            return n
    raise Busy(f"no free {what} (all {limit} in use)")


def open_encoder(
    source: _SourceLike | EncoderHandle | int,
    settings: Settings,
    chn: int | None = None,
    group: int | None = None,
    output: int = 0,
    start: bool = True,
    wrap: bool | None = None,
    backend: str | None = None,
) -> EncoderHandle:
    """Encode the frames of ``source`` (a FrameSource channel or its number, or another
    handle whose group to share) with ``settings`` (:class:`H264`, :class:`H265`, :class:`JPEG`).

    ``chn``/``group`` None pick free numbers; ``wrap`` selects the vendor's wrapping stream
    buffer; ``backend`` a codec backend ("pyav", "null").
    """
    enc = get_encoder()
    share = source if isinstance(source, EncoderHandle) else None
    if share is not None:
        fs_chn = None
        src_attr = share.attr
        size, fps = (src_attr.width, src_attr.height), src_attr.fps
    else:
        fs_chn = source if isinstance(source, int) else source.chn
        fs_attr = get_framesource().channel(fs_chn).attr
        size, fps = (fs_attr.width, fs_attr.height), fs_attr.fps
    attr = settings.attr(size, fps)
    if chn is None:
        chn = _free_number(set(enc.channels), NR_MAX_ENC_CHN, "encoder channel")
    enc.create_channel(chn, attr, wrap=wrap, backend=backend)
    owned = False
    bound: tuple[tuple[int, int, int], int] | None = None
    try:
        if share is not None:
            grp = share.group
        else:
            grp = (
                group
                if group is not None
                else _free_number(set(enc.groups), NR_MAX_ENC_GROUPS, "encoder group")
            )
            if grp not in enc.groups or not enc.groups[grp].created:
                enc.create_group(grp)
                owned = True
        enc.register(grp, chn)
        if fs_chn is not None:
            src = (DEV_ID_FS, fs_chn, output)
            try:
                get_system().bind(src, (DEV_ID_ENC, grp, 0))
                bound = (src, grp)
            except ImpError:
                if get_system().graph.source_of(DEV_ID_ENC, grp) != src:
                    raise
        handle = EncoderHandle(chn, owned, bound)
        if start:
            handle.start()
        return handle
    except BaseException:
        try:
            EncoderHandle(chn, owned, bound).close()
        except ImpError:
            pass
        raise


__all__ = [
    "H264",
    "H265",
    "JPEG",
    "EncodedStream",
    "EncoderHandle",
    "Pack",
    "Settings",
    "Timeout",
    "open_encoder",
]
