"""Decoder sample: a recorded H.264 clip decoded, drawn on with OSD and encoded again.

Not a vendor sample (the SDK has none for the decoder); it uses the vendor call order. Without
``--input`` it first records ``--frames`` pictures of the 640x360 channel as H.264 (``clip.h264``).
Then: ``IMP_Decoder_CreateChn(0, H264 640x360)``, an OSD group with a half-transparent cover and
a green rectangle, an H.264 encoder, ``Bind DEC(0) -> OSD(0) -> ENC(0)``; every access unit of
the clip (split by FFmpeg's H.264 parser) goes in with ``IMP_Decoder_SendStreamTimeout``, and
every picture comes out of the encoder into ``decoded-osd.h264``. The decoder hands a picture on
once the OSD and encoder are done with the previous one, so no picture is lost.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import sys

from imp.capi import (
    DEV_ID_DEC,
    DEV_ID_ENC,
    DEV_ID_FS,
    DEV_ID_OSD,
    IMP_ENC_PROFILE_AVC_HIGH,
    IMP_ENC_RC_MODE_CBR,
    OSD_BLACK,
    OSD_GREEN,
    OSD_REG_COVER,
    OSD_REG_RECT,
    PIX_FMT_BGRA,
    PIX_FMT_MONOWHITE,
    PIX_FMT_NV12,
    PT_H264,
    IMP_Decoder_CreateChn,
    IMP_Decoder_DestroyChn,
    IMP_Decoder_SendStreamTimeout,
    IMP_Decoder_StartRecvPic,
    IMP_Decoder_StopRecvPic,
    IMP_Encoder_CreateChn,
    IMP_Encoder_CreateGroup,
    IMP_Encoder_DestroyChn,
    IMP_Encoder_DestroyGroup,
    IMP_Encoder_GetStream,
    IMP_Encoder_PollingStream,
    IMP_Encoder_RegisterChn,
    IMP_Encoder_ReleaseStream,
    IMP_Encoder_SetDefaultParam,
    IMP_Encoder_StartRecvPic,
    IMP_Encoder_StopRecvPic,
    IMP_Encoder_UnRegisterChn,
    IMP_FrameSource_CreateChn,
    IMP_FrameSource_DestroyChn,
    IMP_FrameSource_DisableChn,
    IMP_FrameSource_EnableChn,
    IMP_OSD_CreateGroup,
    IMP_OSD_CreateRgn,
    IMP_OSD_DestroyGroup,
    IMP_OSD_DestroyRgn,
    IMP_OSD_GetGrpRgnAttr,
    IMP_OSD_RegisterRgn,
    IMP_OSD_SetGrpRgnAttr,
    IMP_OSD_SetRgnAttr,
    IMP_OSD_ShowRgn,
    IMP_OSD_Start,
    IMP_OSD_Stop,
    IMP_OSD_UnRegisterRgn,
    IMP_System_Bind,
    IMP_System_UnBind,
    IMPCell,
    IMPDecoderCHNAttr,
    IMPDecoderStream,
    IMPEncoderChnAttr,
    IMPEncoderStream,
    IMPOSDGrpRgnAttr,
    IMPOSDRgnAttr,
)
from imp.samples import common
from imp.samples import encoder_common as enc
from imp.samples.common import SampleError, check

W, H = 640, 360
FPS = common.SENSOR_FRAME_RATE_NUM
PERIOD_US = 1_000_000 // FPS
SRC_CHN = 2  # the 640x360 channel of the chn[] table
DEC_CHN = OSD_GRP = ENC_GRP = ENC_CHN = 0
SEND_TIMEOUT_MS = 2000
COVER_RECT = (400, 40, 599, 139)
RECT_RECT = (40, 200, 239, 319)


def _h264_attr(kbps: int) -> IMPEncoderChnAttr:
    attr = IMPEncoderChnAttr()
    check(
        IMP_Encoder_SetDefaultParam(
            attr, IMP_ENC_PROFILE_AVC_HIGH, IMP_ENC_RC_MODE_CBR, W, H, FPS, 1, enc.GOP, 2, -1, kbps
        ),
        "IMP_Encoder_SetDefaultParam",
    )
    return attr


def _encoder_init() -> None:
    check(IMP_Encoder_CreateGroup(ENC_GRP), "IMP_Encoder_CreateGroup")
    check(IMP_Encoder_CreateChn(ENC_CHN, _h264_attr(enc.bitrate_kbps(W, H))), "CreateChn")
    check(IMP_Encoder_RegisterChn(ENC_GRP, ENC_CHN), "IMP_Encoder_RegisterChn")


def _encoder_exit() -> None:
    check(IMP_Encoder_UnRegisterChn(ENC_CHN), "IMP_Encoder_UnRegisterChn")
    check(IMP_Encoder_DestroyChn(ENC_CHN), "IMP_Encoder_DestroyChn")
    check(IMP_Encoder_DestroyGroup(ENC_GRP), "IMP_Encoder_DestroyGroup")


def record(path: str, frames: int) -> None:
    """The clip: ``frames`` pictures of channel 2 as H.264 (FS(2) -> ENC)."""
    chns = common.default_channels()
    conf = chns[SRC_CHN]
    check(IMP_FrameSource_CreateChn(SRC_CHN, conf.attr), "IMP_FrameSource_CreateChn")
    _encoder_init()
    src, dst = IMPCell(DEV_ID_FS, SRC_CHN, 0), IMPCell(DEV_ID_ENC, ENC_GRP, 0)
    check(IMP_System_Bind(src, dst), "IMP_System_Bind")
    check(IMP_FrameSource_EnableChn(SRC_CHN), "IMP_FrameSource_EnableChn")
    check(IMP_Encoder_StartRecvPic(ENC_CHN), "IMP_Encoder_StartRecvPic")
    written = 0
    with open(path, "wb") as out:
        # a loaded machine may time a poll out: try again
        for _ in common.until_stopped(frames * 3):
            if written == frames:
                break
            if IMP_Encoder_PollingStream(ENC_CHN, enc.POLL_TIMEOUT_MS) < 0:
                continue
            stream = IMPEncoderStream()
            check(IMP_Encoder_GetStream(ENC_CHN, stream, True), "IMP_Encoder_GetStream")
            enc.save_stream(out, stream)
            written += 1
            check(IMP_Encoder_ReleaseStream(ENC_CHN, stream), "IMP_Encoder_ReleaseStream")
    check(IMP_Encoder_StopRecvPic(ENC_CHN), "IMP_Encoder_StopRecvPic")
    check(IMP_FrameSource_DisableChn(SRC_CHN), "IMP_FrameSource_DisableChn")
    check(IMP_System_UnBind(src, dst), "IMP_System_UnBind")
    _encoder_exit()
    check(IMP_FrameSource_DestroyChn(SRC_CHN), "IMP_FrameSource_DestroyChn")
    if written != frames:
        raise SampleError(f"recorded {written} of {frames} pictures")


def access_units(path: str) -> list[bytes]:
    """The clip's access units, split by FFmpeg's H.264 parser."""
    import av

    ctx = av.CodecContext.create("h264", "r")
    with open(path, "rb") as f:
        data = f.read()
    packets = ctx.parse(data) + ctx.parse(b"")  # the empty call flushes the last unit
    return [bytes(p) for p in packets]


def _region(kind: int, fmt: int, rect: tuple[int, int, int, int], colour: int) -> int:
    h = IMP_OSD_CreateRgn(None)
    if h < 0:
        raise SampleError("IMP_OSD_CreateRgn failed")
    check(IMP_OSD_RegisterRgn(h, OSD_GRP, None), f"IMP_OSD_RegisterRgn({h})")
    attr = IMPOSDRgnAttr()
    attr.type, attr.fmt = kind, fmt
    attr.rect.p0.x, attr.rect.p0.y, attr.rect.p1.x, attr.rect.p1.y = rect
    if kind == OSD_REG_COVER:
        attr.data.coverData.color = colour
    else:
        attr.data.lineRectData.color, attr.data.lineRectData.linewidth = colour, 4
    check(IMP_OSD_SetRgnAttr(h, attr), f"IMP_OSD_SetRgnAttr({h})")
    gattr = IMPOSDGrpRgnAttr()
    check(IMP_OSD_GetGrpRgnAttr(h, OSD_GRP, gattr), f"IMP_OSD_GetGrpRgnAttr({h})")
    gattr.show, gattr.gAlphaEn, gattr.fgAlhpa = 1, 1, 0x7F if kind == OSD_REG_COVER else 0xFF
    gattr.scalex = gattr.scaley = 1.0
    check(IMP_OSD_SetGrpRgnAttr(h, OSD_GRP, gattr), f"IMP_OSD_SetGrpRgnAttr({h})")
    return h


def send(data: bytes, timestamp: int) -> None:
    buf = (ctypes.c_uint8 * len(data)).from_buffer_copy(data)
    stream = IMPDecoderStream()
    stream.decoderNal.i_payload = len(data)
    stream.decoderNal.p_payload = ctypes.cast(buf, ctypes.POINTER(ctypes.c_uint8))
    stream.decoderNal.timeStamp = timestamp
    check(IMP_Decoder_SendStreamTimeout(DEC_CHN, stream, SEND_TIMEOUT_MS), "SendStreamTimeout")


def transcode(clip: str, out_path: str) -> int:
    """Decode ``clip``, draw, encode into ``out_path``; returns the pictures written."""
    units = access_units(clip)
    dattr = IMPDecoderCHNAttr()
    d = dattr.decAttr
    d.decType, d.maxWidth, d.maxHeight, d.pixelFormat = PT_H264, W, H, PIX_FMT_NV12
    d.nrKeepStream, d.frmRateNum, d.frmRateDen = 2, FPS, 1
    check(IMP_Decoder_CreateChn(DEC_CHN, dattr), "IMP_Decoder_CreateChn")
    check(IMP_OSD_CreateGroup(OSD_GRP), "IMP_OSD_CreateGroup")
    regions = [
        _region(OSD_REG_COVER, PIX_FMT_BGRA, COVER_RECT, OSD_BLACK),
        _region(OSD_REG_RECT, PIX_FMT_MONOWHITE, RECT_RECT, OSD_GREEN),
    ]
    check(IMP_OSD_Start(OSD_GRP), "IMP_OSD_Start")
    _encoder_init()
    dec = IMPCell(DEV_ID_DEC, DEC_CHN, 0)
    osd = IMPCell(DEV_ID_OSD, OSD_GRP, 0)
    encoder = IMPCell(DEV_ID_ENC, ENC_GRP, 0)
    check(IMP_System_Bind(dec, osd), "IMP_System_Bind(DEC, OSD)")
    check(IMP_System_Bind(osd, encoder), "IMP_System_Bind(OSD, ENC)")
    check(IMP_Decoder_StartRecvPic(DEC_CHN), "IMP_Decoder_StartRecvPic")
    threads = common.Threads()
    written: list[int] = []
    threads.start(
        "get_video_stream",
        lambda: written.append(enc.get_video_stream(ENC_CHN, out_path, len(units))),
    )
    for i, unit in enumerate(units):
        send(unit, i * PERIOD_US)
    threads.join()
    check(IMP_Decoder_StopRecvPic(DEC_CHN), "IMP_Decoder_StopRecvPic")
    check(IMP_System_UnBind(osd, encoder), "IMP_System_UnBind(OSD, ENC)")
    check(IMP_System_UnBind(dec, osd), "IMP_System_UnBind(DEC, OSD)")
    _encoder_exit()
    check(IMP_OSD_Stop(OSD_GRP), "IMP_OSD_Stop")
    for h in regions:
        check(IMP_OSD_ShowRgn(h, OSD_GRP, 0), f"IMP_OSD_ShowRgn({h})")
        check(IMP_OSD_UnRegisterRgn(h, OSD_GRP), f"IMP_OSD_UnRegisterRgn({h})")
        IMP_OSD_DestroyRgn(h)
    check(IMP_OSD_DestroyGroup(OSD_GRP), "IMP_OSD_DestroyGroup")
    check(IMP_Decoder_DestroyChn(DEC_CHN), "IMP_Decoder_DestroyChn")
    threads.check()
    return written[0] if written else 0


def run(out_dir: str = ".", frames: int = 100, clip: str | None = None) -> list[str]:
    """Run the sample; returns the files written."""
    os.makedirs(out_dir, exist_ok=True)
    out = os.path.join(out_dir, "decoded-osd.h264")

    def body() -> list[str]:
        files = []
        source = clip
        if source is None:
            source = os.path.join(out_dir, "clip.h264")
            record(source, frames)
            files.append(source)
        n = transcode(source, out)
        common.log.info("%d pictures decoded, drawn on and encoded again", n)
        return [*files, out]

    return common.run_sample(body)


def add_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--input", help="an H.264 Annex-B clip (default: record one first)")
    p.add_argument("--frames", type=int, default=100, help="pictures to record (no --input)")


def main(argv: list[str] | None = None) -> int:
    return common.sample_main(
        __doc__,
        lambda args: run(args.out, args.frames, args.input),
        add_args,
        name="sample-Decoder",
        argv=argv,
    )


if __name__ == "__main__":
    sys.exit(main())
