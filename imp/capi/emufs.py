"""``IMP_EmuFrameSource_*`` (5 functions of imp_emu_framesource.h, libimp 1.1.4+).

An emulated channel is a FrameSource channel whose pictures the program supplies: from Python,
``imp.framesource.get_framesource().channel(n).push(nv12)`` or a source set with ``set_feed``
(see :mod:`imp.emufs`), or a decoder channel bound to its input. Bind its output like any
FrameSource channel's. The header has no call that names a source, so a C-style program can
name one in the environment: ``IMP_EMUFS_SOURCE_<chn>=clip.mp4`` (any video PyAV reads, or a
raw ``.nv12`` file) feeds channel ``<chn>`` with that file's pictures, each handed on once the
consumers are done with the previous one.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from imp.capi._common import c_function, check_int, deref
from imp.capi.framesource import attr_from_c, attr_to_c
from imp.emufs.sources import open_source
from imp.errors import InvalidArgument, NotFound
from imp.framesource import FsChannel, get_framesource
from imp.framesource.emulated import EmuChannel
from imp.types import IMPFSChnAttr

__all__ = [
    "IMP_EmuFrameSource_CreateChn",
    "IMP_EmuFrameSource_DestroyChn",
    "IMP_EmuFrameSource_DisableChn",
    "IMP_EmuFrameSource_EnableChn",
    "IMP_EmuFrameSource_GetChnAttr",
]


ENV_SOURCE = "IMP_EMUFS_SOURCE_"


def _emu(chn_num: Any) -> FsChannel:
    chn = check_int(chn_num, "chn_num")
    ch = get_framesource().channel(chn)
    if not ch.emulated:
        raise InvalidArgument(
            f"FrameSource channel {chn} is a camera channel, not an EmuFrameSource one; use "
            "IMP_FrameSource_* for it"
        )
    return ch


@c_function()
def IMP_EmuFrameSource_CreateChn(chn_num: int, chn_attr: Any) -> int:
    """``int IMP_EmuFrameSource_CreateChn(uint32_t chn_num, IMPFSChnAttr *chn_attr)``."""
    chn = check_int(chn_num, "chn_num")
    attr = attr_from_c(deref(chn_attr, IMPFSChnAttr, "chn_attr"))
    path = os.environ.get(f"{ENV_SOURCE}{chn}")
    if path and not Path(path).is_file():
        raise NotFound(f"{ENV_SOURCE}{chn}={path}: no such file")
    ch = get_framesource().create_emulated(chn, attr)
    if path:
        assert isinstance(ch, EmuChannel)
        ch.set_feed(open_source(path, attr.width, attr.height))  # type: ignore[arg-type]
    return 0


@c_function()
def IMP_EmuFrameSource_DestroyChn(chn_num: int) -> int:
    """``int IMP_EmuFrameSource_DestroyChn(uint32_t chn_num)``: DisableChn first."""
    get_framesource().destroy(_emu(chn_num).group)
    return 0


@c_function()
def IMP_EmuFrameSource_EnableChn(chn_num: int) -> int:
    """``int IMP_EmuFrameSource_EnableChn(uint32_t chn_num)``: starts the channel's feeder."""
    get_framesource().enable(_emu(chn_num).group)
    return 0


@c_function()
def IMP_EmuFrameSource_DisableChn(chn_num: int) -> int:
    """``int IMP_EmuFrameSource_DisableChn(uint32_t chn_num)``."""
    get_framesource().disable(_emu(chn_num).group)
    return 0


@c_function()
def IMP_EmuFrameSource_GetChnAttr(chn_num: int, chn_attr: Any) -> int:
    """``int IMP_EmuFrameSource_GetChnAttr(uint32_t chn_num, IMPFSChnAttr *chn_attr)``."""
    out = deref(chn_attr, IMPFSChnAttr, "chn_attr")
    attr_to_c(_emu(chn_num).attr, out)
    return 0
