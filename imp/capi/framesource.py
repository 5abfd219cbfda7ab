"""``IMP_FrameSource_*`` (23 functions of 1.1.6)."""

from __future__ import annotations

import ctypes
import threading
from collections import deque
from typing import Any

from imp import framesource as _fs
from imp.capi._common import c_function, check_int, deref, point_to, scalar_out
from imp.core.vbm import Frame
from imp.errors import InvalidArgument, NotFound, NotSupported
from imp.types import (
    IMPFrameInfo,
    IMPFrameTimestamp,
    IMPFSChnAttr,
    IMPFSChnFifoAttr,
)

__all__ = [
    "IMP_FrameSource_ChnStatQuery",
    "IMP_FrameSource_CreateChn",
    "IMP_FrameSource_DestroyChn",
    "IMP_FrameSource_DisableChn",
    "IMP_FrameSource_EnableChn",
    "IMP_FrameSource_GetChnAttr",
    "IMP_FrameSource_GetChnFifoAttr",
    "IMP_FrameSource_GetDelay",
    "IMP_FrameSource_GetFrame",
    "IMP_FrameSource_GetFrameDepth",
    "IMP_FrameSource_GetMaxDelay",
    "IMP_FrameSource_GetPool",
    "IMP_FrameSource_GetTimedFrame",
    "IMP_FrameSource_ReleaseFrame",
    "IMP_FrameSource_SetChnAttr",
    "IMP_FrameSource_SetChnFifoAttr",
    "IMP_FrameSource_SetChnRotate",
    "IMP_FrameSource_SetDelay",
    "IMP_FrameSource_SetFrameDepth",
    "IMP_FrameSource_SetMaxDelay",
    "IMP_FrameSource_SetPool",
    "IMP_FrameSource_SetSource",
    "IMP_FrameSource_SnapFrame",
]

_FS = _fs.get_framesource


def _rect(crop: Any) -> tuple[int, int, int, int] | None:
    if not crop.enable:
        return None
    return int(crop.left), int(crop.top), int(crop.width), int(crop.height)


def attr_from_c(c: IMPFSChnAttr) -> _fs.ChannelAttr:
    return _fs.ChannelAttr(
        width=int(c.picWidth),
        height=int(c.picHeight),
        pixfmt=int(c.pixFmt),
        crop=_rect(c.crop),
        scaler=(int(c.scaler.outwidth), int(c.scaler.outheight)) if c.scaler.enable else None,
        fps=(int(c.outFrmRateNum), int(c.outFrmRateDen)),
        nr_vbs=int(c.nrVBs),
        type=int(c.type),
        fcrop=_rect(c.fcrop),
    )


def attr_to_c(a: _fs.ChannelAttr, c: IMPFSChnAttr) -> None:
    ctypes.memset(ctypes.addressof(c), 0, ctypes.sizeof(c))
    c.picWidth, c.picHeight, c.pixFmt = a.width, a.height, a.pixfmt
    for target, rect in ((c.crop, a.crop), (c.fcrop, a.fcrop)):
        if rect is not None:
            target.enable = 1
            target.left, target.top, target.width, target.height = rect
    if a.scaler is not None:
        c.scaler.enable = 1
        c.scaler.outwidth, c.scaler.outheight = a.scaler
    c.outFrmRateNum, c.outFrmRateDen = a.fps
    c.nrVBs, c.type = a.nr_vbs, a.type


class FrameInfos:
    """The ``IMPFrameInfo`` structs handed to C callers by GetFrame.

    Each is kept alive until its ReleaseFrame, then for the next :data:`QUARANTINE` releases, so
    that a pointer released twice still points at the old (stale) frame info and is refused,
    instead of at memory Python reused for a newer GetFrame. The fill a frame info names is told
    by its timeStamp (see :class:`imp.framesource.handout.HandedOut`).
    """

    QUARANTINE = 256

    def __init__(self) -> None:
        self._live: dict[int, IMPFrameInfo] = {}
        self._released: deque[IMPFrameInfo] = deque(maxlen=self.QUARANTINE)
        self._lock = threading.Lock()

    def keep(self, info: IMPFrameInfo) -> None:
        with self._lock:
            self._live[ctypes.addressof(info)] = info

    def released(self, info: IMPFrameInfo) -> None:
        with self._lock:
            kept = self._live.pop(ctypes.addressof(info), None)
            if kept is not None:
                self._released.append(kept)


_infos = FrameInfos()


def fill_frame_info(frame: Frame, info: IMPFrameInfo) -> None:
    """An ``IMPFrameInfo`` describing ``frame`` (FrameSource, Decoder and EmuFrameSource)."""
    info.index = frame.index
    info.pool_idx = 0
    info.width, info.height = frame.width, frame.height
    info.pixfmt = frame.pixfmt
    # libimp reports the picture size (W*H*3/2 for NV12), not the buffer's: the ISP writes UV at
    # W*align16(H), so for heights that are not a multiple of 16 the buffer is larger.
    info.size = (
        frame.width * frame.height * 3 // 2 if frame.pixfmt == _fs.PIX_FMT_NV12 else frame.size
    )
    info.phyAddr = frame.phys
    info.virAddr = frame.addr
    info.timeStamp = frame.timestamp
    info.rotate_osdflag = 0


@c_function()
def IMP_FrameSource_CreateChn(chnNum: int, chn_attr: Any) -> int:
    """``int IMP_FrameSource_CreateChn(int chnNum, IMPFSChnAttr *chn_attr)``."""
    chn = check_int(chnNum, "chnNum")
    _FS().create(chn, attr_from_c(deref(chn_attr, IMPFSChnAttr, "chn_attr")))
    return 0


@c_function()
def IMP_FrameSource_DestroyChn(chnNum: int) -> int:
    _FS().destroy(check_int(chnNum, "chnNum"))
    return 0


@c_function()
def IMP_FrameSource_EnableChn(chnNum: int) -> int:
    _FS().enable(check_int(chnNum, "chnNum"))
    return 0


@c_function()
def IMP_FrameSource_DisableChn(chnNum: int) -> int:
    _FS().disable(check_int(chnNum, "chnNum"))
    return 0


@c_function()
def IMP_FrameSource_SetSource(extchnNum: int, sourcechnNum: int) -> int:
    """Extension channel fed from a physical one (call between CreateChn and EnableChn)."""
    ext = _FS().channel(check_int(extchnNum, "extchnNum"))
    src = _FS().channel(check_int(sourcechnNum, "sourcechnNum"))
    if ext.attr.type != _fs.FS_EXT_CHANNEL:
        raise InvalidArgument(f"channel {ext.group} is not an extension channel (FS_EXT_CHANNEL)")
    if src.attr.type != _fs.FS_PHY_CHANNEL:
        raise InvalidArgument(f"source channel {src.group} must be a physical channel")
    ext.source = src.group
    return 0


@c_function()
def IMP_FrameSource_GetChnAttr(chnNum: int, chnAttr: Any) -> int:
    """Fills ``chnAttr``; fails (-1) for a channel that does not exist yet (usage.md §0 quirk 3)."""
    out = deref(chnAttr, IMPFSChnAttr, "chnAttr")
    attr_to_c(_FS().channel(check_int(chnNum, "chnNum")).attr, out)
    return 0


@c_function()
def IMP_FrameSource_SetChnAttr(chnNum: int, chnAttr: Any) -> int:
    ch = _FS().channel(check_int(chnNum, "chnNum"))
    ch.set_attr(attr_from_c(deref(chnAttr, IMPFSChnAttr, "chnAttr")))
    return 0


@c_function()
def IMP_FrameSource_SetFrameDepth(chnNum: int, depth: int) -> int:
    _FS().channel(check_int(chnNum, "chnNum")).set_depth(check_int(depth, "depth"))
    return 0


@c_function()
def IMP_FrameSource_GetFrameDepth(chnNum: int, depth: Any) -> int:
    out = scalar_out(depth, "depth")
    out.value = _FS().channel(check_int(chnNum, "chnNum")).depth
    return 0


@c_function()
def IMP_FrameSource_GetFrame(chnNum: int, frame: Any) -> int:
    """``int IMP_FrameSource_GetFrame(int chnNum, IMPFrameInfo **frame)``.

    Pass ``p = ctypes.POINTER(IMPFrameInfo)()`` (or ``byref(p)``); ``p.contents.virAddr`` is the
    real address of the NV12 data. Release it with ``IMP_FrameSource_ReleaseFrame(chn, p)``.
    """
    chn = check_int(chnNum, "chnNum")
    if frame is None:
        raise InvalidArgument("frame is NULL; pass a ctypes.POINTER(IMPFrameInfo)()")
    got = _FS().channel(chn).get_frame()
    info = IMPFrameInfo()
    fill_frame_info(got, info)
    try:
        point_to(frame, info, "frame")
    except Exception:
        _FS().channel(chn).release_frame(got)
        raise
    _infos.keep(info)
    return 0


@c_function()
def IMP_FrameSource_ReleaseFrame(chnNum: int, frame: Any) -> int:
    """``int IMP_FrameSource_ReleaseFrame(int chnNum, IMPFrameInfo *frame)``."""
    chn = check_int(chnNum, "chnNum")
    info = deref(frame, IMPFrameInfo, "frame")
    ch = _FS().channel(chn)
    got, generation = ch.find_user_frame(int(info.index), int(info.phyAddr), int(info.timeStamp))
    ch.release_frame(got, generation)
    _infos.released(info)
    return 0


@c_function()
def IMP_FrameSource_SnapFrame(
    chnNum: int, fmt: int, width: int, height: int, framedata: Any, frame: Any
) -> int:
    """Copy the next NV12 frame of the channel into ``framedata`` (a buffer or address)."""
    chn = check_int(chnNum, "chnNum")
    ch = _FS().channel(chn)
    if check_int(fmt, "fmt") != ch.attr.pixfmt:
        raise NotSupported(
            f"SnapFrame: format {fmt}; channel {chn} delivers {ch.attr.pixfmt} (no conversion "
            "on snapshot)"
        )
    size = ch.out_size
    if (check_int(width, "width"), check_int(height, "height")) != size:
        raise InvalidArgument(
            f"SnapFrame: {width}x{height} must equal the channel size {size[0]}x{size[1]}"
        )
    info = deref(frame, IMPFrameInfo, "frame")
    if framedata is None:
        raise InvalidArgument("framedata is NULL")
    data = ch.snap()
    _copy_out(framedata, data)
    info.width, info.height, info.pixfmt, info.size = size[0], size[1], fmt, len(data)
    return 0


def _copy_out(framedata: Any, data: bytes) -> None:
    """Copy a picture into the caller's ``void *framedata`` (an address or a buffer)."""
    if isinstance(framedata, int):
        ctypes.memmove(framedata, data, len(data))
        return
    view = memoryview(framedata).cast("B")
    if len(view) < len(data):
        raise InvalidArgument(f"framedata holds {len(view)} bytes, the frame needs {len(data)}")
    view[: len(data)] = data


@c_function()
def IMP_FrameSource_GetTimedFrame(
    chnNum: int, framets: Any, block: int, framedata: Any, frame: Any
) -> int:
    """``int IMP_FrameSource_GetTimedFrame(int chnNum, IMPFrameTimestamp *framets, int block,
    void *framedata, IMPFrameInfo *frame)``: copy the kept frame whose timestamp is within
    ``[ts - minus, ts + plus]`` into ``framedata``; ``block`` waits for one still to come.
    Needs SetMaxDelay (frames kept) before EnableChn."""
    ch = _FS().channel(check_int(chnNum, "chnNum"))
    want = deref(framets, IMPFrameTimestamp, "framets")
    info = deref(frame, IMPFrameInfo, "frame")
    if framedata is None:
        raise InvalidArgument("framedata is NULL")
    ts, minus, plus = int(want.ts), int(want.minus), int(want.plus)
    stamp, seq, data = ch.timed_frame(ts, minus, plus, bool(check_int(block, "block")))
    _copy_out(framedata, data)
    w, h = ch.out_size
    info.index, info.pool_idx, info.width, info.height = seq, 0, w, h
    info.pixfmt, info.size, info.timeStamp = ch.attr.pixfmt, len(data), stamp
    info.phyAddr = info.virAddr = 0  # a copy: no buffer to release
    return 0


def _int_getter(name: str, attr: str) -> Any:
    def getter(chnNum: int, out: Any) -> int:
        target = scalar_out(out, attr)
        target.value = getattr(_FS().channel(check_int(chnNum, "chnNum")), attr)
        return 0

    getter.__name__ = getter.__qualname__ = name
    return c_function()(getter)


@c_function()
def IMP_FrameSource_SetMaxDelay(chnNum: int, maxcnt: int) -> int:
    """``int IMP_FrameSource_SetMaxDelay(int chnNum, int maxcnt)``: how many recent frames the
    channel keeps for GetTimedFrame (copies: 0..64), from the next EnableChn."""
    ch = _FS().channel(check_int(chnNum, "chnNum"))
    v = check_int(maxcnt, "maxcnt")
    if not 0 <= v <= _fs.MAX_VBS:
        raise InvalidArgument(f"max_delay must be >= 0 and <= {_fs.MAX_VBS}, got {v}")
    ch.max_delay = v
    return 0


IMP_FrameSource_GetMaxDelay = _int_getter("IMP_FrameSource_GetMaxDelay", "max_delay")


@c_function()
def IMP_FrameSource_SetDelay(chnNum: int, cnt: int) -> int:
    """``int IMP_FrameSource_SetDelay(int chnNum, int cnt)``: at most SetMaxDelay's count."""
    ch = _FS().channel(check_int(chnNum, "chnNum"))
    v = check_int(cnt, "cnt")
    if not 0 <= v <= ch.max_delay:
        raise InvalidArgument(f"delay {v} must be 0..{ch.max_delay} (SetMaxDelay first)")
    ch.delay = v
    return 0


IMP_FrameSource_GetDelay = _int_getter("IMP_FrameSource_GetDelay", "delay")


@c_function()
def IMP_FrameSource_SetChnFifoAttr(chnNum: int, attr: Any) -> int:
    a = deref(attr, IMPFSChnFifoAttr, "attr")
    ch = _FS().channel(check_int(chnNum, "chnNum"))
    if a.maxdepth < 0 or a.type not in (0, 1):
        raise InvalidArgument(f"fifo maxdepth {a.maxdepth} must be >= 0 and type 0 or 1")
    ch.fifo_attr = _fs.FifoAttr(int(a.maxdepth), int(a.type))
    return 0


@c_function()
def IMP_FrameSource_GetChnFifoAttr(chnNum: int, attr: Any) -> int:
    a = deref(attr, IMPFSChnFifoAttr, "attr")
    ch = _FS().channel(check_int(chnNum, "chnNum"))
    a.maxdepth, a.type = ch.fifo_attr.maxdepth, ch.fifo_attr.type
    return 0


@c_function()
def IMP_FrameSource_SetPool(chnNum: int, poolID: int) -> int:
    _FS().channel(check_int(chnNum, "chnNum")).pool_id = check_int(poolID, "poolID")
    return 0


@c_function()
def IMP_FrameSource_GetPool(chnNum: int) -> int:
    return _FS().channel(check_int(chnNum, "chnNum")).pool_id


@c_function()
def IMP_FrameSource_ChnStatQuery(chnNum: int, pstate: Any) -> int:
    out = scalar_out(pstate, "pstate")
    chn = check_int(chnNum, "chnNum")
    try:
        ch = _FS().channel(chn)
    except NotFound:
        out.value = 0  # IMP_FSCHANNEL_STATE_CLOSE
        return 0
    out.value = 2 if ch.enabled else 1
    return 0


@c_function()
def IMP_FrameSource_SetChnRotate(chnNum: int, rotTo90: int, width: int, height: int) -> int:
    """``int IMP_FrameSource_SetChnRotate(int chnNum, uint8_t rotTo90, int width, int height)``:
    before EnableChn; 1 turns the picture 90° clockwise, 2 by 270°; ``width`` x ``height`` is
    the turned size (the channel's height x width). Frames (and an encoder bound to them) then
    have that size."""
    ch = _FS().channel(check_int(chnNum, "chnNum"))
    ch.set_rotation(
        check_int(rotTo90, "rotTo90"), check_int(width, "width"), check_int(height, "height")
    )
    return 0
