"""``IMP_Encoder_*`` run-time coding parameters (frame rate, bit rate, GOP, QP, entropy mode)
and what a channel reports about its coding (encoding type, average bit rate, evaluation
record); re-exported by :mod:`imp.capi.encoder`, which keeps the channel life cycle and streams.
"""

from __future__ import annotations

import ctypes
from dataclasses import replace
from typing import Any

from imp.capi._common import c_function, check_int, deref, scalar_out
from imp.capi._encoder_structs import gop_from_c, gop_to_c, rc_from_c, rc_to_c
from imp.codec import CodecType
from imp.encoder import attr as _attr
from imp.encoder.channel import EncoderChannel
from imp.encoder.module import get_encoder
from imp.encoder.picture import StoredPicture
from imp.errors import InvalidArgument, InvalidState
from imp.types import IMPEncoderAttrRcMode, IMPEncoderFrmRate, IMPEncoderGopAttr, IMPEncoderStream

__all__ = [
    "IMP_Encoder_GetChnAttrRcMode",
    "IMP_Encoder_GetChnAveBitrate",
    "IMP_Encoder_GetChnEncType",
    "IMP_Encoder_GetChnEvalInfo",
    "IMP_Encoder_GetChnFrmRate",
    "IMP_Encoder_GetChnGopAttr",
    "IMP_Encoder_SetChnAttrRcMode",
    "IMP_Encoder_SetChnBitRate",
    "IMP_Encoder_SetChnEntropyMode",
    "IMP_Encoder_SetChnFrmRate",
    "IMP_Encoder_SetChnGopAttr",
    "IMP_Encoder_SetChnGopLength",
    "IMP_Encoder_SetChnQp",
    "IMP_Encoder_SetChnQpBounds",
    "IMP_Encoder_SetChnQpIPDelta",
    "IMP_Encoder_SetFrameRelease",
]

_ENC = get_encoder
# Bit rates the vendor structs give in kbit/s; the English 1.1.6 header says SetChnBitRate takes
# bit/s while the Chinese one says kbit/s. A T31 never encodes 100 Mbit/s, so larger values can
# only be bit/s.
_BITS_PER_SECOND_ABOVE = 100_000


class EncoderEvalInfo(ctypes.Structure):
    """The 36-byte record ``IMP_Encoder_GetChnEvalInfo(chn, void *info)`` writes (1.1.6):
    ``IMPEncoderStreamInfo`` without ``iNumBytes``, padded. Not declared in the headers."""

    _fields_ = [
        ("uNumIntra", ctypes.c_uint32),
        ("uNumSkip", ctypes.c_uint32),
        ("uNumCU8x8", ctypes.c_uint32),
        ("uNumCU16x16", ctypes.c_uint32),
        ("uNumCU32x32", ctypes.c_uint32),
        ("uNumCU64x64", ctypes.c_uint32),
        ("iSliceQP", ctypes.c_int16),
        ("iMinQP", ctypes.c_int16),
        ("iMaxQP", ctypes.c_int16),
        ("_pad", ctypes.c_uint8 * 6),
    ]


# -- conversions ---------------------------------------------------------------------------------
def _chn(encChn: Any) -> EncoderChannel:
    return _ENC().channel(check_int(encChn, "encChn"))


def _kbps(value: int) -> int:
    if value >= _BITS_PER_SECOND_ABOVE:
        return max(1, value // 1000)
    return value


def _intra_blocks(a: _attr.EncoderAttr, picture: StoredPicture) -> int:
    return (a.width // 8) * (a.height // 8) if picture.keyframe else 0


def _slice_qp(a: _attr.EncoderAttr, picture: StoredPicture) -> int:
    if picture.qp is not None:
        return round(picture.qp)
    if a.rc.initial_qp >= 0:
        return a.rc.initial_qp
    return _attr.AUTO_QP


# -- run-time parameters -------------------------------------------------------------------------
@c_function()
def IMP_Encoder_SetChnEntropyMode(encChn: int, eEntropyMode: int) -> int:
    chn = _ENC().check_chn(check_int(encChn, "encChn"))
    mode = check_int(eEntropyMode, "eEntropyMode")
    if mode not in (1, 2):
        raise InvalidArgument(f"eEntropyMode {mode} must be CAVLC (1) or CABAC (2)")
    ch = _ENC().channels.get(chn)
    if ch is not None and ch.attr.codec is not CodecType.H264:
        raise InvalidArgument(f"SetChnEntropyMode({chn}): H.264 channels only")
    _ENC().prefs(chn).entropy_mode = mode
    return 0


@c_function()
def IMP_Encoder_SetFrameRelease(encChn: int, num: int, den: int) -> int:
    ch = _chn(encChn)
    n, d = check_int(num, "num"), check_int(den, "den")
    if n <= 0 or d <= 0:
        raise InvalidArgument(f"SetFrameRelease({ch.chn}): num/den {n}/{d} must be positive")
    _ENC().prefs(ch.chn).frame_release = (n, d)
    return 0


# -- rate control and GOP ------------------------------------------------------------------------
@c_function()
def IMP_Encoder_GetChnFrmRate(encChn: int, pstFps: Any) -> int:
    out = deref(pstFps, IMPEncoderFrmRate, "pstFps")
    out.frmRateNum, out.frmRateDen = _chn(encChn).attr.fps
    return 0


@c_function()
def IMP_Encoder_SetChnFrmRate(encChn: int, pstFps: Any) -> int:
    ch = _chn(encChn)
    fps = deref(pstFps, IMPEncoderFrmRate, "pstFps")
    num, den = int(fps.frmRateNum), int(fps.frmRateDen)
    if num <= 0 or den <= 0:
        raise InvalidArgument(f"SetChnFrmRate({ch.chn}): {num}/{den} must be positive")
    ch.set_fps((num, den))
    return 0


@c_function()
def IMP_Encoder_SetChnBitRate(encChn: int, iTargetBitRate: int, iMaxBitRate: int) -> int:
    """kbit/s as the structs (values >= 100000 are taken as bit/s, see the module notes)."""
    ch = _chn(encChn)
    target = _kbps(check_int(iTargetBitRate, "iTargetBitRate"))
    peak = _kbps(check_int(iMaxBitRate, "iMaxBitRate"))
    ch.set_bitrate(target, peak)
    return 0


@c_function()
def IMP_Encoder_SetChnGopLength(encChn: int, iGopLength: int) -> int:
    _chn(encChn).set_gop_length(check_int(iGopLength, "iGopLength"))
    return 0


@c_function()
def IMP_Encoder_GetChnAttrRcMode(encChn: int, pstRcModeCfg: Any) -> int:
    out = deref(pstRcModeCfg, IMPEncoderAttrRcMode, "pstRcModeCfg")
    rc_to_c(_chn(encChn).attr.rc, out)
    return 0


@c_function()
def IMP_Encoder_SetChnAttrRcMode(encChn: int, pstRcModeCfg: Any) -> int:
    """Takes effect from the next IDR of the GOP, as in the vendor library."""
    ch = _chn(encChn)
    m = deref(pstRcModeCfg, IMPEncoderAttrRcMode, "pstRcModeCfg")
    ch.set_rc(rc_from_c(m))
    return 0


@c_function()
def IMP_Encoder_GetChnGopAttr(encChn: int, pGopAttr: Any) -> int:
    out = deref(pGopAttr, IMPEncoderGopAttr, "pGopAttr")
    gop_to_c(_chn(encChn).attr.gop, out)
    return 0


@c_function()
def IMP_Encoder_SetChnGopAttr(encChn: int, pGopAttr: Any) -> int:
    ch = _chn(encChn)
    g = gop_from_c(deref(pGopAttr, IMPEncoderGopAttr, "pGopAttr"))
    ch.reconfigure(replace(ch.attr, gop=g))
    return 0


@c_function()
def IMP_Encoder_SetChnQp(encChn: int, iQP: int) -> int:
    _chn(encChn).set_qp(check_int(iQP, "iQP"))
    return 0


@c_function()
def IMP_Encoder_SetChnQpBounds(encChn: int, iMinQP: int, iMaxQP: int) -> int:
    _chn(encChn).set_qp_bounds(check_int(iMinQP, "iMinQP"), check_int(iMaxQP, "iMaxQP"))
    return 0


@c_function()
def IMP_Encoder_SetChnQpIPDelta(encChn: int, uIPDelta: int) -> int:
    _chn(encChn).set_ip_delta(check_int(uIPDelta, "uIPDelta"))
    return 0


@c_function()
def IMP_Encoder_GetChnEncType(encChn: int, encType: Any) -> int:
    """IMP_ENC_TYPE_AVC (0), IMP_ENC_TYPE_HEVC (1) or IMP_ENC_TYPE_JPEG (4)."""
    out = scalar_out(encType, "encType")
    out.value = _chn(encChn).attr.enc_type
    return 0


# -- measurements --------------------------------------------------------------------------------
@c_function()
def IMP_Encoder_GetChnAveBitrate(encChn: int, stream: Any, frames: int, br: Any) -> int:
    """``*br`` = kbit/s over the last ``frames`` pictures at the channel's frame rate."""
    ch = _chn(encChn)
    deref(stream, IMPEncoderStream, "stream")
    n = check_int(frames, "frames")
    out = scalar_out(br, "br")
    if not isinstance(out, ctypes.c_double | ctypes.c_float):
        raise InvalidArgument("br must be a ctypes.c_double (double *)")
    if n <= 0:
        raise InvalidArgument(f"frames {n} must be > 0 (a multiple of the GOP length)")
    if len(ch.meter) == 0:
        raise InvalidState(
            f"GetChnAveBitrate({ch.chn}): no picture encoded yet; call it after GetStream"
        )
    out.value = ch.meter.average_kbps(n, ch.attr.fps)
    return 0


def _info_target(info: Any) -> int:
    obj = getattr(info, "_obj", info)  # byref(x) -> x
    if isinstance(obj, bool) or obj is None:
        raise InvalidArgument("info is NULL; pass a 36-byte buffer (EncoderEvalInfo)")
    if isinstance(obj, int):
        if obj <= 0:
            raise InvalidArgument(f"info address {obj:#x} is not a pointer")
        return obj
    if isinstance(obj, ctypes._Pointer | ctypes.c_void_p):
        address = ctypes.cast(obj, ctypes.c_void_p).value
        if not address:
            raise InvalidArgument("info is NULL")
        return address
    if isinstance(obj, ctypes.Structure | ctypes.Union | ctypes.Array):
        if ctypes.sizeof(obj) < ctypes.sizeof(EncoderEvalInfo):
            raise InvalidArgument(
                f"info holds {ctypes.sizeof(obj)} bytes; GetChnEvalInfo writes "
                f"{ctypes.sizeof(EncoderEvalInfo)}"
            )
        return ctypes.addressof(obj)
    raise InvalidArgument(
        f"info must be a ctypes buffer of >= 36 bytes (EncoderEvalInfo), got {type(obj).__name__}"
    )


@c_function()
def IMP_Encoder_GetChnEvalInfo(encChn: int, info: Any) -> int:
    """``int IMP_Encoder_GetChnEvalInfo(int encChn, void *info)``: the 36-byte evaluation record
    (:class:`EncoderEvalInfo`) of the picture the last GetStream returned."""
    ch = _chn(encChn)
    address = _info_target(info)
    picture = ch.last_taken
    if picture is None:
        raise InvalidState(f"GetChnEvalInfo({ch.chn}): call it after GetStream")
    record = EncoderEvalInfo()
    a = ch.attr
    record.uNumIntra = _intra_blocks(a, picture)
    record.uNumCU8x8 = (a.width // 8) * (a.height // 8)
    qp = a.jpeg_quality if a.is_jpeg else _slice_qp(a, picture)
    record.iSliceQP = record.iMinQP = record.iMaxQP = qp
    ctypes.memmove(address, ctypes.addressof(record), ctypes.sizeof(record))
    return 0
