"""ISP calls beside the picture and 3A: sensor registers, GPIOs, frame drop, WDR, WaitFrame...

Most go to ``/dev/tx-isp`` (isp_tuning_ids.md §4); WaitFrame, Movestate, AWB weight/histogram
and the AF histogram are tuning ids. Docstrings name the C function mirrored.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence

from imp.errors import InvalidArgument, InvalidState
from imp.isp.device import Isp
from imp.isp.values import SensorAttr, check_range, check_u32
from imp.kernel import abi
from imp.kernel.abi_isp import (
    DBG_MATCH_I2C,
    DBG_REGISTER_SIZE,
    FRAME_DROP_SIZE,
    GPIO_ATTR_SIZE,
    DbgRegister,
    KernelAfHist,
    KernelWaitFrame,
)
from imp.types import IMPISPFrameDropAttr

VIDIOC_DBG_S_REGISTER = 0x8038564F
VIDIOC_DBG_G_REGISTER = 0xC0385650
VIDIOC_SET_GPIO_INIT = 0xC00456E8
VIDIOC_SET_GPIO_STA = 0xC00456E9
TISP_SET_FRAME_DROP = 0xC00456E6
TISP_GET_FRAME_DROP = 0xC00456E7
VIDIOC_ISP_WDR_ENABLE = 0x800456D8
VIDIOC_ISP_WDR_DISABLE = 0x800456D9
MAX_GPIOS = 10
GPIO_END = 0xFF


class BoardControls:
    _isp: Isp

    # -- sensor registers (§4.2) ----------------------------------------------------------
    def _dbg(self, cmd: int, reg: int, value: int, what: str) -> DbgRegister:
        isp = self._isp
        if isp.sensor is None:
            raise InvalidState(f"{what}: add a sensor first (IMP_ISP_AddSensor)")
        if isp.sensor.cbus_type != DBG_MATCH_I2C:
            raise InvalidState(f"{what}: only I2C sensors can be accessed (libimp refuses SPI)")
        d = DbgRegister(match_type=DBG_MATCH_I2C, match_name=isp.sensor.name.encode()[:31])
        d.reg, d.val = reg, value
        out = isp.tx_command(cmd, bytearray(bytes(d)), what)
        return DbgRegister.from_buffer_copy(bytes(out[:DBG_REGISTER_SIZE]))

    def write_sensor_register(self, reg: int, value: int) -> None:
        """``IMP_ISP_SetSensorRegister``: one sensor register over I2C."""
        reg, value = check_u32("reg", reg), check_u32("value", value)
        self._dbg(VIDIOC_DBG_S_REGISTER, reg, value, "SetSensorRegister")

    def read_sensor_register(self, reg: int) -> int:
        """``IMP_ISP_GetSensorRegister``."""
        out = self._dbg(VIDIOC_DBG_G_REGISTER, check_u32("reg", reg), 0, "GetSensorRegister")
        return int(out.val) & 0xFFFFFFFF

    # -- GPIOs (§4.1) -----------------------------------------------------------------------
    def _gpio(self, cmd: int, pins: Sequence[int], levels: Sequence[int], free: int) -> None:
        if not 1 <= len(pins) <= MAX_GPIOS:
            raise InvalidArgument(f"give 1..{MAX_GPIOS} GPIO numbers, got {len(pins)}")
        if len(levels) not in (0, len(pins)):
            raise InvalidArgument("give one level per GPIO (or none)")
        nums = [check_range("gpio", p, 0, GPIO_END - 1) for p in pins]
        stas = [check_range("level", v, 0, 1) for v in levels] or [0] * len(nums)
        nums += [GPIO_END] * (MAX_GPIOS - len(nums))
        stas += [0] * (MAX_GPIOS - len(stas))
        data = bytearray(struct.pack("<21H", *nums, *stas, free))
        assert len(data) == GPIO_ATTR_SIZE
        self._isp.tx_command(cmd, data, "SET_GPIO")

    def gpio_request(self, pins: Sequence[int], levels: Sequence[int] = ()) -> None:
        """``IMP_ISP_SET_GPIO_INIT_OR_FREE`` (free = 0): claim GPIOs for the ISP."""
        self._gpio(VIDIOC_SET_GPIO_INIT, pins, levels, 0)

    def gpio_free(self, pins: Sequence[int]) -> None:
        """``IMP_ISP_SET_GPIO_INIT_OR_FREE`` (free = 1)."""
        self._gpio(VIDIOC_SET_GPIO_INIT, pins, (), 1)

    def gpio_set(self, pins: Sequence[int], levels: Sequence[int]) -> None:
        """``IMP_ISP_SET_GPIO_STA``: levels applied at the next frame done."""
        if len(levels) != len(pins):
            raise InvalidArgument("gpio_set needs one level (0/1) per GPIO")
        self._gpio(VIDIOC_SET_GPIO_STA, pins, levels, 0)

    # -- frame drop, WDR ------------------------------------------------------------------
    @property
    def frame_drop(self) -> IMPISPFrameDropAttr:
        """``IMP_ISP_GetFrameDrop/SetFrameDrop``: per-channel frame drop (36-B struct)."""
        out = self._isp.tx_command(TISP_GET_FRAME_DROP, bytearray(FRAME_DROP_SIZE), "GetFrameDrop")
        return IMPISPFrameDropAttr.from_buffer_copy(bytes(out[:FRAME_DROP_SIZE]))

    @frame_drop.setter
    def frame_drop(self, attr: IMPISPFrameDropAttr) -> None:
        if not isinstance(attr, IMPISPFrameDropAttr):
            raise InvalidArgument(f"expected an IMPISPFrameDropAttr, got {type(attr).__name__}")
        for i, fd in enumerate(attr.fdrop):
            check_range(f"fdrop[{i}].lsize", fd.lsize, 0, 31)
        self._isp.tx_command(TISP_SET_FRAME_DROP, bytearray(bytes(attr)), "SetFrameDrop")

    @property
    def wdr(self) -> bool:
        """``IMP_ISP_WDR_ENABLE_Get`` / ``IMP_ISP_WDR_ENABLE``: wide dynamic range mode."""
        return bool(self._isp.wdr_mode)

    @wdr.setter
    def wdr(self, on: bool) -> None:
        cmd = VIDIOC_ISP_WDR_ENABLE if on else VIDIOC_ISP_WDR_DISABLE
        self._isp.tx_command(cmd, abi.int_arg(0), "WDR_ENABLE")
        self._isp.wdr_mode = int(bool(on))

    # -- tuning ids without a picture effect ------------------------------------------------
    def wait_frame(self, timeout_ms: int = 1000) -> int:
        """``IMP_ISP_Tuning_WaitFrame``: block until the next frame is done; its count.

        The kernel takes the timeout in jiffies (10 ms each on the T31): it is converted here.
        """
        ms = check_range("timeout_ms", timeout_ms, 0, 0xFFFFFFFF)
        buf = KernelWaitFrame(timeout=max(1, (ms + 9) // 10))
        out = KernelWaitFrame.from_buffer_copy(self._isp.get_bytes("wait_frame", bytes(buf)))
        return int(out.cnt)

    def set_movestate(self, enabled: bool) -> None:
        """``IMP_ISP_Tuning_Enable/DisableMovestate``: libimp's get-modify-set of id 0x800002c,
        a no-op in the 1.1.6 kernel (isp_tuning_ids.md rows 68-69)."""
        if enabled:
            self._isp.get_value("movestate")
            self._isp.set_value("movestate", 1)
        else:
            self._isp.set_value("movestate", -1)
        self._isp.cache["movestate"] = int(enabled)

    def set_awb_weights_noop(self) -> None:
        """``IMP_ISP_Tuning_SetAwbWeight/SetAwbHist``: accepted and ignored by the kernel."""
        self._isp.set_value("awb_weight", 0)

    @property
    def af_hist(self) -> KernelAfHist:
        """``IMP_ISP_Tuning_GetAfHist``: the 88-B AF statistics configuration."""
        return KernelAfHist.from_buffer_copy(self._isp.get_bytes("af_hist"))

    @af_hist.setter
    def af_hist(self, attr: KernelAfHist) -> None:
        if not isinstance(attr, KernelAfHist):
            raise InvalidArgument(f"expected a KernelAfHist, got {type(attr).__name__}")
        if not (1 <= attr.af_stat_nodeh <= 15 and 1 <= attr.af_stat_nodev <= 15):
            raise InvalidArgument("af_stat_nodeh/nodev must be 1..15 (zones of the AF grid)")
        self._isp.set_bytes("af_hist", bytes(attr))

    def set_video_drop(self, callback: Callable[[], None] | None) -> None:
        """``IMP_ISP_Tuning_SetVideoDrop``: libimp keeps the callback for its tuning daemon
        (which calls it when /proc/jz/isp/isp-w02 reports a drop)."""
        if callback is not None and not callable(callback):
            raise InvalidArgument("video drop callback must be callable (or None)")
        self._isp._tuning("SetVideoDrop")  # libimp keeps it in its tuning block
        self._isp.video_drop = callback

    def set_ae_algorithm(self, algorithm: object) -> None:
        """``IMP_ISP_SetAeAlgoFunc``: a custom AE — an ``IMPISPAeAlgoFunc`` or an object with
        ``open(init)``, ``handle(info, attr)`` (``IMPISPAeInfo`` in, ``IMPISPAeAttr`` out: set
        ``attr.change = 1`` to apply) and ``close()``. Runs while the sensor is enabled."""
        self._isp.set_algorithm("ae", algorithm)

    def set_awb_algorithm(self, algorithm: object) -> None:
        """``IMP_ISP_SetAwbAlgoFunc``: a custom AWB (``IMPISPAwbInfo`` in, ``IMPISPAwbAttr``
        out), C-style or Python, as :meth:`set_ae_algorithm`."""
        self._isp.set_algorithm("awb", algorithm)

    @property
    def sensor_attr(self) -> SensorAttr:
        """``IMP_ISP_Tuning_GetSensorAttr``: line/frame lengths, fps word, size."""
        return SensorAttr(*struct.unpack("<5I", self._isp.get_bytes("sensor_attr")))
