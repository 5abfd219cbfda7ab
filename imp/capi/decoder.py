"""``IMP_Decoder_*`` (8 functions of imp_decoder.h): H.264 and JPEG in, NV12 frames out."""

from __future__ import annotations

import ctypes
from typing import Any

from imp.capi._common import c_function, check_int, deref, point_to
from imp.capi.framesource import FrameInfos, fill_frame_info
from imp.decoder.attr import DecoderAttr, codec_of_payload
from imp.decoder.module import get_decoder
from imp.errors import InvalidArgument
from imp.types import IMPDecoderCHNAttr, IMPDecoderStream, IMPFrameInfo

__all__ = [
    "IMP_Decoder_CreateChn",
    "IMP_Decoder_DestroyChn",
    "IMP_Decoder_GetFrame",
    "IMP_Decoder_PollingFrame",
    "IMP_Decoder_ReleaseFrame",
    "IMP_Decoder_SendStreamTimeout",
    "IMP_Decoder_StartRecvPic",
    "IMP_Decoder_StopRecvPic",
]

# IMPFrameInfo handed to C callers, one per outstanding GetFrame (kept alive until released).
_infos = FrameInfos()


def _timeout_ms(value: Any) -> float:
    ms = check_int(value, "timeoutMsec")
    if ms < 0:
        raise InvalidArgument(f"timeoutMsec {ms} must be >= 0 (uint32_t)")
    return ms / 1000.0


@c_function()
def IMP_Decoder_CreateChn(decChn: int, attr: Any) -> int:
    """``int IMP_Decoder_CreateChn(int decChn, const IMPDecoderCHNAttr *attr)``."""
    chn = check_int(decChn, "decChn")
    a = deref(attr, IMPDecoderCHNAttr, "attr").decAttr
    get_decoder().create(
        chn,
        DecoderAttr(
            codec=codec_of_payload(int(a.decType)),
            max_width=int(a.maxWidth),
            max_height=int(a.maxHeight),
            pixfmt=int(a.pixelFormat),
            nr_keep_stream=int(a.nrKeepStream),
            fps=(int(a.frmRateNum), int(a.frmRateDen)),
        ),
    )
    return 0


@c_function()
def IMP_Decoder_DestroyChn(decChn: int) -> int:
    """``int IMP_Decoder_DestroyChn(int decChn)``: stops receiving first if needed."""
    get_decoder().destroy(check_int(decChn, "decChn"))
    return 0


@c_function()
def IMP_Decoder_StartRecvPic(decChn: int) -> int:
    """``int IMP_Decoder_StartRecvPic(int decChn)``."""
    get_decoder().channel(check_int(decChn, "decChn")).start()
    return 0


@c_function()
def IMP_Decoder_StopRecvPic(decChn: int) -> int:
    """``int IMP_Decoder_StopRecvPic(int decChn)``: queued units are dropped."""
    get_decoder().channel(check_int(decChn, "decChn")).stop()
    return 0


@c_function()
def IMP_Decoder_SendStreamTimeout(decChn: int, stream: Any, timeoutMsec: int) -> int:
    """``int IMP_Decoder_SendStreamTimeout(int decChn, IMPDecoderStream *stream,
    uint32_t timeoutMsec)``: one access unit (H.264 Annex-B with its parameter sets before an
    IDR, or one JPEG file) at ``p_payload``/``i_payload``, stamped ``timeStamp``."""
    ch = get_decoder().channel(check_int(decChn, "decChn"))
    nal = deref(stream, IMPDecoderStream, "stream").decoderNal
    size = int(nal.i_payload)
    if size <= 0:
        raise InvalidArgument(f"stream i_payload {size} must be > 0")
    if not nal.p_payload:
        raise InvalidArgument("stream p_payload is NULL")
    data = ctypes.string_at(nal.p_payload, size)
    ch.send(data, int(nal.timeStamp), _timeout_ms(timeoutMsec))
    return 0


@c_function()
def IMP_Decoder_PollingFrame(decChn: int, timeoutMsec: int) -> int:
    """``int IMP_Decoder_PollingFrame(int decChn, uint32_t timeoutMsec)``: 0 once a decoded
    frame is ready for GetFrame, -1 on timeout."""
    get_decoder().channel(check_int(decChn, "decChn")).poll(_timeout_ms(timeoutMsec))
    return 0


@c_function()
def IMP_Decoder_GetFrame(decChn: int, frame: Any) -> int:
    """``int IMP_Decoder_GetFrame(int decChn, IMPFrameInfo **frame)``: the oldest decoded frame
    (NV12 in rmem at ``virAddr``/``phyAddr``); give it back with ReleaseFrame."""
    ch = get_decoder().channel(check_int(decChn, "decChn"))
    if frame is None:
        raise InvalidArgument("frame is NULL; pass a ctypes.POINTER(IMPFrameInfo)()")
    got = ch.get_frame()
    info = IMPFrameInfo()
    fill_frame_info(got, info)
    try:
        point_to(frame, info, "frame")
    except Exception:
        ch.release_frame(got)
        raise
    _infos.keep(info)
    return 0


@c_function()
def IMP_Decoder_ReleaseFrame(decChn: int, frame: Any) -> int:
    """``int IMP_Decoder_ReleaseFrame(int decChn, IMPFrameInfo *frame)``."""
    ch = get_decoder().channel(check_int(decChn, "decChn"))
    info = deref(frame, IMPFrameInfo, "frame")
    got, generation = ch.find_user_frame(int(info.index), int(info.phyAddr), int(info.timeStamp))
    ch.release_frame(got, generation)
    _infos.released(info)
    return 0
