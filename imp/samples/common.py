"""What the vendor samples share (sample-common.c): sensor, channel table, init and exit.

Written against :mod:`imp.capi` exactly as the C samples call libimp, so each port reads line
by line like its original. Defaults: usage.md §2.0.
"""

from __future__ import annotations

import argparse
import ctypes
import logging
import os
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from imp.capi import (
    DEV_ID_ENC,
    DEV_ID_FS,
    FS_EXT_CHANNEL,
    FS_PHY_CHANNEL,
    IMPISP_RUNNING_MODE_DAY,
    PIX_FMT_NV12,
    TX_SENSOR_CONTROL_INTERFACE_I2C,
    IMP_FrameSource_CreateChn,
    IMP_FrameSource_DestroyChn,
    IMP_FrameSource_DisableChn,
    IMP_FrameSource_EnableChn,
    IMP_FrameSource_SetChnAttr,
    IMP_ISP_AddSensor,
    IMP_ISP_Close,
    IMP_ISP_DelSensor,
    IMP_ISP_DisableSensor,
    IMP_ISP_DisableTuning,
    IMP_ISP_EnableSensor,
    IMP_ISP_EnableTuning,
    IMP_ISP_Open,
    IMP_ISP_Tuning_SetBrightness,
    IMP_ISP_Tuning_SetContrast,
    IMP_ISP_Tuning_SetISPRunningMode,
    IMP_ISP_Tuning_SetSaturation,
    IMP_ISP_Tuning_SetSharpness,
    IMP_OSD_SetPoolSize,
    IMP_System_Exit,
    IMP_System_Init,
    IMPCell,
    IMPFSChnAttr,
    IMPSensorInfo,
)
from imp.samples.stopping import interruptible
from imp.samples.stopping import pause as pause  # re-exported: the samples call common.pause
from imp.samples.stopping import stopping as stopping
from imp.samples.stopping import until_stopped as until_stopped

SENSOR_NAME = "gc2053"
SENSOR_I2C_ADDR = 0x37
SENSOR_WIDTH, SENSOR_HEIGHT = 1920, 1080
SENSOR_FRAME_RATE_NUM, SENSOR_FRAME_RATE_DEN = 25, 1
NR_FRAMES_TO_SAVE = 200
FS_CHN_NUM = 4

log = logging.getLogger("imp.samples")

T = TypeVar("T")


class SampleError(RuntimeError):
    """A libimp call of the sample returned an error (the C sample would print and exit)."""


def check(ret: int, what: str) -> None:
    if ret < 0:
        raise SampleError(f"{what} failed")


@dataclass
class ChnConf:
    index: int
    enable: bool
    attr: IMPFSChnAttr
    fs_cell: IMPCell
    enc_cell: IMPCell


def _fs_attr(
    w: int, h: int, chn_type: int, crop: tuple[int, int, int, int] | None, scaler: bool
) -> IMPFSChnAttr:
    a = IMPFSChnAttr()
    a.pixFmt = PIX_FMT_NV12
    a.outFrmRateNum, a.outFrmRateDen = SENSOR_FRAME_RATE_NUM, SENSOR_FRAME_RATE_DEN
    a.nrVBs = 2
    a.type = chn_type
    if crop is not None:
        a.crop.enable = 1
        a.crop.left, a.crop.top, a.crop.width, a.crop.height = crop
    if scaler:
        a.scaler.enable = 1
        a.scaler.outwidth, a.scaler.outheight = w, h
    a.picWidth, a.picHeight = w, h
    return a


def default_channels() -> list[ChnConf]:
    """The vendor ``chn[]`` table: 0 (1080p, on), 1 (720p, off), 2 (360p, off), 3 (ext 360p, on)."""
    table = [
        (
            0,
            True,
            _fs_attr(
                SENSOR_WIDTH,
                SENSOR_HEIGHT,
                FS_PHY_CHANNEL,
                (0, 0, SENSOR_WIDTH, SENSOR_HEIGHT),
                False,
            ),
        ),
        (1, False, _fs_attr(1280, 720, FS_PHY_CHANNEL, None, True)),
        (2, False, _fs_attr(640, 360, FS_PHY_CHANNEL, None, True)),
        (3, True, _fs_attr(640, 360, FS_EXT_CHANNEL, None, True)),
    ]
    return [
        ChnConf(i, en, attr, IMPCell(DEV_ID_FS, i, 0), IMPCell(DEV_ID_ENC, i, 0))
        for i, en, attr in table
    ]


def sensor_info() -> IMPSensorInfo:
    info = IMPSensorInfo()
    info.name = SENSOR_NAME.encode()
    info.cbus_type = TX_SENSOR_CONTROL_INTERFACE_I2C
    info.i2c.type = SENSOR_NAME.encode()
    info.i2c.addr = SENSOR_I2C_ADDR
    return info


def system_init() -> None:
    """sample_system_init."""
    check(IMP_OSD_SetPoolSize(512 * 1024), "IMP_OSD_SetPoolSize")
    check(IMP_ISP_Open(), "IMP_ISP_Open")
    check(IMP_ISP_AddSensor(sensor_info()), "IMP_ISP_AddSensor")
    check(IMP_ISP_EnableSensor(), "IMP_ISP_EnableSensor")
    check(IMP_System_Init(), "IMP_System_Init")
    check(IMP_ISP_EnableTuning(), "IMP_ISP_EnableTuning")
    check(IMP_ISP_Tuning_SetContrast(128), "SetContrast")
    check(IMP_ISP_Tuning_SetSharpness(128), "SetSharpness")
    check(IMP_ISP_Tuning_SetSaturation(128), "SetSaturation")
    check(IMP_ISP_Tuning_SetBrightness(128), "SetBrightness")
    check(IMP_ISP_Tuning_SetISPRunningMode(IMPISP_RUNNING_MODE_DAY), "SetISPRunningMode")


def system_exit(strict: bool = True) -> None:
    """sample_system_exit. Every step runs even if one fails (so a failed run still cleans up);
    with ``strict`` the first failure is raised at the end."""
    failed = [
        name
        for name, ret in (
            ("IMP_System_Exit", IMP_System_Exit()),
            ("IMP_ISP_DisableSensor", IMP_ISP_DisableSensor()),
            ("IMP_ISP_DelSensor", IMP_ISP_DelSensor(sensor_info())),
            ("IMP_ISP_DisableTuning", IMP_ISP_DisableTuning()),
            ("IMP_ISP_Close", IMP_ISP_Close()),
        )
        if ret < 0
    ]
    if failed and strict:
        raise SampleError(f"{failed[0]} failed")


def run_sample(body: Callable[[], T]) -> T:
    """A sample's ``main``: sample_system_init, ``body``, sample_system_exit. If ``body`` fails,
    what is left is torn down (``system_exit(strict=False)``) and the error re-raised."""
    system_init()
    try:
        result = body()
    except BaseException:
        system_exit(strict=False)
        raise
    system_exit()
    return result


class Threads:
    """The samples' pthread_create / pthread_join. :meth:`start` runs ``target(*args)`` in a new
    thread and keeps what it raises, :meth:`join` waits for every thread, :meth:`check`
    re-raises the first error (after the sample's teardown, if it wants)."""

    def __init__(self) -> None:
        self._threads: list[threading.Thread] = []
        self._errors: list[BaseException] = []

    def start(self, name: str, target: Callable[..., object], *args: object) -> None:
        def run() -> None:
            try:
                target(*args)
            except BaseException as exc:
                self._errors.append(exc)

        thread = threading.Thread(target=run, name=name)
        thread.start()
        self._threads.append(thread)

    def join(self) -> None:
        for thread in self._threads:
            thread.join()

    def check(self) -> None:
        if self._errors:
            raise self._errors[0]


def framesource_init(chns: list[ChnConf]) -> None:
    for c in chns:
        if c.enable:
            check(
                IMP_FrameSource_CreateChn(c.index, c.attr), f"IMP_FrameSource_CreateChn({c.index})"
            )
            check(
                IMP_FrameSource_SetChnAttr(c.index, c.attr),
                f"IMP_FrameSource_SetChnAttr({c.index})",
            )


def framesource_streamon(chns: list[ChnConf]) -> None:
    for c in chns:
        if c.enable:
            check(IMP_FrameSource_EnableChn(c.index), f"IMP_FrameSource_EnableChn({c.index})")


def framesource_streamoff(chns: list[ChnConf]) -> None:
    for c in chns:
        if c.enable:
            check(IMP_FrameSource_DisableChn(c.index), f"IMP_FrameSource_DisableChn({c.index})")


def framesource_exit(chns: list[ChnConf]) -> None:
    for c in chns:
        if c.enable:
            check(IMP_FrameSource_DestroyChn(c.index), f"IMP_FrameSource_DestroyChn({c.index})")


def arg_parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--out", default=".", help="directory for the output files (default: .)")
    return p


def add_frames_arg(p: argparse.ArgumentParser, help: str | None = "per channel") -> None:
    p.add_argument("--frames", type=int, default=NR_FRAMES_TO_SAVE, help=help)


def add_by_fd_args(p: argparse.ArgumentParser) -> None:
    """``--by-fd``, or ``1`` as the C samples' ``argv[1]`` (byGetFd): see :func:`by_fd`."""
    p.add_argument("--by-fd", action="store_true", help="select() on IMP_Encoder_GetFd")
    p.add_argument(
        "byGetFd", nargs="?", type=int, default=0, help="1: as --by-fd (the C sample's argv[1])"
    )


def by_fd(args: argparse.Namespace) -> bool:
    return bool(args.by_fd or args.byGetFd == 1)


def setup_logging() -> None:
    logging.basicConfig(
        level=os.environ.get("IMP_LOG_LEVEL", "WARNING").upper(),
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def sample_main(
    description: str,
    run: Callable[[argparse.Namespace], Iterable[str]],
    add_args: Callable[[argparse.ArgumentParser], None] | None = None,
    *,
    name: str,
    argv: list[str] | None = None,
) -> int:
    """A sample's command line: ``--out`` and what ``add_args`` adds (``description``: the
    module docstring, whose first line ``--help`` shows), logging, then ``run(args)``. A
    :class:`SampleError` is printed as ``<name>: <error>`` (exit status 1); otherwise each file
    ``run`` returns is reported as ``wrote PATH (N bytes)`` (exit status 0)."""
    p = arg_parser(description.splitlines()[0])
    if add_args is not None:
        add_args(p)
    args = p.parse_args(argv)
    setup_logging()
    try:
        files = interruptible(lambda: run(args))
    except SampleError as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{name}: interrupted; everything was closed", file=sys.stderr)
        return 130
    for path in files:
        print(f"wrote {path} ({os.path.getsize(path)} bytes)")
    return 0


def frame_memory(vir_addr: int, size: int) -> memoryview:
    """``(void *)frame->virAddr`` as a buffer, for ``write(fd, virAddr, size)`` without a copy."""
    return memoryview((ctypes.c_char * size).from_address(vir_addr)).cast("B")
