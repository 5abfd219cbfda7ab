"""What the Pythonic layer costs: FS -> OSD -> H.264 -> Mp4Output, Pythonic vs ``imp.capi``.

    .venv/bin/python bench/pipeline_overhead.py [--frames 300] [--runs 3]

Both graphs are the same (1080p FrameSource channel, an OSD group with one cover region, an
H.264 channel, every picture written to an ``Mp4Output``) on the simulator's virtual clock with
the null codec backend, so the codec does not drown the difference. The figure is process CPU
time per frame (all threads: sensor simulation, OSD, encoder, muxer, reader; from before the
System is initialised to the last picture written, so set-up counts on both sides); the best of
``--runs`` runs is kept for each. Target: the Pythonic graph <= 0.3 ms/frame above the C-style one.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
os.environ.setdefault("IMP_PLATFORM", "sim")
os.environ["IMP_ENC_BACKEND"] = "null"

import imp
from imp.capi import (
    IMP_ENC_PROFILE_AVC_HIGH,
    IMP_ENC_RC_MODE_CBR,
    OSD_BLACK,
    OSD_REG_COVER,
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
    IMP_OSD_Start,
    IMP_OSD_UnRegisterRgn,
    IMP_System_Bind,
    IMP_System_UnBind,
    IMPCell,
    IMPEncoderChnAttr,
    IMPEncoderStream,
    IMPFSChnAttr,
    IMPOSDGrpRgnAttr,
    IMPOSDRgnAttr,
)
from imp.output import Mp4Output, Packet
from imp.samples.common import system_exit, system_init

W, H = 1920, 1080
DEV_FS, DEV_ENC, DEV_OSD = 0, 1, 4


def pythonic(frames: int, path: str) -> float:
    imp.kernel.sim_overrides(clock="virtual")
    t0 = time.process_time()
    with imp.open() as cam:
        main = cam.framesource(size=(W, H))
        osd = cam.overlay(main)
        osd.cover((100, 100, 200, 100), colour=0xFF000000)
        cam.encoder(osd, imp.H264(bitrate_kbps=2000), output=Mp4Output(path))
        cam.run(seconds=frames / 25, timeout=600)
        return time.process_time() - t0


def _check(ret: int, what: str) -> None:
    if ret < 0:
        raise RuntimeError(f"{what} failed")


def capi(frames: int, path: str) -> float:
    imp.kernel.sim_overrides(clock="virtual")
    t0 = time.process_time()
    system_init()
    try:
        fs = IMPFSChnAttr()
        fs.pixFmt, fs.picWidth, fs.picHeight, fs.nrVBs = 10, W, H, 4
        fs.outFrmRateNum, fs.outFrmRateDen = 25, 1
        fs.crop.width, fs.crop.height = W, H
        _check(IMP_FrameSource_CreateChn(0, fs), "CreateChn")
        _check(IMP_OSD_CreateGroup(0), "OSD_CreateGroup")
        handle = IMP_OSD_CreateRgn(None)
        rgn = IMPOSDRgnAttr()
        rgn.type = OSD_REG_COVER
        rgn.rect.p0.x, rgn.rect.p0.y, rgn.rect.p1.x, rgn.rect.p1.y = 100, 100, 299, 199
        rgn.data.coverData.color = OSD_BLACK
        _check(IMP_OSD_SetRgnAttr(handle, rgn), "SetRgnAttr")
        _check(IMP_OSD_RegisterRgn(handle, 0, None), "RegisterRgn")
        gattr = IMPOSDGrpRgnAttr()
        _check(IMP_OSD_GetGrpRgnAttr(handle, 0, gattr), "GetGrpRgnAttr")
        gattr.show = 1
        _check(IMP_OSD_SetGrpRgnAttr(handle, 0, gattr), "SetGrpRgnAttr")
        _check(IMP_OSD_Start(0), "OSD_Start")
        attr = IMPEncoderChnAttr()
        _check(
            IMP_Encoder_SetDefaultParam(
                attr, IMP_ENC_PROFILE_AVC_HIGH, IMP_ENC_RC_MODE_CBR, W, H, 25, 1, 50, 2, -1, 2000
            ),
            "SetDefaultParam",
        )
        _check(IMP_Encoder_CreateGroup(0), "CreateGroup")
        _check(IMP_Encoder_CreateChn(0, attr), "Encoder_CreateChn")
        _check(IMP_Encoder_RegisterChn(0, 0), "RegisterChn")
        fs_cell, osd_cell, enc_cell = (
            IMPCell(DEV_FS, 0, 0),
            IMPCell(DEV_OSD, 0, 0),
            IMPCell(DEV_ENC, 0, 0),
        )
        _check(IMP_System_Bind(fs_cell, osd_cell), "Bind FS->OSD")
        _check(IMP_System_Bind(osd_cell, enc_cell), "Bind OSD->ENC")
        out = Mp4Output(path)
        _check(IMP_FrameSource_EnableChn(0), "EnableChn")
        _check(IMP_Encoder_StartRecvPic(0), "StartRecvPic")
        for seq in range(frames):
            _check(IMP_Encoder_PollingStream(0, 10_000), "PollingStream")
            stream = IMPEncoderStream()
            _check(IMP_Encoder_GetStream(0, stream, True), "GetStream")
            data = b"".join(
                ctypes.string_at(stream.virAddr + stream.pack[i].offset, stream.pack[i].length)
                for i in range(stream.packCount)
            )
            key = seq == 0 or any(
                stream.pack[i].nalType.h264NalType == 5 for i in range(stream.packCount)
            )
            out.write(Packet(data, stream.pack[0].timestamp, key, "h264", seq, "video", W, H))
            _check(IMP_Encoder_ReleaseStream(0, stream), "ReleaseStream")
        spent = time.process_time() - t0
        out.close()
        _check(IMP_Encoder_StopRecvPic(0), "StopRecvPic")
        _check(IMP_FrameSource_DisableChn(0), "DisableChn")
        _check(IMP_System_UnBind(osd_cell, enc_cell), "UnBind")
        _check(IMP_System_UnBind(fs_cell, osd_cell), "UnBind")
        _check(IMP_Encoder_UnRegisterChn(0), "UnRegisterChn")
        _check(IMP_Encoder_DestroyChn(0), "DestroyChn")
        _check(IMP_Encoder_DestroyGroup(0), "DestroyGroup")
        _check(IMP_OSD_UnRegisterRgn(handle, 0), "UnRegisterRgn")
        IMP_OSD_DestroyRgn(handle)
        _check(IMP_OSD_DestroyGroup(0), "OSD_DestroyGroup")
        _check(IMP_FrameSource_DestroyChn(0), "DestroyChn")
    finally:
        system_exit(strict=False)
    return spent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    best: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(args.runs):
            for name, fn in (("capi", capi), ("pythonic", pythonic)):
                spent = fn(args.frames, os.path.join(tmp, f"{name}{run}.mp4"))
                ms = 1000 * spent / args.frames
                best[name] = min(best.get(name, ms), ms)
                print(f"run {run} {name:9s} {ms:.3f} ms CPU/frame")
    extra = best["pythonic"] - best["capi"]
    print(
        f"best: capi {best['capi']:.3f} ms/frame, pythonic {best['pythonic']:.3f} ms/frame, "
        f"Pythonic layer {extra:+.3f} ms/frame (target <= +0.3)"
    )


if __name__ == "__main__":
    main()
