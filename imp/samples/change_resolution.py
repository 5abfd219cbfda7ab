"""Port of sample-Change-Resolution: record, switch the main stream to 720p, record again.

``python -m imp.samples.change_resolution SENSOR`` with SENSOR one of the C sample's list
(ov9712, ov9732, ov9750, ar0141, gc1004, jxh42, sc1035, sc1045, jxf23) or, in the simulator,
gc2053 (the C sample rejects it; the simulated gc2053 is 1920x1080 like jxf23).

Phase 1: FS channel 0 at the sensor size feeds group 0, which holds encoder channel 0 (HEVC,
2000 kbit/s) and channel 1 (H.264 640x480, 1000 kbit/s: the encoder downscales). Phase 2:
channel 0 becomes 1280x720, channel 1 moves to its own group 1 fed by FS channel 1 (640x480).
Each phase records ``--seconds`` (5) per channel into ``chn<c>-stream-<YYYYmmddIIMMSS>.h264``
(the extension is always h264, as in the C sample) in ``--out``.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from dataclasses import dataclass

from imp.capi import (
    DEV_ID_ENC,
    DEV_ID_FS,
    FS_PHY_CHANNEL,
    IMP_ENC_PROFILE_AVC_HIGH,
    IMP_ENC_PROFILE_HEVC_MAIN,
    IMP_ENC_RC_MODE_CBR,
    PIX_FMT_NV12,
    TX_SENSOR_CONTROL_INTERFACE_I2C,
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
    IMP_FrameSource_GetChnAttr,
    IMP_FrameSource_SetChnAttr,
    IMP_ISP_AddSensor,
    IMP_ISP_Close,
    IMP_ISP_DelSensor,
    IMP_ISP_DisableSensor,
    IMP_ISP_EnableSensor,
    IMP_ISP_EnableTuning,
    IMP_ISP_Open,
    IMP_System_Bind,
    IMP_System_Exit,
    IMP_System_Init,
    IMP_System_UnBind,
    IMPCell,
    IMPEncoderChnAttr,
    IMPEncoderStream,
    IMPFSChnAttr,
    IMPSensorInfo,
)
from imp.samples import common
from imp.samples.common import SampleError, check
from imp.samples.encoder_common import save_stream

SENSORS_720P = ("ov9712", "ov9732", "ov9750", "ar0141", "gc1004", "jxh42", "sc1035", "sc1045")
SENSORS_1080P = ("jxf23", "gc2053")  # gc2053: accepted in the simulator only (see the doc)
I2C_ADDR = {"gc2053": 0x37}  # the simulator does not check the others' addresses
DEFAULT_I2C_ADDR = 0x40
SUB_SIZE = (640, 480)
SWITCHED_SIZE = (1280, 720)
GOP = 50
POLL_TIMEOUT_MS = 1000


@dataclass
class Stream:
    chn: int
    profile: int
    size: tuple[int, int]
    kbps: int


def sensor_size(name: str) -> tuple[int, int]:
    if name in SENSORS_1080P:
        return (1920, 1080)
    if name in SENSORS_720P:
        return (1280, 720)
    raise SampleError(
        f"unknown sensor {name!r}: use one of {', '.join(SENSORS_720P + SENSORS_1080P)}"
    )


def _sensor_info(name: str) -> IMPSensorInfo:
    info = IMPSensorInfo()
    info.name = name.encode()
    info.cbus_type = TX_SENSOR_CONTROL_INTERFACE_I2C
    info.i2c.type = name.encode()
    info.i2c.addr = I2C_ADDR.get(name, DEFAULT_I2C_ADDR)
    return info


def _fs_attr(size: tuple[int, int], sensor: tuple[int, int]) -> IMPFSChnAttr:
    w, h = size
    a = IMPFSChnAttr()
    a.pixFmt = PIX_FMT_NV12
    a.outFrmRateNum, a.outFrmRateDen, a.nrVBs, a.type = 25, 1, 2, FS_PHY_CHANNEL
    a.crop.enable, a.crop.left, a.crop.top, a.crop.width, a.crop.height = 1, 0, 0, w, h
    if w < sensor[0] or h < sensor[1]:
        a.scaler.enable, a.scaler.outwidth, a.scaler.outheight = 1, w, h
    a.picWidth, a.picHeight = w, h
    return a


def _encoder(s: Stream, group: int, create_group: bool) -> None:
    attr = IMPEncoderChnAttr()
    w, h = s.size
    check(
        IMP_Encoder_SetDefaultParam(
            attr, s.profile, IMP_ENC_RC_MODE_CBR, w, h, 25, 1, GOP, 1, -1, s.kbps
        ),
        "IMP_Encoder_SetDefaultParam",
    )
    if create_group:
        check(IMP_Encoder_CreateGroup(group), f"IMP_Encoder_CreateGroup({group})")
    check(IMP_Encoder_CreateChn(s.chn, attr), f"IMP_Encoder_CreateChn({s.chn})")
    check(IMP_Encoder_RegisterChn(group, s.chn), f"IMP_Encoder_RegisterChn({group}, {s.chn})")


def _encoder_release(chn: int) -> None:
    check(IMP_Encoder_StopRecvPic(chn), f"IMP_Encoder_StopRecvPic({chn})")
    check(IMP_Encoder_UnRegisterChn(chn), f"IMP_Encoder_UnRegisterChn({chn})")
    check(IMP_Encoder_DestroyChn(chn), f"IMP_Encoder_DestroyChn({chn})")


def _capture(chn: int, path: str, stop: threading.Event) -> None:
    check(IMP_Encoder_StartRecvPic(chn), f"IMP_Encoder_StartRecvPic({chn})")
    with open(path, "wb") as out:
        while not stop.is_set():
            if IMP_Encoder_PollingStream(chn, POLL_TIMEOUT_MS) < 0:
                continue
            stream = IMPEncoderStream()
            check(IMP_Encoder_GetStream(chn, stream, True), f"IMP_Encoder_GetStream({chn})")
            save_stream(out, stream)
            check(IMP_Encoder_ReleaseStream(chn, stream), f"IMP_Encoder_ReleaseStream({chn})")


def _record(chns: list[int], out_dir: str, seconds: float) -> list[str]:
    """Both channels for ``seconds``, one thread each, into time-stamped files."""
    stamp = time.strftime("%Y%m%d%I%M%S")
    stop = threading.Event()
    paths = [os.path.join(out_dir, f"chn{c}-stream-{stamp}.h264") for c in chns]
    threads = common.Threads()
    for c, path in zip(chns, paths, strict=True):
        threads.start(f"capture{c}", _capture, c, path, stop)
    time.sleep(seconds)
    stop.set()
    threads.join()
    threads.check()
    return paths


def run(sensor: str, out_dir: str = ".", seconds: float = 5.0) -> list[str]:
    """Run the sample; returns the files written (phase 1's, then phase 2's)."""
    size = sensor_size(sensor)
    os.makedirs(out_dir, exist_ok=True)
    info = _sensor_info(sensor)
    check(IMP_ISP_Open(), "IMP_ISP_Open")
    check(IMP_ISP_AddSensor(info), "IMP_ISP_AddSensor")
    check(IMP_ISP_EnableSensor(), "IMP_ISP_EnableSensor")
    check(IMP_System_Init(), "IMP_System_Init")
    files: list[str] = []
    try:
        files = _phases(size, out_dir, seconds)
    except BaseException:
        IMP_System_Exit()
        IMP_ISP_DisableSensor()
        IMP_ISP_DelSensor(info)
        IMP_ISP_Close()
        raise
    check(IMP_System_Exit(), "IMP_System_Exit")
    check(IMP_ISP_DisableSensor(), "IMP_ISP_DisableSensor")
    check(IMP_ISP_DelSensor(info), "IMP_ISP_DelSensor")
    check(IMP_ISP_Close(), "IMP_ISP_Close")
    return files


def _phases(size: tuple[int, int], out_dir: str, seconds: float) -> list[str]:
    fs0, fs1 = _fs_attr(size, size), _fs_attr(SUB_SIZE, size)
    for chn, attr in ((0, fs0), (1, fs1)):
        check(IMP_FrameSource_CreateChn(chn, attr), f"IMP_FrameSource_CreateChn({chn})")
        check(IMP_FrameSource_SetChnAttr(chn, attr), f"IMP_FrameSource_SetChnAttr({chn})")
        check(IMP_FrameSource_GetChnAttr(chn, attr), f"IMP_FrameSource_GetChnAttr({chn})")
    main = Stream(0, IMP_ENC_PROFILE_HEVC_MAIN, size, 2000)
    sub = Stream(1, IMP_ENC_PROFILE_AVC_HIGH, SUB_SIZE, 1000)
    _encoder(main, 0, create_group=True)
    _encoder(sub, 0, create_group=False)  # in group 0: the encoder downscales
    cells = {c: (IMPCell(DEV_ID_FS, c, 0), IMPCell(DEV_ID_ENC, c, 0)) for c in (0, 1)}
    check(IMP_System_Bind(*cells[0]), "IMP_System_Bind(FS0 -> ENC0)")
    check(IMP_ISP_EnableTuning(), "IMP_ISP_EnableTuning")
    check(IMP_FrameSource_EnableChn(0), "IMP_FrameSource_EnableChn(0)")
    check(IMP_FrameSource_EnableChn(1), "IMP_FrameSource_EnableChn(1)")

    files = _record([0, 1], out_dir, seconds)
    for chn in (1, 0):
        _encoder_release(chn)  # the groups are kept

    check(IMP_FrameSource_DisableChn(0), "IMP_FrameSource_DisableChn(0)")
    fs0 = _fs_attr(SWITCHED_SIZE, size)
    check(IMP_FrameSource_SetChnAttr(0, fs0), "IMP_FrameSource_SetChnAttr(0)")
    check(IMP_FrameSource_GetChnAttr(0, fs0), "IMP_FrameSource_GetChnAttr(0)")
    _encoder(Stream(0, IMP_ENC_PROFILE_HEVC_MAIN, SWITCHED_SIZE, 2000), 0, create_group=False)
    _encoder(sub, 1, create_group=True)
    check(IMP_System_Bind(*cells[1]), "IMP_System_Bind(FS1 -> ENC1)")
    check(IMP_FrameSource_EnableChn(0), "IMP_FrameSource_EnableChn(0)")

    files += _record([0, 1], out_dir, seconds)
    for chn in (0, 1):
        check(IMP_Encoder_StopRecvPic(chn), f"IMP_Encoder_StopRecvPic({chn})")
    check(IMP_FrameSource_DisableChn(1), "IMP_FrameSource_DisableChn(1)")
    check(IMP_FrameSource_DisableChn(0), "IMP_FrameSource_DisableChn(0)")
    for chn in (0, 1):
        check(IMP_System_UnBind(*cells[chn]), f"IMP_System_UnBind({chn})")
    for chn in (1, 0):
        check(IMP_Encoder_UnRegisterChn(chn), f"IMP_Encoder_UnRegisterChn({chn})")
        check(IMP_Encoder_DestroyChn(chn), f"IMP_Encoder_DestroyChn({chn})")
        check(IMP_Encoder_DestroyGroup(chn), f"IMP_Encoder_DestroyGroup({chn})")
        check(IMP_FrameSource_DestroyChn(chn), f"IMP_FrameSource_DestroyChn({chn})")
    return files


def add_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("sensor", help="sensor name (the simulator also accepts gc2053)")
    p.add_argument("--seconds", type=float, default=5.0, help="recording time per phase (5)")


def main(argv: list[str] | None = None) -> int:
    return common.sample_main(
        __doc__,
        lambda args: run(args.sensor, args.out, args.seconds),
        add_args,
        name="sample-Change-Resolution",
        argv=argv,
    )


if __name__ == "__main__":
    sys.exit(main())
