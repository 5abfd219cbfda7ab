"""Client of ``/dev/isp-m0``: image tuning controls (kernel_abi.md §3.4)."""

from __future__ import annotations

import ctypes
import errno

from imp.drivers._ioctl import call_struct
from imp.errors import DeviceError
from imp.kernel import abi
from imp.kernel.lowmem import LowBuffer
from imp.kernel.seam import Kernel

PATH = "/dev/isp-m0"


class TuningDevice:
    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel
        self.fd: int | None = None
        # Pointer-valued controls carry a 32-bit user address: structs are passed through this
        # low bounce buffer so the address fits on 64-bit simulator hosts too.
        self._bounce: LowBuffer | None = None

    def open(self) -> None:
        try:
            self.fd = self.kernel.open(PATH, abi.MIPS_O_RDWR)
        except OSError as exc:
            raise DeviceError(exc.errno or 0, f"open {PATH}: {exc.strerror or exc}") from exc
        self._bounce = LowBuffer(4096)

    def close(self) -> None:
        if self.fd is not None:
            fd, self.fd = self.fd, None
            self.kernel.close(fd)
        self._bounce = None  # unmapped once unreferenced

    def _fd(self) -> int:
        if self.fd is None:
            raise DeviceError(
                errno.EPERM, "ISP tuning is not enabled: call IMP_ISP_EnableTuning first"
            )
        return self.fd

    def set(self, cid: int, value: int) -> None:
        """dir 0 of VIDIOC_DEFAULT_CMD_ISP_TUNING: as libimp sets every control."""
        ctrl = abi.IspTuningCtrl(dir=abi.TUNING_DIR_SET, id=cid, value=_s32(value))
        call_struct(
            self.kernel,
            self._fd(),
            abi.VIDIOC_DEFAULT_CMD_ISP_TUNING,
            ctrl,
            f"set control {cid:#x}",
        )

    def get(self, cid: int) -> int:
        ctrl = abi.IspTuningCtrl(dir=abi.TUNING_DIR_GET, id=cid)
        out = call_struct(
            self.kernel,
            self._fd(),
            abi.VIDIOC_DEFAULT_CMD_ISP_TUNING,
            ctrl,
            f"get control {cid:#x}",
        )
        return int(out.value)

    def set_struct(self, cid: int, obj: ctypes.Structure) -> None:
        """Struct-valued control: ``value`` carries a user pointer the driver copies from."""
        bounce = self._bounce_for(obj)
        size = ctypes.sizeof(obj)
        bounce.view[:size] = bytes(obj)
        self.set(cid, bounce.addr)

    def get_struct(self, cid: int, obj: ctypes.Structure) -> None:
        bounce = self._bounce_for(obj)
        size = ctypes.sizeof(obj)
        bounce.view[:size] = bytes(obj)
        ctrl = abi.IspTuningCtrl(dir=abi.TUNING_DIR_GET, id=cid, value=_s32(bounce.addr))
        call_struct(
            self.kernel,
            self._fd(),
            abi.VIDIOC_DEFAULT_CMD_ISP_TUNING,
            ctrl,
            f"get control {cid:#x}",
        )
        ctypes.memmove(ctypes.addressof(obj), bounce.addr, size)

    def _bounce_for(self, obj: ctypes.Structure) -> LowBuffer:
        self._fd()
        assert self._bounce is not None
        if ctypes.sizeof(obj) > self._bounce.size:
            raise DeviceError(errno.EINVAL, f"{type(obj).__name__} is larger than a page")
        return self._bounce


def _s32(value: int) -> int:
    """Fold a u32 (or a pointer below 4 GiB) into the s32 field the layout declares."""
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value & 0x80000000 else value
