"""The ``pyav`` codec backend: libx264 (H.264), libx265 (H.265) and mjpeg (JPEG) through PyAV.

The codec set-up (stream shape: zero latency, Annex-B, IDRs with parameter sets, the GOP counted
here; profiles; NV12 input; JPEG quality; the rate-control mapping) is
:mod:`imp.codec.pyav_setup`'s. This module encodes with the contexts it opens.

Run-time changes (:meth:`PyAVBackend.update`)
---------------------------------------------
- ``gop``: immediately (the backend counts the GOP itself): if the current GOP is already that
  long, the next picture is an IDR.
- H.264 ``target_kbps``/``max_kbps`` in an unchanged rate-control mode: from the next picture
  (x264 reconfigures bit rate and VBV of a running encoder).
- Anything else (mode, QP, QP bounds, deltas, max_psnr, any H.265 change, the frame rate): the
  codec is reopened at the next IDR (scheduled or requested), as the vendor applies a new
  rate-control mode from the next IDR and a frame rate from the next GOP.

QP report: x264 and x265 attach the picture's average QP to each packet (``quality_stats``),
which becomes ``EncodedPicture.qp``. mjpeg reports nothing useful there: JPEG pictures have None.
"""

from __future__ import annotations

import errno
import struct
from collections.abc import Callable
from dataclasses import replace

import av
import numpy as np
from av.video.codeccontext import VideoCodecContext
from av.video.frame import PictureType

from imp.codec.base import (
    CodecConfig,
    CodecType,
    EncodedPicture,
    Nal,
    RateControl,
    SliceType,
    check_config,
    check_planes,
    check_rate_control,
)
from imp.codec.nal import is_idr, split_annexb
from imp.codec.pyav_setup import (
    ENCODERS,
    QP2LAMBDA,
    Rates,
    jpeg_qscale,
    live_rate_change,
    open_context,
    qp_for_psnr,
    vbv_cap,
)
from imp.errors import DeviceError, InvalidState

# The set-up helpers stay importable from here (tests, bench/codec_pyav.py).
__all__ = ["PyAVBackend", "jpeg_qscale", "open_context", "qp_for_psnr", "vbv_cap"]

_SLICE_TYPES = {PictureType.I: SliceType.I, PictureType.P: SliceType.P, PictureType.B: SliceType.B}


class PyAVBackend:
    """One H.264, H.265 or JPEG encoder on PyAV. See the module docstring for the behaviour."""

    def __init__(self, config: CodecConfig) -> None:
        check_config(config)
        self.config = config
        self._applied = config  # what the open context was built from
        self._ctx: VideoCodecContext | None = None
        self._closed = False
        self._reopen_pending = False
        self._idr_requested = True
        self._since_idr = 0  # pictures given since the last IDR, that IDR included
        self._next_index = 0  # the codec-side pts: one tick of 1/fps per picture
        self._pts: dict[int, int] = {}  # codec-side pts -> the caller's pts
        self._ctx = self._open(config)

    # -- opening ---------------------------------------------------------------------------------
    def _open(self, config: CodecConfig) -> VideoCodecContext:
        ctx = open_context(config)
        self._applied = config
        self._next_index = 0
        self._pts.clear()
        self._since_idr = 0
        self._idr_requested = True  # a fresh codec starts with an IDR anyway: count it
        self._reopen_pending = False
        return ctx

    def _reopen(self) -> list[EncodedPicture]:
        out = self._drain()
        self._ctx = self._open(self.config)
        return out

    # -- encoding --------------------------------------------------------------------------------
    def encode(
        self,
        y: np.ndarray,
        uv: np.ndarray,
        pts: int,
        force_idr: bool = False,
        input_done: Callable[[], None] | None = None,
    ) -> list[EncodedPicture]:
        self._check_open()
        check_planes(self.config, y, uv)
        out: list[EncodedPicture] = []
        idr = self.config.codec is not CodecType.JPEG and (
            force_idr
            or self._idr_requested
            or self.config.gop <= 1
            or self._since_idr >= self.config.gop
        )
        if self._ctx is None or (idr and self._reopen_pending):
            out.extend(self._reopen())
            idr = self.config.codec is not CodecType.JPEG  # a new stream starts with an IDR
        ctx = self._ctx
        assert ctx is not None
        frame = self._frame(y, uv)
        if input_done is not None and self.config.codec is not CodecType.H264:
            # x265 and mjpeg code a yuv420p copy: the caller's planes are free before the
            # encode (tens of ms at 1080p), so the source gets its buffer back that much sooner.
            input_done()
        index = self._next_index
        self._next_index += 1
        frame.pts = index
        if idr:
            frame.pict_type = PictureType.I
            self._idr_requested = False
            self._since_idr = 0
        self._since_idr += 1
        self._pts[index] = pts
        try:
            packets = ctx.encode(frame)
        except av.FFmpegError as exc:
            self._idr_requested = True
            self._pts.pop(index, None)
            raise DeviceError(
                errno.EIO, f"{ENCODERS[self.config.codec]} failed to encode picture {pts}: {exc}"
            ) from exc
        finally:
            del frame  # the last reference to the caller's planes (DLPack) goes here
        out.extend(self._picture(packet, pts) for packet in packets)
        return out

    def _frame(self, y: np.ndarray, uv: np.ndarray) -> av.VideoFrame:
        frame: av.VideoFrame | None = None
        if y.flags.writeable and uv.flags.writeable:
            try:
                frame = av.VideoFrame.from_dlpack((y, uv), format="nv12")
            except (BufferError, TypeError, ValueError):
                frame = None  # e.g. an exotic stride: copy instead
        if frame is None:
            frame = av.VideoFrame(self.config.width, self.config.height, "nv12")
            for plane, src in zip(frame.planes, (y, uv), strict=True):
                rows = np.frombuffer(plane, dtype=np.uint8).reshape(-1, plane.line_size)
                rows[: src.shape[0], : src.shape[1]] = src
        if self.config.codec is CodecType.H264:
            return frame
        return frame.reformat(format="yuv420p")

    def _picture(self, packet: av.Packet, fallback_pts: int) -> EncodedPicture:
        data = bytes(packet)
        codec = self.config.codec
        pts = self._pts.pop(packet.pts, fallback_pts) if packet.pts is not None else fallback_pts
        if codec is CodecType.JPEG:
            return EncodedPicture(
                nals=[_jpeg_nal(data)],
                keyframe=True,
                slice_type=SliceType.I,
                pts=pts,
                size=len(data),
            )
        nals = split_annexb(data, codec)
        if not nals:
            raise DeviceError(errno.EIO, f"{ENCODERS[codec]} produced a packet without NAL units")
        keyframe = any(is_idr(nal.nal_type, codec) for nal in nals)
        qp, slice_type = _quality(packet)
        if slice_type is None:
            slice_type = SliceType.I if keyframe else SliceType.P
        return EncodedPicture(
            nals=nals,
            keyframe=keyframe,
            slice_type=slice_type,
            pts=pts,
            qp=qp,
            size=sum(len(nal.data) for nal in nals),
        )

    # -- control ---------------------------------------------------------------------------------
    def update(
        self,
        *,
        rc: RateControl | None = None,
        fps: tuple[int, int] | None = None,
        gop: int | None = None,
    ) -> None:
        self._check_open()
        new = self.config
        if rc is not None:
            check_rate_control(rc)
            new = replace(new, rc=rc)
        if fps is not None:
            new = replace(new, fps=(int(fps[0]), int(fps[1])))
        if gop is not None:
            new = replace(new, gop=int(gop))
        check_config(new)
        self.config = new
        applied = replace(self._applied, gop=new.gop)  # the GOP is counted here, never reopens
        if new.codec is CodecType.JPEG:
            applied = replace(applied, rc=new.rc, fps=new.fps)  # no rate control; fps unused
        if (
            new.codec is CodecType.H264
            and applied.rc != new.rc
            and applied.fps == new.fps
            and self._ctx is not None
            and live_rate_change(applied.rc, new.rc)
        ):
            rates = Rates(new.rc)
            if rates.bitrate is not None:
                self._ctx.bit_rate = rates.bitrate * 1000
            if rates.maxrate is not None and rates.bufsize is not None:
                self._ctx.max_bit_rate = rates.maxrate * 1000
                self._ctx.rc_buffer_size = rates.bufsize * 1000
            applied = replace(applied, rc=new.rc)
        self._applied = applied
        self._reopen_pending = applied != new

    @property
    def reopen_pending(self) -> bool:
        """True while a change waits for the next IDR to reopen the codec."""
        return self._reopen_pending

    def request_idr(self) -> None:
        self._check_open()
        self._idr_requested = True

    def flush(self) -> list[EncodedPicture]:
        """Drain the codec; the next picture then starts a new stream with an IDR."""
        self._check_open()
        return self._drain()

    def _drain(self) -> list[EncodedPicture]:
        ctx, self._ctx = self._ctx, None
        if ctx is None:
            return []
        try:
            packets = ctx.encode(None)
        except av.FFmpegError as exc:
            raise DeviceError(errno.EIO, f"{ctx.name} failed to flush: {exc}") from exc
        return [self._picture(packet, -1) for packet in packets]

    def close(self) -> None:
        self._closed = True
        self._ctx = None  # PyAV frees the codec with its last reference
        self._pts.clear()

    def _check_open(self) -> None:
        if self._closed:
            raise InvalidState("the codec backend is closed; open a new one with open_backend()")


def _quality(packet: av.Packet) -> tuple[float | None, SliceType | None]:
    """(average QP, slice type) from the packet's AV_PKT_DATA_QUALITY_STATS, if it has them."""
    if not packet.has_sidedata("quality_stats"):
        return None, None
    raw = bytes(packet.get_sidedata("quality_stats"))
    if len(raw) < 5:
        return None, None
    quality, pict_type = struct.unpack_from("<iB", raw)
    slice_type = _SLICE_TYPES.get(PictureType(pict_type)) if pict_type <= 7 else None
    return round(quality / QP2LAMBDA, 2), slice_type


def _jpeg_nal(data: bytes) -> Nal:
    if not (data.startswith(b"\xff\xd8") and data.endswith(b"\xff\xd9")):
        raise DeviceError(errno.EIO, "mjpeg produced a picture that is not a complete JPEG file")
    return Nal(data, 0)
