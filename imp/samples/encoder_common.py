"""The encoder half of sample-common.c: channel setup, stream capture, JPEG snapshots.

Like :mod:`imp.samples.common`, written against :mod:`imp.capi` the way the C samples call
libimp (usage.md §2.0), so each port reads line by line like its original. Files go to an
output directory instead of ``/tmp`` and keep the vendor's names.
"""

from __future__ import annotations

import ctypes
import math
import os
import select
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

from imp.capi import (
    IMP_ENC_PROFILE_HEVC_MAIN,
    IMP_ENC_PROFILE_JPEG,
    IMP_ENC_RC_MODE_CAPPED_QUALITY,
    IMP_ENC_RC_MODE_FIXQP,
    IMP_Encoder_CreateChn,
    IMP_Encoder_CreateGroup,
    IMP_Encoder_DestroyChn,
    IMP_Encoder_GetFd,
    IMP_Encoder_GetStream,
    IMP_Encoder_PollingStream,
    IMP_Encoder_Query,
    IMP_Encoder_RegisterChn,
    IMP_Encoder_ReleaseStream,
    IMP_Encoder_SetDefaultParam,
    IMP_Encoder_StartRecvPic,
    IMP_Encoder_StopRecvPic,
    IMP_Encoder_UnRegisterChn,
    IMP_System_Bind,
    IMP_System_UnBind,
    IMPEncoderChnAttr,
    IMPEncoderChnStat,
    IMPEncoderStream,
)
from imp.samples import common
from imp.samples.common import ChnConf, SampleError, check

PAYLOAD_TYPE = IMP_ENC_PROFILE_HEVC_MAIN  # the chn[] table's payloadType
JPEG_QUALITY = 25
JPEG_CHN_BASE = 4  # JPEG channel of group i is 4 + i
POLL_TIMEOUT_MS = 1000
SNAP_POLL_TIMEOUT_MS = 10000
BYFD_SELECT_TIMEOUT = 2.0
GOP = common.SENSOR_FRAME_RATE_NUM * 2 // common.SENSOR_FRAME_RATE_DEN


def bitrate_kbps(width: int, height: int) -> int:
    """sample_encoder_init's bit rate: 1920x1080 -> 1352, 1280x720 -> 1000, 640x360 -> 624."""
    pixels = width * height
    if pixels > 1280 * 720:
        ratio = math.log10(pixels / (1280 * 720)) + 1
    else:
        ratio = 1 / (math.log10((1280 * 720) / pixels) + 1)
    # The C code computes in float and truncates to int.
    return int(1000 * max(ratio, 0.1) + 1e-6)


def extension(profile: int) -> str:
    kind = profile >> 24
    return {0: "h264", 1: "h265", 4: "jpeg"}.get(kind, "bin")


def encoder_init(chns: list[ChnConf]) -> None:
    """sample_encoder_init: HEVC CAPPED_QUALITY channel i in group i for each enabled chn."""
    for c in chns:
        if not c.enable:
            continue
        w, h = c.attr.picWidth, c.attr.picHeight
        attr = IMPEncoderChnAttr()
        check(
            IMP_Encoder_SetDefaultParam(
                attr,
                PAYLOAD_TYPE,
                IMP_ENC_RC_MODE_CAPPED_QUALITY,
                w,
                h,
                common.SENSOR_FRAME_RATE_NUM,
                common.SENSOR_FRAME_RATE_DEN,
                GOP,
                2,
                -1,
                bitrate_kbps(w, h),
            ),
            "IMP_Encoder_SetDefaultParam",
        )
        check(IMP_Encoder_CreateChn(c.index, attr), f"IMP_Encoder_CreateChn({c.index})")
        check(IMP_Encoder_RegisterChn(c.index, c.index), f"IMP_Encoder_RegisterChn({c.index})")


def jpeg_init(chns: list[ChnConf]) -> None:
    """sample_jpeg_init: JPEG channel 4+i (quality 25) registered into group i."""
    for c in chns:
        if not c.enable:
            continue
        attr = IMPEncoderChnAttr()
        check(
            IMP_Encoder_SetDefaultParam(
                attr,
                IMP_ENC_PROFILE_JPEG,
                IMP_ENC_RC_MODE_FIXQP,
                c.attr.picWidth,
                c.attr.picHeight,
                common.SENSOR_FRAME_RATE_NUM,
                common.SENSOR_FRAME_RATE_DEN,
                0,
                0,
                JPEG_QUALITY,
                0,
            ),
            "IMP_Encoder_SetDefaultParam(JPEG)",
        )
        chn = JPEG_CHN_BASE + c.index
        check(IMP_Encoder_CreateChn(chn, attr), f"IMP_Encoder_CreateChn({chn})")
        check(IMP_Encoder_RegisterChn(c.index, chn), f"IMP_Encoder_RegisterChn({c.index}, {chn})")


def _exit_channel(chn: int) -> None:
    stat = IMPEncoderChnStat()
    check(IMP_Encoder_Query(chn, stat), f"IMP_Encoder_Query({chn})")
    if stat.registered:
        check(IMP_Encoder_UnRegisterChn(chn), f"IMP_Encoder_UnRegisterChn({chn})")
        check(IMP_Encoder_DestroyChn(chn), f"IMP_Encoder_DestroyChn({chn})")


def encoder_exit(chns: list[ChnConf]) -> None:
    """sample_encoder_exit (the groups are never destroyed, as in the C sample)."""
    for c in chns:
        if c.enable:
            _exit_channel(c.index)


def jpeg_exit(chns: list[ChnConf]) -> None:
    for c in chns:
        if c.enable:
            _exit_channel(JPEG_CHN_BASE + c.index)


def create_groups(chns: list[ChnConf]) -> None:
    for c in chns:
        if c.enable:
            check(IMP_Encoder_CreateGroup(c.index), f"IMP_Encoder_CreateGroup({c.index})")


def bind_all(chns: list[ChnConf]) -> None:
    for c in chns:
        if c.enable:
            check(IMP_System_Bind(c.fs_cell, c.enc_cell), f"IMP_System_Bind(FS{c.index})")


def unbind_all(chns: list[ChnConf]) -> None:
    for c in chns:
        if c.enable:
            check(IMP_System_UnBind(c.fs_cell, c.enc_cell), f"IMP_System_UnBind(FS{c.index})")


def save_stream(out: BinaryIO, stream: IMPEncoderStream) -> None:
    """The vendor save_stream: each pack from virAddr + offset, wrapping at streamSize."""
    for i in range(stream.packCount):
        pack = stream.pack[i]
        rem = stream.streamSize - pack.offset
        if rem < pack.length:
            out.write(ctypes.string_at(stream.virAddr + pack.offset, rem))
            out.write(ctypes.string_at(stream.virAddr, pack.length - rem))
        else:
            out.write(ctypes.string_at(stream.virAddr + pack.offset, pack.length))


def stream_path(out_dir: str, chn: int, profile: int) -> str:
    return os.path.join(out_dir, f"stream-{chn}.{extension(profile)}")


def get_video_stream(chn: int, path: str, frames: int = common.NR_FRAMES_TO_SAVE) -> int:
    """get_video_stream: StartRecvPic, ``frames`` polls (timeouts count), StopRecvPic.

    Returns the number of pictures written.
    """
    check(IMP_Encoder_StartRecvPic(chn), f"IMP_Encoder_StartRecvPic({chn})")
    written = 0
    with open(path, "wb") as out:
        for _ in common.until_stopped(frames):
            if IMP_Encoder_PollingStream(chn, POLL_TIMEOUT_MS) < 0:
                common.log.warning("IMP_Encoder_PollingStream(%d) timeout", chn)
                continue
            stream = IMPEncoderStream()
            check(IMP_Encoder_GetStream(chn, stream, True), f"IMP_Encoder_GetStream({chn})")
            save_stream(out, stream)
            written += 1
            check(IMP_Encoder_ReleaseStream(chn, stream), f"IMP_Encoder_ReleaseStream({chn})")
    check(IMP_Encoder_StopRecvPic(chn), f"IMP_Encoder_StopRecvPic({chn})")
    return written


def get_video_stream_byfd(
    chns: list[int], paths: dict[int, str], frames: int = common.NR_FRAMES_TO_SAVE
) -> dict[int, int]:
    """get_video_stream_byfd: one select() over every channel's GetFd until each has
    ``frames`` pictures."""
    fds = {}
    for chn in chns:
        fd = IMP_Encoder_GetFd(chn)
        if fd < 0:
            raise SampleError(f"IMP_Encoder_GetFd({chn}) failed")
        fds[fd] = chn
    for chn in chns:
        check(IMP_Encoder_StartRecvPic(chn), f"IMP_Encoder_StartRecvPic({chn})")
    counts = dict.fromkeys(chns, 0)
    files = {chn: open(paths[chn], "wb") for chn in chns}  # noqa: SIM115 - closed below
    try:
        while any(n < frames for n in counts.values()):
            waiting = [fd for fd, chn in fds.items() if counts[chn] < frames]
            readable, _, _ = select.select(waiting, [], [], BYFD_SELECT_TIMEOUT)
            if not readable:
                common.log.warning("select timeout")
                continue
            for fd in readable:
                chn = fds[fd]
                stream = IMPEncoderStream()
                check(IMP_Encoder_GetStream(chn, stream, True), f"IMP_Encoder_GetStream({chn})")
                save_stream(files[chn], stream)
                counts[chn] += 1
                check(IMP_Encoder_ReleaseStream(chn, stream), f"IMP_Encoder_ReleaseStream({chn})")
    finally:
        for f in files.values():
            f.close()
    for chn in chns:
        check(IMP_Encoder_StopRecvPic(chn), f"IMP_Encoder_StopRecvPic({chn})")
    return counts


def get_jpeg_snap(chns: list[ChnConf], out_dir: str) -> list[str]:
    """sample_get_jpeg_snap: one JPEG per enabled channel, ``snap-<i>.jpg``."""
    written = []
    for c in chns:
        if not c.enable:
            continue
        chn = JPEG_CHN_BASE + c.index
        check(IMP_Encoder_StartRecvPic(chn), f"IMP_Encoder_StartRecvPic({chn})")
        path = os.path.join(out_dir, f"snap-{c.index}.jpg")
        with open(path, "wb") as out:
            if IMP_Encoder_PollingStream(chn, SNAP_POLL_TIMEOUT_MS) < 0:
                common.log.warning("IMP_Encoder_PollingStream(%d) timeout", chn)
                continue  # as the C sample: StopRecvPic is skipped
            stream = IMPEncoderStream()
            check(IMP_Encoder_GetStream(chn, stream, True), f"IMP_Encoder_GetStream({chn})")
            save_stream(out, stream)
            check(IMP_Encoder_ReleaseStream(chn, stream), f"IMP_Encoder_ReleaseStream({chn})")
        check(IMP_Encoder_StopRecvPic(chn), f"IMP_Encoder_StopRecvPic({chn})")
        written.append(path)
    return written


@contextmanager
def video_streams(chns: list[ChnConf], out_dir: str, frames: int) -> Iterator[list[str]]:
    """One get_video_stream thread per enabled channel (pthread_create), running while the
    ``with`` block runs and joined at its end (pthread_join: a thread's error is raised there).
    Gives the files the threads write."""
    threads = common.Threads()
    paths: list[str] = []
    for c in chns:
        if not c.enable:
            continue
        path = stream_path(out_dir, c.index, PAYLOAD_TYPE)
        paths.append(path)
        threads.start(f"get_video_stream{c.index}", get_video_stream, c.index, path, frames)
    try:
        yield paths
    finally:
        threads.join()
        threads.check()


def get_streams(chns: list[ChnConf], out_dir: str, frames: int, by_fd: bool) -> list[str]:
    """``frames`` pictures of every enabled channel, as the samples' ``byGetFd`` choice says:
    get_video_stream_byfd (one select() over the channels' fds), or one get_video_stream
    thread per channel. Returns the files written."""
    if by_fd:
        active = [c.index for c in chns if c.enable]
        paths = {c: stream_path(out_dir, c, PAYLOAD_TYPE) for c in active}
        get_video_stream_byfd(active, paths, frames)
        return list(paths.values())
    with video_streams(chns, out_dir, frames) as files:
        return files  # once every thread has joined


__all__ = [
    "GOP",
    "JPEG_CHN_BASE",
    "PAYLOAD_TYPE",
    "bind_all",
    "bitrate_kbps",
    "create_groups",
    "encoder_exit",
    "encoder_init",
    "extension",
    "get_jpeg_snap",
    "get_streams",
    "get_video_stream",
    "get_video_stream_byfd",
    "jpeg_exit",
    "jpeg_init",
    "save_stream",
    "stream_path",
    "unbind_all",
    "video_streams",
]
