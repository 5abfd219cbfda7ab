"""``/dev/isp-m0``: the ISP tuning node (kernel_abi.md §3.4).

Struct-valued controls carry a 32-bit user address in ``value`` (zero-extended). On a 64-bit
host the struct must therefore live below 4 GiB (``imp.kernel.lowmem`` arranges that); a bad
address fails with EFAULT, as copy_from_user would.
"""

from __future__ import annotations

import errno
from typing import TYPE_CHECKING

from imp.kernel import abi
from kernel_stubs.devices.base import Device, OpenFile, fail, need
from kernel_stubs.devices.controls import POINTER_CONTROL_SIZES
from kernel_stubs.devices.usercopy import copy_from_user, copy_to_user

if TYPE_CHECKING:
    from kernel_stubs.isp_core import IspCore

__all__ = ["IspTuningDevice"]

_ACTIVATED, _OPENED = 2, 3


class IspTuningDevice(Device):
    path = "/dev/isp-m0"

    def __init__(self, core: IspCore) -> None:
        self.core = core

    def open(self, file: OpenFile) -> None:
        with self.core.lock:
            if self.core.tuning_state == _OPENED:
                fail(errno.EPERM, "isp-m0 is already open (exclusive)")
            if self.core.tuning_state != _ACTIVATED:
                fail(errno.EPERM, "isp-m0: ISP modules not activated (open /dev/tx-isp first)")
            self.core.tuning_state = _OPENED

    def release(self, file: OpenFile) -> None:
        with self.core.lock:
            if self.core.tuning_state == _OPENED:
                self.core.tuning_state = _ACTIVATED

    def ioctl(self, file: OpenFile, cmd: int, arg: bytearray) -> int:
        with self.core.lock:
            if self.core.tuning_state != _OPENED:
                fail(errno.EPERM, f"isp-m0: tuning state {self.core.tuning_state} invalid")
        if cmd in (abi.VIDIOC_G_CTRL, abi.VIDIOC_S_CTRL):
            need(arg, 8, "G/S_CTRL")
            cid = abi.int_of(arg[0:4], signed=False)
            value = abi.int_of(arg[4:8])
            if cmd == abi.VIDIOC_S_CTRL:
                self._set(cid, value)
            else:
                arg[4:8] = abi.int_arg(self._get(cid, value))
            return 0
        # Any other number is the {dir, id, value} tuning call: the driver never checks cmd.
        need(arg, 12, "ISP_TUNING")
        direction = abi.int_of(arg[0:4], signed=False)
        cid = abi.int_of(arg[4:8], signed=False)
        value = abi.int_of(arg[8:12])
        if direction == abi.TUNING_DIR_SET:
            self._set(cid, value)
        elif direction == abi.TUNING_DIR_GET:
            arg[8:12] = abi.int_arg(self._get(cid, value))
        else:
            fail(errno.EINVAL, f"ISP_TUNING: dir {direction} is neither set (0) nor get (1)")
        return 0

    def _set(self, cid: int, value: int) -> None:
        core = self.core
        if cid in POINTER_CONTROL_SIZES:
            data = copy_from_user(value & 0xFFFFFFFF, POINTER_CONTROL_SIZES[cid], f"ctrl {cid:#x}")
            with core.lock:
                core.controls.set_blob(cid, data)
        elif cid == abi.CID_SENSOR_FPS:
            core.set_fps(value)
        elif cid == abi.CID_RUNNING_MODE:
            core.set_running_mode(value)
        else:
            with core.lock:
                core.controls.set(cid, value)

    def _get(self, cid: int, value: int) -> int:
        core = self.core
        if cid in POINTER_CONTROL_SIZES:
            with core.lock:
                data = core.controls.get_blob(cid)
            copy_to_user(value & 0xFFFFFFFF, data, f"ctrl {cid:#x}")
            return value  # the pointer itself stays in the struct
        with core.lock:
            return core.controls.get(cid)
