"""How the ``pyav`` backend sets up libx264 (H.264), libx265 (H.265) and mjpeg (JPEG): the
codec options that give the T31 hardware encoder's stream shape, and the rate-control mapping.
:mod:`imp.codec.pyav_backend` runs the contexts opened here.

Stream shape (what the T31 hardware encoder produces and prudynt relies on)
---------------------------------------------------------------------------
- Zero latency: ``preset=ultrafast tune=zerolatency``, no B-frames, one picture out per picture
  in. x264 runs with one thread: more threads mean more slices per picture (sliced threads) or
  delayed output (frame threads). x265 ``zerolatency`` uses one frame thread; it always codes one
  slice.
- Annex-B, every NAL with a 4-byte start code (:func:`imp.codec.nal.split_annexb`); each IDR is
  preceded by its parameter sets (``repeat-headers=1``): H.264 SPS, PPS (plus x264's version SEI
  on the first one); H.265 VPS, SPS, PPS, SEI. IDR NAL types: H.264 5, H.265 20 (IDR_N_LP;
  ``open-gop=0`` keeps x265 from coding CRA pictures, type 21, instead).
- GOP: the backend decides which picture is an IDR (every ``gop`` pictures, on its
  ``request_idr`` / ``force_idr``) and forces it (``pict_type=I`` with ``forced-idr=1``);
  the codecs run with an infinite keyint and ``scenecut=0`` so they never insert one themselves.
  A requested IDR restarts the GOP count.
- H.264 profiles: x264 signals the lowest profile its tools need, and ``ultrafast`` alone needs
  only Baseline. So ``main`` turns CABAC on and ``high`` CABAC plus the 8x8 transform, which makes
  the SPS say 77 / 100 as the hardware's does.
- Input: NV12 goes to x264 zero-copy (``VideoFrame.from_dlpack`` wraps the two plane views,
  whatever their stride or distance); x264 copies the picture into its own buffers inside the
  call. Read-only views cannot be exported through DLPack: they are copied into a new frame
  (0.3 ms at 1080p). x265 and mjpeg do not take NV12: swscale unpacks the chroma to yuv420p
  (0.35 ms at 1080p, faster than deinterleaving with numpy, 0.45-0.65 ms).
- JPEG: baseline, 4:2:0, the NV12 samples coded as they are (no range conversion, as the hardware
  does), with the standard Huffman tables. Quality 1..100 follows IJG libjpeg: scale =
  5000/q % below 50, 200-2q % from 50; ffmpeg's mjpeg quantiser is table * qscale / 8, hence
  qscale = scale * 8 / 100, clipped to 1..31 (q 75 -> 4, q 50 -> 8; q >= 94 all give 1).

Rate control (``RateControl``) mapping
--------------------------------------
``cap`` = the VBV set up so that no 1 s window carries more than ``max_kbps``: bits sent in any
window of T seconds are at most bufsize + maxrate * T, so bufsize = max/4 (0.25 s) and
maxrate = 3/4 max. (vbv-maxrate = vbv-bufsize = max would allow 2x max in a window: x264 CBR
2000 with a 1 s buffer put 2860-3010 kbit in one.) x265's VBV without lookahead overshoots (a
window reached 112 % of max), so for x265 the cap is built on 80 % of max (worst window seen:
93 %).

- FIXQP: constant QP ``qp`` (x264 ``qp=``, x265 ``qp=``) for every picture: ``ipratio=1`` unless
  ``ip_delta`` >= 0 asks for I pictures that many QP lower. ``min_qp``/``max_qp`` do not apply.
- CBR: ``bitrate = vbv-maxrate = target_kbps``, ``vbv-bufsize`` = 1 s of it; x265 also
  ``strict-cbr=1`` (without it 234 of 300 kbit/s). Measured with the synthetic scene at 1080p25,
  2000 kbit/s over 10 s: x264 1936-1938 (-3 %), x265 1977-1986. (x264 ``nal-hrd=cbr`` would pad
  to the exact rate with filler NALs and an SEI per picture; the hardware does not, so it is
  off.) Content that needs fewer bits than the rate at ``min_qp`` stays below it.
- VBR: average ``target_kbps`` (clipped to the cap's maxrate) within ``cap``. x264's average-rate
  control inside a 0.25 s buffer is cautious: target = max = 2000 at 1080p gave 1260 kbit/s.
- CAPPED_VBR: VBR plus a quality ceiling: QP never below ``qp_for_psnr(max_psnr)``.
- CAPPED_QUALITY: constant quality (``crf`` = ``qp_for_psnr(max_psnr)``) within ``cap``;
  ``target_kbps`` is not used.
- ``qp_for_psnr(p) = 63 - p``: uniform quantisation noise of step Qstep = 2^((QP-4)/6) has
  PSNR = 10 log10(255^2 * 12 / Qstep^2) = 63 - QP dB. Measured on the synthetic scene at 720p:
  x264 QP 21 -> 42.4 dB, QP 15 -> 46.8 dB (x265 alike), so it holds near the usual 42 dB.
- ``min_qp``/``max_qp`` -> ``qpmin``/``qpmax``; ``ip_delta`` >= 0 -> ``ipratio = 2^(delta/6)``;
  ``pb_delta`` is unused (no B-frames).
"""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import av
from av.codec.context import Flags
from av.video.codeccontext import VideoCodecContext

from imp.codec.base import CodecConfig, CodecType, RateControl, RcMode, check_config
from imp.errors import InvalidArgument

__all__ = [
    "ENCODERS",
    "QP2LAMBDA",
    "Rates",
    "jpeg_qscale",
    "live_rate_change",
    "open_context",
    "qp_for_psnr",
    "vbv_cap",
]

ENCODERS = {CodecType.H264: "libx264", CodecType.H265: "libx265", CodecType.JPEG: "mjpeg"}
QP2LAMBDA = 118  # FFQP2LAMBDA: quality_stats carry QP * 118
_VBV_SHARE = 0.25  # share of max_kbps held as VBV buffer (seconds of it); see vbv_cap
_X265_CAP_HEADROOM = 0.8  # x265's VBV overshoots (module docstring)
_JPEG_COLOR_RANGE = 2  # AVCOL_RANGE_JPEG: code the samples as they are
_H264_PROFILE_TOOLS = {
    "baseline": ("cabac=0", "8x8dct=0"),
    "main": ("cabac=1", "8x8dct=0"),
    "high": ("cabac=1", "8x8dct=1"),
}


def qp_for_psnr(max_psnr: int, min_qp: int, max_qp: int) -> int:
    """The QP whose quantisation noise is about ``max_psnr`` dB, within the QP bounds."""
    return min(max(63 - max_psnr, min_qp), max_qp)


def vbv_cap(max_kbps: int, headroom: float = 1.0) -> tuple[int, int]:
    """(vbv-maxrate, vbv-bufsize) in kbit/s, kbit so that no 1 s window exceeds ``max_kbps``.

    ``headroom`` < 1 leaves room for a codec whose VBV is not strict (x265).
    """
    total = max(2, round(max_kbps * headroom))
    bufsize = max(1, round(total * _VBV_SHARE))
    return total - bufsize, bufsize


def jpeg_qscale(quality: int) -> int:
    """mjpeg qscale (1..31) for an IJG quality (1..100)."""
    scale = 5000 / quality if quality < 50 else 200 - 2 * quality  # percent of the base tables
    return min(max(round(scale * 8 / 100), 1), 31)


def _ipratio(rc: RateControl) -> float | None:
    if rc.ip_delta == -1:
        return 1.0 if rc.mode is RcMode.FIXQP else None
    return float(2 ** (rc.ip_delta / 6))


class Rates:
    """The rate-control settings of one RateControl, in the codecs' terms (kbit/s)."""

    def __init__(self, rc: RateControl, cap_headroom: float = 1.0) -> None:
        self.qp: int | None = None
        self.crf: int | None = None
        self.bitrate: int | None = None
        self.maxrate: int | None = None
        self.bufsize: int | None = None
        self.qpmin: int | None = None
        self.qpmax: int | None = None
        self.ipratio = _ipratio(rc)
        if rc.mode is RcMode.FIXQP:
            self.qp = rc.qp
            return
        self.qpmin, self.qpmax = rc.min_qp, rc.max_qp
        if rc.mode is RcMode.CBR:
            self.bitrate = self.maxrate = self.bufsize = rc.target_kbps
            return
        self.maxrate, self.bufsize = vbv_cap(rc.max_kbps, cap_headroom)
        quality_qp = qp_for_psnr(rc.max_psnr, rc.min_qp, rc.max_qp)
        if rc.mode is RcMode.CAPPED_QUALITY:
            self.crf = quality_qp
            self.qpmin = quality_qp
            return
        self.bitrate = min(rc.target_kbps, self.maxrate)
        if rc.mode is RcMode.CAPPED_VBR:
            self.qpmin = quality_qp

    def params(self) -> list[str]:
        """x264/x265 ``key=value`` parameters (the two share these names)."""
        out = []
        for key, value in (
            ("qp", self.qp),
            ("crf", self.crf),
            ("bitrate", self.bitrate),
            ("vbv-maxrate", self.maxrate),
            ("vbv-bufsize", self.bufsize),
            ("qpmin", self.qpmin),
            ("qpmax", self.qpmax),
        ):
            if value is not None:
                out.append(f"{key}={value}")
        if self.ipratio is not None:
            out.append(f"ipratio={self.ipratio:.4f}")
        return out


def live_rate_change(old: RateControl, new: RateControl) -> bool:
    """True if only the bit rates differ, which a running x264 can take."""
    return (
        new.mode is old.mode
        and new.mode is not RcMode.FIXQP
        and new == replace(old, target_kbps=new.target_kbps, max_kbps=new.max_kbps)
    )


def open_context(config: CodecConfig) -> VideoCodecContext:
    """An open PyAV encoder context set up as this backend runs it (see the module docstring).

    Frames for it: NV12 for H.264, yuv420p for H.265 and JPEG; pts in 1/fps ticks.
    """
    check_config(config)
    name = ENCODERS[config.codec]
    ctx = av.CodecContext.create(name, "w")
    if not isinstance(ctx, VideoCodecContext):  # narrows the type: every encoder here is video
        raise InvalidArgument(f"{name} is not a video encoder in this PyAV build")
    ctx.width = config.width
    ctx.height = config.height
    num, den = config.fps
    # Pictures are numbered 0, 1, 2... in 1/fps ticks: the rate control sees the configured
    # frame rate whatever timestamps the caller passes (they are echoed, not used).
    ctx.time_base = Fraction(den, num)
    ctx.framerate = Fraction(num, den)
    if config.codec is CodecType.JPEG:
        _setup_jpeg(ctx, config)
    else:
        ctx.max_b_frames = 0
        ctx.thread_count = 1
        if config.codec is CodecType.H264:
            _setup_x264(ctx, config)
        else:
            _setup_x265(ctx, config)
    try:
        ctx.open()
    except av.FFmpegError as exc:
        raise InvalidArgument(
            f"{name} cannot encode {config.width}x{config.height} at "
            f"{num}/{den} fps with {config.rc}: {exc}"
        ) from exc
    return ctx


def _setup_x264(ctx: VideoCodecContext, config: CodecConfig) -> None:
    ctx.pix_fmt = "nv12"
    rates = Rates(config.rc)
    params = [
        "repeat-headers=1",
        "annexb=1",
        "keyint=infinite",
        "scenecut=0",
        "bframes=0",
        *_H264_PROFILE_TOOLS[config.profile],
    ]
    options = {
        "preset": "ultrafast",
        "tune": "zerolatency",
        "profile": config.profile,
        "forced-idr": "1",
    }
    if rates.qp is not None:
        options["qp"] = str(rates.qp)
    if rates.crf is not None:
        options["crf"] = str(rates.crf)
    # Bit rate and VBV through the context (not x264-params): libx264 hands changes of these
    # fields to x264_encoder_reconfig on the next picture, so they can change live.
    if rates.bitrate is not None:
        ctx.bit_rate = rates.bitrate * 1000
    if rates.maxrate is not None and rates.bufsize is not None:
        ctx.max_bit_rate = rates.maxrate * 1000
        ctx.rc_buffer_size = rates.bufsize * 1000
    for key, value in (("qpmin", rates.qpmin), ("qpmax", rates.qpmax)):
        if value is not None:
            params.append(f"{key}={value}")
    if rates.ipratio is not None:
        params.append(f"ipratio={rates.ipratio:.4f}")
    options["x264-params"] = ":".join(params)
    ctx.options = options


def _setup_x265(ctx: VideoCodecContext, config: CodecConfig) -> None:
    ctx.pix_fmt = "yuv420p"
    params = [
        "log-level=error",  # x265 prints its banner to stderr otherwise
        "repeat-headers=1",
        "annexb=1",
        "keyint=-1",
        "open-gop=0",
        "scenecut=0",
        "bframes=0",
        *Rates(config.rc, _X265_CAP_HEADROOM).params(),
    ]
    if config.rc.mode is RcMode.CBR:
        # without it x265 (no lookahead) lands 20 % under the rate: 234 of 300 kbit/s
        params.append("strict-cbr=1")
    from imp.pipeline.pacing import consumers_pace_source

    if consumers_pace_source():
        # Virtual clock, where runs must be reproducible: x265's wavefront rows make its VBV
        # depend on thread timing (runs differed from picture 10 on); sequential rows do not.
        params.append("wpp=0")
    ctx.options = {
        "preset": "ultrafast",
        "tune": "zerolatency",
        "profile": config.profile,
        "forced-idr": "1",
        "x265-params": ":".join(params),
    }


def _setup_jpeg(ctx: VideoCodecContext, config: CodecConfig) -> None:
    ctx.pix_fmt = "yuv420p"
    ctx.color_range = _JPEG_COLOR_RANGE
    ctx.thread_count = 1
    qscale = jpeg_qscale(config.jpeg_quality)
    # PyAV has no working "qscale" option for mjpeg: a fixed quantiser needs the QSCALE flag,
    # global_quality in lambda units and qmin = qmax so the rate control cannot move it.
    ctx.flags |= Flags.qscale
    ctx.global_quality = qscale * QP2LAMBDA
    ctx.qmin = ctx.qmax = qscale
    ctx.options = {"huffman": "default"}
