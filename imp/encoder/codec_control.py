"""The codec side of an encoder channel: opening and closing its codec, and the run-time
parameter setters (``IMP_Encoder_SetChnBitRate``, ``SetChnFrmRate``, ``SetChnAttrRcMode``,
``SetChnQp``, ``SetChnQpBounds``, ``SetChnQpIPDelta``, ``SetChnGopLength``) applied to the
running codec without a restart; and what the codec gets (each frame fitted to the channel's
size and crop) and the stream-buffer room a picture is given before it is encoded.

A mixin of :class:`~imp.encoder.channel.EncoderChannel`, which owns the state declared here.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from dataclasses import replace

import numpy as np

from imp.codec import EncoderBackend, open_backend
from imp.core.vbm import Frame
from imp.encoder.attr import EncoderAttr, RcAttr, check_qp_bounds
from imp.encoder.pacing import FrameRateGate
from imp.encoder.scale import PlaneFitter
from imp.errors import ImpError, InvalidArgument, NotSupported

log = logging.getLogger("imp.encoder")

_MIN_RESERVE = 4096  # bytes: the least room a picture is given before encoding


class CodecControl:
    """Codec life and run-time parameters of one encoder channel."""

    chn: int
    attr: EncoderAttr
    _backend_name: str | None
    _codec_lock: threading.Lock
    _codec: EncoderBackend | None
    _gate: FrameRateGate
    _fitter: PlaneFitter | None  # converts the source's frames to the channel's size/crop
    # Sizes of the recent pictures (the channel's room check); resized with the GOP length.
    _recent_sizes: deque[int]

    # -- codec -----------------------------------------------------------------------------------
    def _open_codec(self) -> EncoderBackend:
        # Caller holds _codec_lock or is the constructor.
        if self._codec is None:
            try:
                self._codec = open_backend(self.attr.codec_config(), self._backend_name)
            except ImpError:
                raise
            except (ValueError, RuntimeError, OSError, NotImplementedError) as exc:
                raise NotSupported(
                    f"encoder channel {self.chn}: the {self.attr.codec.name} codec cannot be "
                    f"opened for {self.attr.width}x{self.attr.height}: {exc}"
                ) from exc
        return self._codec

    def _close_codec(self) -> None:
        with self._codec_lock:
            codec, self._codec = self._codec, None
        if codec is not None:
            try:
                codec.close()
            except Exception as exc:
                log.warning("channel %d: closing the codec: %s", self.chn, exc)

    def reconfigure(self, attr: EncoderAttr, rc: bool = False, fps: bool = False) -> None:
        """Apply new run-time attributes (rate control, frame rate, GOP) to the running codec."""
        attr.validate(f"encoder channel {self.chn}")
        with self._codec_lock:
            old = self.attr
            self.attr = attr
            if fps:
                self._gate.set_fps(attr.fps)
            codec = self._codec
            if codec is None:
                return  # the next codec opened uses the new attributes
            config = attr.codec_config()
            changes: dict[str, object] = {}
            if rc or config.rc != old.codec_config().rc:
                changes["rc"] = config.rc
            if fps or attr.fps != old.fps:
                changes["fps"] = attr.fps
            if config.gop != old.codec_config().gop:
                changes["gop"] = config.gop
                self._recent_sizes = deque(
                    self._recent_sizes, maxlen=2 * max(attr.gop.length, 1) + 1
                )
            if not changes:
                return
            try:
                codec.update(**changes)  # type: ignore[arg-type]
            except Exception as exc:
                self.attr = old
                self._gate.set_fps(old.fps)
                raise InvalidArgument(
                    f"encoder channel {self.chn}: the codec refused {sorted(changes)}: {exc}"
                ) from exc

    def set_bitrate(self, target_kbps: int, max_kbps: int) -> None:
        self._require_video("SetChnBitRate")
        if target_kbps <= 0 or max_kbps < 0:
            raise InvalidArgument(
                f"SetChnBitRate({self.chn}): bit rates must be > 0, got {target_kbps}/{max_kbps}"
            )
        new_max = max(max_kbps or target_kbps, target_kbps)
        self.reconfigure(self.attr.with_rc(target_kbps=target_kbps, max_kbps=new_max), rc=True)
        log.info("channel %d: bit rate %d (max %d) kbit/s", self.chn, target_kbps, new_max)

    def set_fps(self, fps: tuple[int, int]) -> None:
        self.reconfigure(replace(self.attr, fps=fps), fps=True)

    def set_rc(self, rc: RcAttr) -> None:
        self._require_video("SetChnAttrRcMode")
        # The codec applies a new mode from the next IDR of the GOP, as the vendor library does.
        self.reconfigure(replace(self.attr, rc=rc), rc=True)

    def set_qp(self, qp: int) -> None:
        self._require_video("SetChnQp")
        rc = self.attr.rc
        if not rc.min_qp <= qp <= rc.max_qp:
            raise InvalidArgument(
                f"SetChnQp({self.chn}): QP {qp} must lie within the bounds {rc.min_qp}..{rc.max_qp}"
            )
        self.reconfigure(self.attr.with_rc(initial_qp=qp), rc=True)

    def set_qp_bounds(self, min_qp: int, max_qp: int) -> None:
        self._require_video("SetChnQpBounds")
        check_qp_bounds(min_qp, max_qp, f"SetChnQpBounds({self.chn})")
        self.reconfigure(self.attr.with_rc(min_qp=min_qp, max_qp=max_qp), rc=True)

    def set_ip_delta(self, delta: int) -> None:
        self._require_video("SetChnQpIPDelta")
        if not -51 <= delta <= 51:
            raise InvalidArgument(f"SetChnQpIPDelta({self.chn}): delta {delta} must be -51..51")
        self.reconfigure(self.attr.with_rc(ip_delta=delta), rc=True)

    def set_gop_length(self, length: int) -> None:
        self._require_video("SetChnGopLength")
        if not 1 <= length <= 0xFFFF:
            raise InvalidArgument(f"SetChnGopLength({self.chn}): {length} must be 1..65535")
        self.reconfigure(self.attr.with_gop(length=length))

    def _require_video(self, what: str) -> None:
        if self.attr.is_jpeg:
            raise InvalidArgument(
                f"{what}({self.chn}): a JPEG channel has no rate control (H.264/H.265 only)"
            )

    # -- what the codec gets ----------------------------------------------------------------
    def _fit(self, frame: Frame) -> tuple[np.ndarray, np.ndarray]:
        fitter = self._fitter
        size = (frame.width, frame.height)
        out = (self.attr.width, self.attr.height)
        if fitter is None or fitter.in_size != size or fitter.out_size != out:
            fitter = self._fitter = PlaneFitter(size, out, self.attr.crop)
        return fitter.fit(frame.y, frame.uv)

    def _reserve(self) -> int:
        # Room the next picture needs, judged by the largest recent one (an IDR of the GOP).
        recent = max(self._recent_sizes, default=0)
        if recent == 0:
            recent = self.attr.width * self.attr.height // 8
        return max(recent + recent // 4, _MIN_RESERVE)


__all__ = ["CodecControl"]
