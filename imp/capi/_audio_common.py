"""Conversions shared by the AI, AO and DMIC C-style functions."""

from __future__ import annotations

import ctypes
from typing import Any

from imp.audio.attrs import IoAttr
from imp.audio.capture import CapturedFrame
from imp.capi._common import check_int, deref
from imp.errors import InvalidArgument
from imp.types import IMPBlock

__all__ = ["address_of", "attr_from_c", "attr_to_c", "block_flag", "fill_frame", "io_attr"]


def io_attr(arg: Any, ctype: type, what: str) -> IoAttr:
    return attr_from_c(deref(arg, ctype, what))


def attr_from_c(c: Any) -> IoAttr:
    return IoAttr(
        samplerate=int(c.samplerate),
        bitwidth=int(c.bitwidth),
        soundmode=int(c.soundmode),
        frmNum=int(c.frmNum),
        numPerFrm=int(c.numPerFrm),
        chnCnt=int(c.chnCnt),
    )


def attr_to_c(attr: IoAttr, c: Any) -> None:
    c.samplerate = attr.samplerate
    c.bitwidth = attr.bitwidth
    c.soundmode = attr.soundmode
    c.frmNum = attr.frmNum
    c.numPerFrm = attr.numPerFrm
    c.chnCnt = attr.chnCnt


def block_flag(arg: Any) -> bool:
    """IMPBlock: BLOCK (0) waits, NOBLOCK (1) does not."""
    value = check_int(arg, "block")
    if value not in (IMPBlock.BLOCK, IMPBlock.NOBLOCK):
        raise InvalidArgument(f"block {value}: BLOCK (0) or NOBLOCK (1)")
    return value == IMPBlock.BLOCK


def fill_frame(
    c: Any, addr: int, phys: int, frame: CapturedFrame, nbytes: int, soundmode: int
) -> None:
    """Fill an ``IMPAudioFrame`` / ``IMPDmicFrame`` for data at ``addr`` / ``phys``."""
    c.bitwidth = 16
    c.soundmode = soundmode
    c.virAddr = ctypes.cast(ctypes.c_void_p(addr), type(c.virAddr))
    c.phyAddr = phys & 0xFFFFFFFF
    c.timeStamp = frame.timestamp
    c.seq = frame.seq
    c.len = nbytes


def address_of(pointer: Any) -> int | None:
    """The address in a C pointer field (``virAddr``), None for NULL."""
    value = ctypes.cast(pointer, ctypes.c_void_p).value
    return int(value) if value else None
