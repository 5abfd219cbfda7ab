"""Encoder channel attributes (``IMPEncoderChnAttr``) and what they mean to the codec.

:class:`EncoderAttr` is the Pythonic, validated form of the 112-byte C struct; :func:`default_attr`
is ``IMP_Encoder_SetDefaultParam``; :meth:`EncoderAttr.codec_config` maps the attributes onto the
codec seam (:class:`imp.codec.CodecConfig`), which is all a backend ever sees.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from imp.codec import CodecConfig, CodecType, RateControl, RcMode
from imp.errors import InvalidArgument

# IMPEncoderProfile = (IMPEncoderEncType << 24) | profile_idc
ENC_TYPE_AVC, ENC_TYPE_HEVC, ENC_TYPE_JPEG = 0, 1, 4
PROFILE_AVC_BASELINE = 66
PROFILE_AVC_MAIN = 77
PROFILE_AVC_HIGH = 100
PROFILE_HEVC_MAIN = (ENC_TYPE_HEVC << 24) | 1
PROFILE_JPEG = ENC_TYPE_JPEG << 24

_PROFILES: dict[int, tuple[CodecType, str]] = {
    PROFILE_AVC_BASELINE: (CodecType.H264, "baseline"),
    PROFILE_AVC_MAIN: (CodecType.H264, "main"),
    PROFILE_AVC_HIGH: (CodecType.H264, "high"),
    PROFILE_HEVC_MAIN: (CodecType.H265, "main"),
    PROFILE_JPEG: (CodecType.JPEG, "baseline"),
}
ENC_TYPE_OF_CODEC = {
    CodecType.H264: ENC_TYPE_AVC,
    CodecType.H265: ENC_TYPE_HEVC,
    CodecType.JPEG: ENC_TYPE_JPEG,
}

PIC_FORMAT_420_8BITS = 0x188
GOP_CTRL_MODE_DEFAULT = 2
GOP_CTRL_MODES = (0x02, 0x04, 0xFE)  # DEFAULT, PYRAMIDAL, SMARTP
ENC_TOOL_LF, ENC_TOOL_LF_X_SLICE = 0x4, 0x8
RC_OPT_SCN_CHG_RES, RC_OPT_SC_PREVENTION = 0x1, 0x10

MAX_WIDTH, MAX_HEIGHT = 4096, 4096
MIN_SIZE = 16
QP_MIN, QP_MAX = 0, 51
DEFAULT_MIN_QP, DEFAULT_MAX_QP = 15, 48
DEFAULT_FIXQP = 35
DEFAULT_JPEG_QUALITY = 75
DEFAULT_MAX_PSNR = 42
# The codec's own starting QP when the application leaves the initial QP to the rate control.
AUTO_QP = RateControl().qp


@dataclass(frozen=True)
class RcAttr:
    """``IMPEncoderAttrRcMode``: the mode and the members of its union that matter.

    Bit rates are kbit/s, as in the C struct. ``initial_qp`` -1 lets the rate control choose.
    For JPEG (always FIXQP) ``initial_qp`` carries the quality factor (1..100), as the vendor
    samples pass it to SetDefaultParam.
    """

    mode: RcMode = RcMode.CBR
    initial_qp: int = -1
    target_kbps: int = 2000
    max_kbps: int = 2000
    min_qp: int = DEFAULT_MIN_QP
    max_qp: int = DEFAULT_MAX_QP
    ip_delta: int = -1
    pb_delta: int = -1
    rc_options: int = RC_OPT_SCN_CHG_RES | RC_OPT_SC_PREVENTION
    max_picture_size: int = 0
    max_psnr: int = DEFAULT_MAX_PSNR


@dataclass(frozen=True)
class GopAttr:
    """``IMPEncoderGopAttr``."""

    ctrl_mode: int = GOP_CTRL_MODE_DEFAULT
    length: int = 50
    notify_user_lt_inter: int = 0
    max_same_scene: int = 2
    enable_lt: bool = False
    freq_lt: int = 0
    lt_rc: bool = False


@dataclass(frozen=True)
class EncoderAttr:
    """``IMPEncoderChnAttr``: what a channel encodes and how."""

    profile: int
    width: int
    height: int
    fps: tuple[int, int] = (25, 1)
    rc: RcAttr = field(default_factory=RcAttr)
    gop: GopAttr = field(default_factory=GopAttr)
    level: int = 0
    tier: int = 0
    pic_format: int = PIC_FORMAT_420_8BITS
    enc_options: int = 0
    enc_tools: int = 0
    crop: tuple[int, int, int, int] | None = None  # (x, y, w, h) of the input, before scaling

    @property
    def codec(self) -> CodecType:
        return _profile(self.profile)[0]

    @property
    def is_jpeg(self) -> bool:
        return self.codec is CodecType.JPEG

    @property
    def enc_type(self) -> int:
        return self.profile >> 24

    def validate(self, where: str = "encoder channel") -> None:
        _profile(self.profile, where)
        if not (MIN_SIZE <= self.width <= MAX_WIDTH and MIN_SIZE <= self.height <= MAX_HEIGHT):
            raise InvalidArgument(
                f"{where}: size {self.width}x{self.height} must be within "
                f"{MIN_SIZE}..{MAX_WIDTH}x{MIN_SIZE}..{MAX_HEIGHT}"
            )
        if self.width % 2 or self.height % 2:
            raise InvalidArgument(
                f"{where}: NV12 needs an even size, got {self.width}x{self.height}"
            )
        num, den = self.fps
        if num <= 0 or den <= 0:
            raise InvalidArgument(f"{where}: frame rate {num}/{den} must be positive")
        if self.crop is not None:
            x, y, w, h = self.crop
            if x < 0 or y < 0 or w <= 0 or h <= 0:
                raise InvalidArgument(f"{where}: crop {self.crop} needs x/y >= 0, a positive size")
        if self.is_jpeg:
            if not 1 <= self.jpeg_quality <= 100:
                raise InvalidArgument(
                    f"{where}: JPEG quality (rcAttr iInitialQP) {self.rc.initial_qp} must be 1..100"
                )
            return
        rc = self.rc
        if self.gop.length < 1:
            raise InvalidArgument(f"{where}: GOP length {self.gop.length} must be >= 1")
        if self.gop.ctrl_mode not in GOP_CTRL_MODES:
            raise InvalidArgument(
                f"{where}: GOP control mode {self.gop.ctrl_mode:#x} must be DEFAULT (2), "
                "PYRAMIDAL (4) or SMARTP (0xfe)"
            )
        check_qp_bounds(rc.min_qp, rc.max_qp, where)
        if rc.mode is RcMode.FIXQP:
            if not QP_MIN <= rc.initial_qp <= QP_MAX and rc.initial_qp != -1:
                raise InvalidArgument(f"{where}: fixed QP {rc.initial_qp} must be 0..51")
            return
        if rc.initial_qp != -1 and not QP_MIN <= rc.initial_qp <= QP_MAX:
            raise InvalidArgument(f"{where}: initial QP {rc.initial_qp} must be -1 or 0..51")
        if rc.target_kbps <= 0:
            raise InvalidArgument(f"{where}: target bit rate {rc.target_kbps} kbit/s must be > 0")
        if rc.mode is not RcMode.CBR and rc.max_kbps < rc.target_kbps:
            raise InvalidArgument(
                f"{where}: max bit rate {rc.max_kbps} kbit/s is below the target "
                f"{rc.target_kbps} kbit/s"
            )

    @property
    def jpeg_quality(self) -> int:
        return self.rc.initial_qp

    def codec_config(self) -> CodecConfig:
        """The codec seam's view of these attributes."""
        codec, profile = _profile(self.profile)
        if codec is CodecType.JPEG:
            return CodecConfig(
                codec=codec,
                width=self.width,
                height=self.height,
                fps=self.fps,
                profile=profile,
                gop=1,
                rc=RateControl(mode=RcMode.FIXQP),
                jpeg_quality=self.jpeg_quality,
            )
        return CodecConfig(
            codec=codec,
            width=self.width,
            height=self.height,
            fps=self.fps,
            profile=profile,
            gop=self.gop.length,
            rc=self.rate_control(),
        )

    def rate_control(self) -> RateControl:
        rc = self.rc
        if rc.mode is RcMode.FIXQP:
            qp = rc.initial_qp if rc.initial_qp >= 0 else DEFAULT_FIXQP
        else:
            qp = rc.initial_qp if rc.initial_qp >= 0 else AUTO_QP
        max_kbps = rc.target_kbps if rc.mode is RcMode.CBR else rc.max_kbps
        return RateControl(
            mode=rc.mode,
            qp=min(max(qp, rc.min_qp), rc.max_qp) if rc.mode is not RcMode.FIXQP else qp,
            target_kbps=rc.target_kbps,
            max_kbps=max_kbps,
            min_qp=rc.min_qp,
            max_qp=rc.max_qp,
            ip_delta=rc.ip_delta,
            pb_delta=rc.pb_delta,
            max_psnr=rc.max_psnr,
        )

    def with_rc(self, **changes: object) -> EncoderAttr:
        return replace(self, rc=replace(self.rc, **changes))  # type: ignore[arg-type]

    def with_gop(self, **changes: object) -> EncoderAttr:
        return replace(self, gop=replace(self.gop, **changes))  # type: ignore[arg-type]


def check_qp_bounds(min_qp: int, max_qp: int, where: str) -> None:
    if not (QP_MIN <= min_qp <= QP_MAX and QP_MIN <= max_qp <= QP_MAX) or min_qp > max_qp:
        raise InvalidArgument(
            f"{where}: QP bounds {min_qp}..{max_qp} must lie within 0..51 with min <= max"
        )


def _profile(profile: int, where: str = "encoder channel") -> tuple[CodecType, str]:
    try:
        return _PROFILES[profile]
    except KeyError:
        raise InvalidArgument(
            f"{where}: profile {profile:#x} is not an IMPEncoderProfile (AVC_BASELINE 66, "
            "AVC_MAIN 77, AVC_HIGH 100, HEVC_MAIN 0x1000001, JPEG 0x4000000)"
        ) from None


def rc_mode(value: int, where: str = "rate control") -> RcMode:
    try:
        return RcMode(value)
    except ValueError:
        raise InvalidArgument(
            f"{where}: rcMode {value} must be FIXQP (0), CBR (1), VBR (2), CAPPED_VBR (4) or "
            "CAPPED_QUALITY (8)"
        ) from None


def default_attr(
    profile: int,
    mode: int | RcMode,
    width: int,
    height: int,
    fps_num: int,
    fps_den: int,
    gop_length: int,
    max_same_scene: int,
    initial_qp: int,
    target_kbps: int,
) -> EncoderAttr:
    """``IMP_Encoder_SetDefaultParam``: a complete channel attribute from the few that matter.

    Rate control defaults follow the vendor library's documented behaviour: the bit rate goes
    to the union member of ``mode``; VBR-like modes get a ceiling one third above the target
    and a PSNR cap of 42 dB; QP bounds 15..48; IP/PB delta left to the codec (-1). For JPEG the
    ``initial_qp`` argument is the quality factor (the samples pass 25, prudynt 75) and the
    mode is FIXQP whatever was asked.
    """
    codec, _ = _profile(profile, "SetDefaultParam")
    rcm = mode if isinstance(mode, RcMode) else rc_mode(mode, "SetDefaultParam")
    if fps_num <= 0 or fps_den <= 0:
        raise InvalidArgument(f"SetDefaultParam: frame rate {fps_num}/{fps_den} must be positive")
    if codec is CodecType.JPEG:
        quality = initial_qp if 1 <= initial_qp <= 100 else DEFAULT_JPEG_QUALITY
        rc = RcAttr(mode=RcMode.FIXQP, initial_qp=quality, target_kbps=0, max_kbps=0)
        gop = GopAttr(length=max(gop_length, 0), max_same_scene=max(max_same_scene, 0))
        return EncoderAttr(profile, width, height, (fps_num, fps_den), rc, gop)
    if rcm is RcMode.FIXQP:
        rc = RcAttr(
            mode=rcm,
            initial_qp=initial_qp if QP_MIN <= initial_qp <= QP_MAX else DEFAULT_FIXQP,
            target_kbps=0,
            max_kbps=0,
        )
    elif rcm is RcMode.CBR:
        rc = RcAttr(
            mode=rcm,
            initial_qp=initial_qp,
            target_kbps=target_kbps,
            max_kbps=target_kbps,
            max_picture_size=target_kbps,
        )
    else:
        rc = RcAttr(
            mode=rcm,
            initial_qp=initial_qp,
            target_kbps=target_kbps,
            max_kbps=target_kbps * 4 // 3,
            max_picture_size=target_kbps,
        )
    gop = GopAttr(length=gop_length, max_same_scene=max_same_scene)
    return EncoderAttr(
        profile,
        width,
        height,
        (fps_num, fps_den),
        rc,
        gop,
        enc_tools=ENC_TOOL_LF | ENC_TOOL_LF_X_SLICE,
    )


def default_stream_buffer_size(attr: EncoderAttr) -> int:
    """Stream buffer bytes when the application does not call SetStreamBufSize.

    Room for two worst-case pictures (a quarter of the raw NV12 size each, far above what an
    IDR or a JPEG of a camera scene takes) and for at least 4 s of video at the peak bit rate,
    so a reader that falls a few seconds behind loses nothing.
    """
    raw = attr.width * attr.height * 3 // 2
    two_pictures = 2 * (raw // 4)
    if attr.is_jpeg:
        return _round_up(max(two_pictures, 64 * 1024), 4096)
    peak_kbps = max(attr.rc.target_kbps, attr.rc.max_kbps)
    four_seconds = 4 * peak_kbps * 1000 // 8
    return _round_up(max(two_pictures, four_seconds, 64 * 1024), 4096)


def _round_up(value: int, align: int) -> int:
    return (value + align - 1) // align * align


__all__ = [
    "PROFILE_AVC_BASELINE",
    "PROFILE_AVC_HIGH",
    "PROFILE_AVC_MAIN",
    "PROFILE_HEVC_MAIN",
    "PROFILE_JPEG",
    "EncoderAttr",
    "GopAttr",
    "RcAttr",
    "check_qp_bounds",
    "default_attr",
    "default_stream_buffer_size",
    "rc_mode",
]
