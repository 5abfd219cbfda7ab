"""Client of ``/dev/isp-m0``: the tuning node (kernel_abi.md §3.4, isp_tuning_ids.md §1).

Each control travels as ``imp.kernel.abi_isp.CONTROLS`` says: V4L2 ids with S_CTRL/G_CTRL
(8 B ``{id, value}``), everything else with VIDIOC_DEFAULT_CMD_ISP_TUNING (12 B
``{dir, id, value}``), as libimp does. Pointer-valued controls carry a 32-bit user address in
``value``: the payload goes through a bounce buffer mapped below 4 GiB so the address also fits
on a 64-bit simulator host; the driver copies exactly the control's size from or to it.
"""

from __future__ import annotations

import errno
import threading

from imp.drivers._ioctl import call_struct
from imp.errors import DeviceError
from imp.kernel import abi
from imp.kernel.abi_isp import (
    DIR_GET,
    DIR_SET,
    VIDIOC_DEFAULT_CMD_ISP_TUNING,
    VIDIOC_G_CTRL,
    VIDIOC_S_CTRL,
    Control,
    s32,
)
from imp.kernel.lowmem import LowBuffer
from imp.kernel.seam import Kernel

PATH = "/dev/isp-m0"
_BOUNCE = 4096


class TuningDevice:
    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel
        self.fd: int | None = None
        self._bounce: LowBuffer | None = None
        self._lock = threading.Lock()  # one bounce buffer: one pointer call at a time

    def open(self) -> None:
        try:
            self.fd = self.kernel.open(PATH, abi.TX_ISP_OPEN_FLAGS)
        except OSError as exc:
            raise DeviceError(exc.errno or 0, f"open {PATH}: {exc.strerror or exc}") from exc
        self._bounce = LowBuffer(_BOUNCE)

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

    # -- raw transports ----------------------------------------------------------------------
    def _v4l2(self, cmd: int, cid: int, value: int, what: str) -> int:
        ctrl = abi.V4L2Control(id=cid, value=s32(value))
        return int(call_struct(self.kernel, self._fd(), cmd, ctrl, what).value)

    def _default(self, direction: int, cid: int, value: int, what: str) -> int:
        ctrl = abi.IspTuningCtrl(dir=direction, id=cid, value=s32(value))
        out = call_struct(self.kernel, self._fd(), VIDIOC_DEFAULT_CMD_ISP_TUNING, ctrl, what)
        return int(out.value)

    def set_id(self, cid: int, value: int, *, v4l2: bool = False) -> None:
        """Set any id with a scalar ``value`` (no-op ids, kernel-only ids, raw tools)."""
        what = f"set control {cid:#x}"
        if v4l2:
            self._v4l2(VIDIOC_S_CTRL, cid, value, what)
        else:
            self._default(DIR_SET, cid, value, what)

    def get_id(self, cid: int, value: int = 0, *, v4l2: bool = False) -> int:
        what = f"get control {cid:#x}"
        if v4l2:
            return self._v4l2(VIDIOC_G_CTRL, cid, value, what)
        return self._default(DIR_GET, cid, value, what)

    # -- by control ------------------------------------------------------------------------
    def set(self, ctl: Control, value: int) -> None:
        """A scalar control: the value travels in the ``value`` word."""
        self.set_id(ctl.cid, value, v4l2=ctl.v4l2)

    def get(self, ctl: Control) -> int:
        return self.get_id(ctl.cid, v4l2=ctl.v4l2)

    def set_bytes(self, ctl: Control, data: bytes) -> None:
        """A pointer control: ``data`` (exactly ``ctl.size`` bytes) at a user address."""
        if len(data) != ctl.size:
            raise DeviceError(
                errno.EINVAL, f"{ctl.name}: {len(data)} bytes given, the driver copies {ctl.size}"
            )
        with self._lock:
            bounce = self._bounce_buffer()
            bounce.view[: len(data)] = data
            self.set_id(ctl.cid, bounce.addr, v4l2=ctl.v4l2)

    def get_bytes(self, ctl: Control, data: bytes | None = None, blocking: bool = False) -> bytes:
        """A pointer control read back: ``ctl.size`` bytes (``data`` is copied in first, for
        in/out buffers such as WaitFrame's). A ``blocking`` call (WaitFrame) gets a buffer of
        its own so that it does not hold up the other controls while it waits."""
        if blocking:
            self._fd()
            own = LowBuffer(_BOUNCE)
            own.view[: ctl.size] = data if data is not None else bytes(ctl.size)
            self.get_id(ctl.cid, own.addr, v4l2=ctl.v4l2)
            return bytes(own.view[: ctl.size])
        with self._lock:
            bounce = self._bounce_buffer()
            bounce.view[: ctl.size] = data if data is not None else bytes(ctl.size)
            self.get_id(ctl.cid, bounce.addr, v4l2=ctl.v4l2)
            return bytes(bounce.view[: ctl.size])

    def _bounce_buffer(self) -> LowBuffer:
        self._fd()
        assert self._bounce is not None
        return self._bounce
