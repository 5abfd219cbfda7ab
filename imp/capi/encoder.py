"""``IMP_Encoder_*`` (44 functions of 1.1.6).

Streams follow the 1.1.6 ABI: ``IMPEncoderStream.virAddr``/``phyAddr`` are the channel's stream
buffer in rmem (``streamSize`` bytes), ``pack`` points at an ``IMPEncoderPack`` array that stays
valid until ReleaseStream, and ``ctypes.string_at(s.virAddr + s.pack[i].offset, length)`` reads
pack ``i`` as C pointer arithmetic does.
"""

from __future__ import annotations

import ctypes
from typing import Any

from imp.capi._common import c_function, check_int, deref, log, scalar_out
from imp.capi._encoder_rc import *
from imp.capi._encoder_rc import EncoderEvalInfo as EncoderEvalInfo  # tests name it here
from imp.capi._encoder_rc import __all__ as _rc_all
from imp.capi._encoder_rc import _chn, _intra_blocks, _slice_qp
from imp.capi._encoder_structs import (
    attr_from_c,
    attr_to_c,
)
from imp.encoder import attr as _attr
from imp.encoder.channel import EncoderChannel
from imp.encoder.module import NR_MAX_ENC_CHN_STREAM, get_encoder
from imp.encoder.picture import StoredPicture
from imp.errors import InvalidArgument, InvalidState
from imp.types import (
    IMPEncoderChnAttr,
    IMPEncoderChnStat,
    IMPEncoderPack,
    IMPEncoderStream,
)

__all__ = [
    "IMP_Encoder_CreateChn",
    "IMP_Encoder_CreateGroup",
    "IMP_Encoder_DestroyChn",
    "IMP_Encoder_DestroyGroup",
    "IMP_Encoder_FlushStream",
    "IMP_Encoder_GetChnAttr",
    "IMP_Encoder_GetFd",
    "IMP_Encoder_GetFisheyeEnableStatus",
    "IMP_Encoder_GetMaxStreamCnt",
    "IMP_Encoder_GetPool",
    "IMP_Encoder_GetStream",
    "IMP_Encoder_GetStreamBufSize",
    "IMP_Encoder_PollingModuleStream",
    "IMP_Encoder_PollingStream",
    "IMP_Encoder_Query",
    "IMP_Encoder_RegisterChn",
    "IMP_Encoder_ReleaseStream",
    "IMP_Encoder_RequestIDR",
    "IMP_Encoder_SetChnResizeMode",
    "IMP_Encoder_SetDefaultParam",
    "IMP_Encoder_SetFisheyeEnableStatus",
    "IMP_Encoder_SetMaxStreamCnt",
    "IMP_Encoder_SetPool",
    "IMP_Encoder_SetStreamBufSize",
    "IMP_Encoder_SetbufshareChn",
    "IMP_Encoder_StartRecvPic",
    "IMP_Encoder_StopRecvPic",
    "IMP_Encoder_UnRegisterChn",
    *_rc_all,
]

_ENC = get_encoder
_U32_MAX = 0xFFFFFFFF
MAX_STREAM_BUF_SIZE = 64 << 20


# -- conversions ---------------------------------------------------------------------------------
def _u32(value: Any, what: str) -> int:
    v = check_int(value, what)
    if not 0 <= v <= _U32_MAX:
        raise InvalidArgument(f"{what} {v} is not a uint32_t")
    return v


def _timeout_ms(value: Any) -> float | None:
    # uint32_t milliseconds: (uint32_t)-1 is 49.7 days, i.e. "wait forever" in practice.
    ms = check_int(value, "timeoutMsec")
    if ms < 0 or ms >= _U32_MAX:
        return None
    return ms / 1000


# -- groups and channels -------------------------------------------------------------------------
@c_function()
def IMP_Encoder_CreateGroup(encGroup: int) -> int:
    """``int IMP_Encoder_CreateGroup(int encGroup)``; also completes a group that RegisterChn
    already used (prudynt registers first, usage.md §0 quirk 1)."""
    _ENC().create_group(check_int(encGroup, "encGroup"))
    return 0


@c_function()
def IMP_Encoder_DestroyGroup(encGroup: int) -> int:
    """Fails (-1) for a group never created, as the stock library (prudynt calls it)."""
    _ENC().destroy_group(check_int(encGroup, "encGroup"))
    return 0


@c_function()
def IMP_Encoder_SetDefaultParam(
    chnAttr: Any,
    profile: int,
    rcMode: int,
    uWidth: int,
    uHeight: int,
    frmRateNum: int,
    frmRateDen: int,
    uGopLength: int,
    uMaxSameSenceCnt: int,
    iInitialQP: int,
    uTargetBitRate: int,
) -> int:
    """Fill ``chnAttr`` completely (see :func:`imp.encoder.attr.default_attr`)."""
    out = deref(chnAttr, IMPEncoderChnAttr, "chnAttr")
    a = _attr.default_attr(
        check_int(profile, "profile"),
        check_int(rcMode, "rcMode"),
        check_int(uWidth, "uWidth"),
        check_int(uHeight, "uHeight"),
        check_int(frmRateNum, "frmRateNum"),
        check_int(frmRateDen, "frmRateDen"),
        check_int(uGopLength, "uGopLength"),
        check_int(uMaxSameSenceCnt, "uMaxSameSenceCnt"),
        check_int(iInitialQP, "iInitialQP"),
        check_int(uTargetBitRate, "uTargetBitRate"),
    )
    if not (0 < a.width <= 0xFFFF and 0 < a.height <= 0xFFFF):
        raise InvalidArgument(f"picture size {a.width}x{a.height} must fit uint16_t and be > 0")
    attr_to_c(a, out)
    return 0


@c_function()
def IMP_Encoder_CreateChn(encChn: int, attr: Any) -> int:
    """``int IMP_Encoder_CreateChn(int encChn, const IMPEncoderChnAttr *attr)``."""
    chn = check_int(encChn, "encChn")
    _ENC().create_channel(chn, attr_from_c(deref(attr, IMPEncoderChnAttr, "attr")))
    return 0


@c_function()
def IMP_Encoder_DestroyChn(encChn: int) -> int:
    _ENC().destroy_channel(check_int(encChn, "encChn"))
    return 0


@c_function()
def IMP_Encoder_GetChnAttr(encChn: int, attr: Any) -> int:
    out = deref(attr, IMPEncoderChnAttr, "attr")
    attr_to_c(_chn(encChn).attr, out)
    return 0


@c_function()
def IMP_Encoder_RegisterChn(encGroup: int, encChn: int) -> int:
    _ENC().register(check_int(encGroup, "encGroup"), check_int(encChn, "encChn"))
    return 0


@c_function()
def IMP_Encoder_UnRegisterChn(encChn: int) -> int:
    """Resets the channel: streams not released yet become invalid."""
    _ENC().unregister(check_int(encChn, "encChn"))
    return 0


@c_function()
def IMP_Encoder_StartRecvPic(encChn: int) -> int:
    _chn(encChn).start()
    return 0


@c_function()
def IMP_Encoder_StopRecvPic(encChn: int) -> int:
    """Idempotent; the stream buffer keeps its pictures."""
    ch = _chn(encChn)
    if not ch.registered:
        raise InvalidState(f"StopRecvPic({ch.chn}): the channel is not registered to a group")
    ch.stop()
    return 0


@c_function()
def IMP_Encoder_Query(encChn: int, stat: Any) -> int:
    out = deref(stat, IMPEncoderChnStat, "stat")
    q = _chn(encChn).query()
    out.registered = bool(q["registered"])
    out.leftPics, out.leftStreamBytes = q["leftPics"], q["leftStreamBytes"]
    out.leftStreamFrames, out.curPacks = q["leftStreamFrames"], q["curPacks"]
    out.work_done = q["work_done"]
    return 0


# -- streams -------------------------------------------------------------------------------------
def _fill_stream(ch: EncoderChannel, picture: StoredPicture, s: IMPEncoderStream) -> None:
    ring = ch.ring
    if ring.addr > _U32_MAX or ring.phys > _U32_MAX:
        raise InvalidState(
            f"stream buffer at {ring.addr:#x} does not fit the 32-bit virAddr field of the T31 ABI"
        )
    packs = (IMPEncoderPack * picture.pack_count)()
    for c_pack, p in zip(packs, picture.packs, strict=True):
        c_pack.offset, c_pack.length, c_pack.timestamp = p.offset, p.length, p.timestamp
        c_pack.frameEnd = p.frame_end
        c_pack.nalType.h264NalType = p.nal_type  # the union: same int for h265NalType
        c_pack.sliceType = p.slice_type
    picture.c_packs = packs  # the C caller's pointer stays valid until ReleaseStream
    ctypes.memset(ctypes.addressof(s), 0, ctypes.sizeof(s))
    s.phyAddr, s.virAddr, s.streamSize = ring.phys, ring.addr, ring.size
    s.pack = ctypes.cast(packs, ctypes.POINTER(IMPEncoderPack))
    s.packCount, s.seq, s.isVI = picture.pack_count, picture.seq & _U32_MAX, False
    a = ch.attr
    if a.is_jpeg:
        s.jpegInfo.iNumBytes, s.jpegInfo.iQPfactor = picture.size, a.jpeg_quality
    else:
        info = s.streamInfo
        info.iNumBytes = picture.size
        info.uNumIntra = _intra_blocks(a, picture)
        info.iSliceQP = info.iMinQP = info.iMaxQP = _slice_qp(a, picture)


@c_function()
def IMP_Encoder_GetStream(encChn: int, stream: Any, blockFlag: Any) -> int:
    """``int IMP_Encoder_GetStream(int encChn, IMPEncoderStream *stream, bool blockFlag)``:
    one picture; blockFlag 1 waits for it, 0 fails at once when none is ready."""
    ch = _chn(encChn)
    s = deref(stream, IMPEncoderStream, "stream")
    block = check_int(blockFlag, "blockFlag")
    picture = ch.take(None if block else 0)
    try:
        _fill_stream(ch, picture, s)
    except BaseException:
        ch.release(picture)
        raise
    return 0


@c_function()
def IMP_Encoder_ReleaseStream(encChn: int, stream: Any) -> int:
    """Any order (the stream buffer frees oldest first once the earlier ones are back); a stream
    released already or discarded by UnRegisterChn fails."""
    ch = _chn(encChn)
    s = deref(stream, IMPEncoderStream, "stream")
    ch.release(ch.find_taken(int(s.seq)))
    return 0


@c_function()
def IMP_Encoder_PollingStream(encChn: int, timeoutMsec: int) -> int:
    """0 when a stream is ready, -1 on timeout ((uint32_t)-1 waits forever)."""
    ch = _chn(encChn)
    if ch.poll(_timeout_ms(timeoutMsec)):
        return 0
    log.debug("IMP_Encoder_PollingStream(%d): timeout", ch.chn)
    return -1


@c_function()
def IMP_Encoder_PollingModuleStream(encChnBitmap: Any, timeoutMsec: int) -> int:
    """Sets bit n of ``*encChnBitmap`` for each channel n with a stream ready; -1 on timeout."""
    out = scalar_out(encChnBitmap, "encChnBitmap")
    timeout = _timeout_ms(timeoutMsec)
    bitmap = _ENC().poll_module(timeout)
    out.value = bitmap
    return 0 if bitmap else -1


@c_function()
def IMP_Encoder_GetFd(encChn: int) -> int:
    """A real fd, readable (select/poll) while the channel has streams ready."""
    return _chn(encChn).fd()


@c_function()
def IMP_Encoder_RequestIDR(encChn: int) -> int:
    ch = _chn(encChn)
    if ch.attr.is_jpeg:
        raise InvalidArgument(f"RequestIDR({ch.chn}): only H.264/H.265 channels have IDRs")
    ch.request_idr()
    return 0


@c_function()
def IMP_Encoder_FlushStream(encChn: int) -> int:
    """Discard the streams not fetched yet; encoding restarts with an IDR."""
    _chn(encChn).flush()
    return 0


# -- settings kept per channel number ------------------------------------------------------------
@c_function()
def IMP_Encoder_SetbufshareChn(encChn: int, shareChn: int) -> int:
    """JPEG channel ``encChn`` shares ``shareChn``'s buffers: accepted (prudynt calls it before
    either channel exists); each channel keeps its own stream buffer here."""
    chn = _ENC().check_chn(check_int(encChn, "encChn"))
    share = _ENC().check_chn(check_int(shareChn, "shareChn"))
    if chn == share:
        raise InvalidArgument(f"SetbufshareChn: a channel cannot share with itself ({chn})")
    _ENC().prefs(chn).share_with = share
    return 0


@c_function()
def IMP_Encoder_SetChnResizeMode(encChn: int, en: int) -> int:
    chn = _ENC().check_chn(check_int(encChn, "encChn"))
    value = check_int(en, "en")
    if value not in (0, 1):
        raise InvalidArgument(f"SetChnResizeMode: en must be 0 or 1, got {value}")
    _ENC().prefs(chn).resize_mode = value
    return 0


@c_function()
def IMP_Encoder_SetMaxStreamCnt(encChn: int, nrMaxStream: int) -> int:
    chn = _ENC().check_chn(check_int(encChn, "encChn"))
    n = check_int(nrMaxStream, "nrMaxStream")
    if not 1 <= n <= NR_MAX_ENC_CHN_STREAM:
        raise InvalidArgument(f"nrMaxStream {n} must be 1..{NR_MAX_ENC_CHN_STREAM}")
    _ENC().prefs(chn).max_stream_cnt = n
    return 0


@c_function()
def IMP_Encoder_GetMaxStreamCnt(encChn: int, nrMaxStream: Any) -> int:
    out = scalar_out(nrMaxStream, "nrMaxStream")
    out.value = _ENC().prefs(check_int(encChn, "encChn")).max_stream_cnt
    return 0


@c_function()
def IMP_Encoder_SetFisheyeEnableStatus(encChn: int, enable: int) -> int:
    """``int IMP_Encoder_SetFisheyeEnableStatus(int encChn, int enable)``: the header defines a
    status flag and nothing else (no lens model, no correction parameters), so that is what is
    kept: GetFisheyeEnableStatus reports it; pictures are encoded as they come (logged)."""
    chn = _ENC().check_chn(check_int(encChn, "encChn"))
    value = check_int(enable, "enable")
    if value not in (0, 1):
        raise InvalidArgument(f"SetFisheyeEnableStatus: enable must be 0 or 1, got {value}")
    if value:
        log.warning(
            "IMP_Encoder_SetFisheyeEnableStatus(%d, 1): flag set; libimp 1.1.6 defines no "
            "fisheye correction parameters, pictures are encoded unchanged",
            chn,
        )
    _ENC().prefs(chn).fisheye = value
    return 0


@c_function()
def IMP_Encoder_GetFisheyeEnableStatus(encChn: int, enable: Any) -> int:
    out = scalar_out(enable, "enable")
    out.value = _ENC().prefs(check_int(encChn, "encChn")).fisheye
    return 0


@c_function()
def IMP_Encoder_SetPool(chnNum: int, poolID: int) -> int:
    chn = _ENC().check_chn(check_int(chnNum, "chnNum"))
    pool = check_int(poolID, "poolID")
    if not 0 <= pool < 32:
        raise InvalidArgument(f"poolID {pool} must be 0..31")
    _ENC().prefs(chn).pool_id = pool
    return 0


@c_function()
def IMP_Encoder_GetPool(chnNum: int) -> int:
    """The pool set with SetPool, -1 if none."""
    return _ENC().prefs(check_int(chnNum, "chnNum")).pool_id


@c_function()
def IMP_Encoder_SetStreamBufSize(encChn: int, nrStreamSize: int) -> int:
    """Before CreateChn: the size of the channel's stream buffer in bytes."""
    chn = _ENC().check_chn(check_int(encChn, "encChn"))
    size = _u32(nrStreamSize, "nrStreamSize")
    if not 4096 <= size <= MAX_STREAM_BUF_SIZE:
        raise InvalidArgument(f"nrStreamSize {size} must be 4096..{MAX_STREAM_BUF_SIZE} bytes")
    if chn in _ENC().channels:
        raise InvalidState(f"SetStreamBufSize({chn}): call it before CreateChn({chn})")
    _ENC().prefs(chn).stream_buf_size = size
    return 0


@c_function()
def IMP_Encoder_GetStreamBufSize(encChn: int, nrStreamSize: Any) -> int:
    out = scalar_out(nrStreamSize, "nrStreamSize")
    out.value = _chn(encChn).ring.size
    return 0
