"""``/dev/tx-isp``: sensor registration and selection, links, ISP streaming (kernel_abi.md §3)."""

from __future__ import annotations

import errno
from collections.abc import Callable
from typing import TYPE_CHECKING

from imp.kernel import abi
from kernel_stubs.devices.algo3a import algo_handlers
from kernel_stubs.devices.base import Device, OpenFile, fail, need
from kernel_stubs.isp3a.board import SensorRegisters

if TYPE_CHECKING:
    from kernel_stubs.isp_core import IspCore

__all__ = ["TxIspDevice"]

_GPIO_ATTR_SIZE = 42  # isp_set_gpio_attr {u16 gpio_num[10], u16 gpio_sta[10], u16 free}
_DBG_REGISTER_SIZE = 0x38


class TxIspDevice(Device):
    path = "/dev/tx-isp"

    def __init__(self, core: IspCore) -> None:
        self.core = core
        self.gpio: dict[int, bytes] = {}
        # DBG_S/G_REGISTER: the sensor's register map (exposure/gain registers follow AE)
        self.registers = SensorRegisters(core.controls, lambda: core.sensor_size()[1])
        self._handlers: dict[int, Callable[[bytearray], None]] = {
            abi.VIDIOC_REGISTER_SENSOR: self._register_sensor,
            abi.VIDIOC_RELEASE_SENSOR: self._release_sensor,
            abi.VIDIOC_ENUMINPUT: self._enum_input,
            abi.VIDIOC_G_INPUT: self._g_input,
            abi.VIDIOC_S_INPUT: self._s_input,
            abi.VIDIOC_STREAMON: lambda arg: core.set_sensor_streaming(True),
            abi.VIDIOC_STREAMOFF: lambda arg: core.set_sensor_streaming(False),
            abi.VIDIOC_CREATE_SUBDEV_LINKS: self._create_links,
            abi.VIDIOC_DESTROY_SUBDEV_LINKS: self._destroy_links,
            abi.VIDIOC_LINKS_STREAMON: lambda arg: self._links_stream(True),
            abi.VIDIOC_LINKS_STREAMOFF: lambda arg: self._links_stream(False),
            abi.VIDIOC_GET_BUF_INFO: self._get_buf_info,
            abi.VIDIOC_SET_BUF_INFO: self._set_buf_info,
            abi.VIDIOC_GET_WDR_BUF_INFO: self._get_wdr_buf_info,
            abi.VIDIOC_SET_WDR_BUF_INFO: self._set_wdr_buf_info,
            abi.VIDIOC_ISP_WDR_ENABLE: lambda arg: self._wdr(True),
            abi.VIDIOC_ISP_WDR_DISABLE: lambda arg: self._wdr(False),
            abi.VIDIOC_SET_DEFAULT_BIN_PATH: self._set_bin_path,
            abi.VIDIOC_GET_DEFAULT_BIN_PATH: self._get_bin_path,
            abi.TISP_VIDIOC_SET_FRAME_DROP: self._set_frame_drop,
            abi.TISP_VIDIOC_GET_FRAME_DROP: self._get_frame_drop,
            abi.VIDIOC_SET_GPIO_INIT: lambda arg: self._gpio(abi.VIDIOC_SET_GPIO_INIT, arg),
            abi.VIDIOC_SET_GPIO_STA: lambda arg: self._gpio(abi.VIDIOC_SET_GPIO_STA, arg),
            abi.VIDIOC_DBG_S_REGISTER: self._dbg_s_register,
            abi.VIDIOC_DBG_G_REGISTER: self._dbg_g_register,
        }
        self._handlers.update(algo_handlers(core))  # custom AE/AWB (isp_tuning_ids.md §4.4)

    def open(self, file: OpenFile) -> None:
        self.core.txisp_opened()

    def release(self, file: OpenFile) -> None:
        self.core.txisp_closed()

    def ioctl(self, file: OpenFile, cmd: int, arg: bytearray) -> int:
        handler = self._handlers.get(cmd)
        if handler is not None:
            handler(arg)
        # Every fall-through of the driver's compare tree leaves ret = 0 (gotcha 13).
        return 0

    # -- sensors ---------------------------------------------------------------------------
    @staticmethod
    def _sensor_info(arg: bytearray, what: str) -> tuple[str, bytes]:
        info = abi.SensorRegisterInfo.unpack(need(arg, 0x50, what))
        assert isinstance(info, abi.SensorRegisterInfo)
        name = bytes(info.name).split(b"\0", 1)[0].decode("ascii", "replace")
        if not name:
            fail(errno.EINVAL, f"{what}: empty sensor name")
        return name, bytes(arg[:0x50])

    def _register_sensor(self, arg: bytearray) -> None:
        name, info = self._sensor_info(arg, "REGISTER_SENSOR")
        self.core.register_sensor(name, info)

    def _release_sensor(self, arg: bytearray) -> None:
        name, _ = self._sensor_info(arg, "RELEASE_SENSOR")
        self.core.release_sensor(name)

    def _enum_input(self, arg: bytearray) -> None:
        need(arg, 0x50, "ENUMINPUT")
        index = abi.int_of(arg, signed=False)
        with self.core.lock:
            if index >= len(self.core.sensors):
                fail(errno.EINVAL, f"ENUMINPUT {index}: {len(self.core.sensors)} sensor(s)")
            name = self.core.sensors[index].name
        out = abi.V4L2Input(index=index, name=name.encode()[:31])
        arg[:0x50] = bytes(out)

    def _g_input(self, arg: bytearray) -> None:
        need(arg, 4, "G_INPUT")
        arg[:4] = abi.int_arg(self.core.input_index)

    def _s_input(self, arg: bytearray) -> None:
        self.core.select_input(abi.int_of(need(arg, 4, "S_INPUT")))

    # -- links -----------------------------------------------------------------------------
    def _create_links(self, arg: bytearray) -> None:
        link = abi.int_of(need(arg, 4, "CREATE_SUBDEV_LINKS"))
        core = self.core
        with core.cond:
            if link not in (0, 1):
                fail(errno.EINVAL, f"link({link}) is invalid")
            if link == core.active_link:
                return
            if core.active_link >= 0 and core.links_streaming:
                fail(errno.EPERM, "Please stop active links firstly")
            core.active_link = link
            core.cond.notify_all()

    def _destroy_links(self, arg: bytearray) -> None:
        with self.core.cond:
            self.core.links_streaming = False
            self.core.active_link = -1
            self.core.cond.notify_all()

    def _links_stream(self, on: bool) -> None:
        with self.core.cond:
            if on and self.core.active_link < 0:
                fail(errno.EINVAL, "LINKS_STREAMON: no link created (CREATE_SUBDEV_LINKS)")
            self.core.links_streaming = on
            if on:
                self.core.engine.ensure_running()
            self.core.cond.notify_all()

    # -- ISP work buffers (Appendix A) ------------------------------------------------------
    def _required(self) -> int:
        w, h = self.core.sensor_size()
        return abi.isp_buf_size(w, h, self.core.config.memopt)

    def _get_buf_info(self, arg: bytearray) -> None:
        need(arg, 8, "GET_BUF_INFO")
        arg[:8] = bytes(abi.BufInfo(paddr=0, size=self._required()))

    def _check_buf(self, arg: bytearray, required: int, what: str) -> tuple[int, int]:
        info = abi.BufInfo.unpack(need(arg, 8, what))
        assert isinstance(info, abi.BufInfo)
        paddr, size = int(info.paddr), int(info.size)
        if size < required:
            fail(errno.EINVAL, f"{what}: buf size too small ({size} < {required})")
        if not self.core.arena.contains(paddr, size):
            fail(errno.EINVAL, f"{what}: {paddr:#x}+{size:#x} is not inside the rmem arena")
        return paddr, size

    def _set_buf_info(self, arg: bytearray) -> None:
        self.core.buf_info = self._check_buf(arg, self._required(), "SET_BUF_INFO")

    def _wdr_required(self) -> int:
        # Not in the references: one 16-bit raw frame, what a two-exposure merge must keep.
        w, h = self.core.sensor_size()
        return w * h * 2

    def _get_wdr_buf_info(self, arg: bytearray) -> None:
        need(arg, 8, "GET_WDR_BUF_INFO")
        if not self.core.wdr_enabled:
            fail(errno.EINVAL, "GET_WDR_BUF_INFO: Not the wdr mode")
        arg[:8] = bytes(abi.BufInfo(paddr=0, size=self._wdr_required()))

    def _set_wdr_buf_info(self, arg: bytearray) -> None:
        if not self.core.wdr_enabled:
            fail(errno.EINVAL, "SET_WDR_BUF_INFO: Not the wdr mode")
        info = self._check_buf(arg, self._wdr_required(), "SET_WDR_BUF_INFO")
        self.core.wdr_buf_info = info

    def _wdr(self, on: bool) -> None:
        self.core.wdr_enabled = on

    # -- small stores ----------------------------------------------------------------------
    def _set_bin_path(self, arg: bytearray) -> None:
        self.core.bin_path = bytes(need(arg, abi.BIN_PATH_LEN, "SET_DEFAULT_BIN_PATH")[:0x40])

    def _get_bin_path(self, arg: bytearray) -> None:
        need(arg, abi.BIN_PATH_LEN, "GET_DEFAULT_BIN_PATH")
        arg[: abi.BIN_PATH_LEN] = self.core.bin_path

    def _set_frame_drop(self, arg: bytearray) -> None:
        self.core.frame_drop = bytes(need(arg, 0x24, "SET_FRAME_DROP")[:0x24])

    def _get_frame_drop(self, arg: bytearray) -> None:
        need(arg, 0x24, "GET_FRAME_DROP")
        arg[:0x24] = self.core.frame_drop

    def _gpio(self, cmd: int, arg: bytearray) -> None:
        self.gpio[cmd] = bytes(need(arg, _GPIO_ATTR_SIZE, "SET_GPIO")[:_GPIO_ATTR_SIZE])
        self.core.gpios.apply(cmd == abi.VIDIOC_SET_GPIO_STA, self.gpio[cmd])

    def _dbg_s_register(self, arg: bytearray) -> None:
        need(arg, _DBG_REGISTER_SIZE, "DBG_S_REGISTER")
        reg = int.from_bytes(arg[0x28:0x30], "little")
        self.registers[reg] = int.from_bytes(arg[0x30:0x38], "little")

    def _dbg_g_register(self, arg: bytearray) -> None:
        need(arg, _DBG_REGISTER_SIZE, "DBG_G_REGISTER")
        reg = int.from_bytes(arg[0x28:0x30], "little")
        arg[0x30:0x38] = self.registers.get(reg, 0).to_bytes(8, "little")
