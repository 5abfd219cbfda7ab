"""``IMP_System_*`` (13 functions of 1.1.6)."""

from __future__ import annotations

from typing import Any

from imp import system as _system
from imp.capi._common import c_function, check_int, deref, log
from imp.errors import InvalidArgument, NotSupported
from imp.types import IMPCell, IMPVersion

__all__ = [
    "IMP_System_Bind",
    "IMP_System_Exit",
    "IMP_System_GetBindbyDest",
    "IMP_System_GetCPUInfo",
    "IMP_System_GetTimeStamp",
    "IMP_System_GetVersion",
    "IMP_System_Init",
    "IMP_System_MemPoolFree",
    "IMP_System_MemPoolRequest",
    "IMP_System_ReadReg32",
    "IMP_System_RebaseTimeStamp",
    "IMP_System_UnBind",
    "IMP_System_WriteReg32",
]


def _cell(arg: Any, what: str) -> tuple[int, int, int]:
    c = deref(arg, IMPCell, what)
    return int(c.deviceID), int(c.groupID), int(c.outputID)


@c_function()
def IMP_System_Init() -> int:
    """``int IMP_System_Init(void)``."""
    _system.get_system().init()
    return 0


@c_function()
def IMP_System_Exit() -> int:
    """``int IMP_System_Exit(void)``: tears down every module and returns all DMA memory."""
    _system.get_system().exit()
    return 0


@c_function(error_return=0)
def IMP_System_GetTimeStamp() -> int:
    """``int64_t IMP_System_GetTimeStamp(void)``: µs, CLOCK_MONOTONIC_RAW based."""
    return _system.get_system().timestamp()


@c_function()
def IMP_System_RebaseTimeStamp(basets: int) -> int:
    """``int IMP_System_RebaseTimeStamp(int64_t basets)``."""
    _system.get_system().rebase(check_int(basets, "basets"))
    return 0


@c_function(error_return=0)
def IMP_System_ReadReg32(regAddr: int) -> int:
    """``uint32_t IMP_System_ReadReg32(uint32_t)``: needs /dev/mem register access."""
    raise NotSupported(
        f"register {check_int(regAddr, 'regAddr'):#x}: register access is not supported"
    )


@c_function(error_return=None)
def IMP_System_WriteReg32(regAddr: int, value: int) -> None:
    """``void IMP_System_WriteReg32(uint32_t, uint32_t)``."""
    raise NotSupported(
        f"register {check_int(regAddr, 'regAddr'):#x}: register access is not supported"
    )


@c_function()
def IMP_System_GetVersion(pstVersion: Any) -> int:
    """``int IMP_System_GetVersion(IMPVersion *)``: "IMP-1.1.6"."""
    v = deref(pstVersion, IMPVersion, "pstVersion")
    v.aVersion = _system.VERSION.encode()
    return 0


@c_function(error_return=None)
def IMP_System_GetCPUInfo() -> str:
    """``const char *IMP_System_GetCPUInfo(void)``, e.g. "T31-X"."""
    return _system.cpu_info()


@c_function()
def IMP_System_Bind(srcCell: Any, dstCell: Any) -> int:
    """``int IMP_System_Bind(IMPCell *src, IMPCell *dst)``: src output -> dst group."""
    _system.get_system().bind(_cell(srcCell, "srcCell"), _cell(dstCell, "dstCell"))
    return 0


@c_function()
def IMP_System_UnBind(srcCell: Any, dstCell: Any) -> int:
    """``int IMP_System_UnBind(IMPCell *src, IMPCell *dst)``."""
    _system.get_system().unbind(_cell(srcCell, "srcCell"), _cell(dstCell, "dstCell"))
    return 0


@c_function()
def IMP_System_GetBindbyDest(dstCell: Any, srcCell: Any) -> int:
    """``int IMP_System_GetBindbyDest(IMPCell *dst, IMPCell *src)``: fills ``src``."""
    dst = _cell(dstCell, "dstCell")
    out = deref(srcCell, IMPCell, "srcCell")
    dev, grp, outp = _system.get_system().source_of(dst)
    out.deviceID, out.groupID, out.outputID = dev, grp, outp
    return 0


_mem_pools: dict[int, tuple[int, str]] = {}


@c_function()
def IMP_System_MemPoolRequest(poolId: int, size: int, name: Any) -> int:
    """``int IMP_System_MemPoolRequest(int poolId, size_t size, const char *name)``.

    Records a named pool; frames keep coming from the shared rmem arena (no separate carve-out).
    """
    pid, nbytes = check_int(poolId, "poolId"), check_int(size, "size")
    if pid < 0 or nbytes <= 0:
        raise InvalidArgument(f"pool {pid} of {nbytes} bytes: need poolId >= 0 and size > 0")
    label = name.decode() if isinstance(name, bytes) else str(name or "")
    _mem_pools[pid] = (nbytes, label)
    log.info("IMP_System_MemPoolRequest: pool %d (%s) of %d bytes noted", pid, label, nbytes)
    return 0


@c_function()
def IMP_System_MemPoolFree(poolId: int) -> int:
    """``int IMP_System_MemPoolFree(int poolId)``."""
    pid = check_int(poolId, "poolId")
    if _mem_pools.pop(pid, None) is None:
        raise InvalidArgument(f"pool {pid} was not requested")
    return 0
