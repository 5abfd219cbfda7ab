"""The simulated board around the ISP: GPIOs (IR LED, IR-cut filter) and the sensor's registers.

GPIOs: ``IMP_ISP_SET_GPIO_INIT_OR_FREE`` claims/frees pins and ``IMP_ISP_SET_GPIO_STA`` sets
levels (42-B ``{u16 num[10], u16 sta[10], u16 free}``, 0xFF ends the list). The simulated board
wires the IR LED to GPIO 49 (high = on) and the IR-cut filter to GPIO 52 (high = filter out of
the light path); while the application has claimed neither, they follow the running mode, as a
camera app driving them would.

Sensor registers (``DBG_S/G_REGISTER``, gc2053 rules: ``reg & 0xffff`` <- ``val & 0xff``): a
plain byte map, except the live registers, which read what AE applies: chip id 0xf0/0xf1 =
0x20/0x53, integration time 0x03 (bits 13..8) / 0x04 (lines), frame length (VTS) 0x41/0x42,
analog gain step 0xb6 (4 steps per doubling; the simulator's encoding), digital pre-gain
0xb1 (whole) / 0xb2 (1/64 steps, bits 7..2). Writes to them are overwritten by the next AE cycle,
as on the sensor while AE runs.
"""

from __future__ import annotations

import math
import struct
import threading
from collections.abc import Callable

from kernel_stubs.devices.controls import ControlStore

__all__ = ["IRCUT_GPIO", "IR_LED_GPIO", "Gpios", "SensorRegisters"]

IR_LED_GPIO = 49
IRCUT_GPIO = 52
_END = 0xFF


class Gpios:
    """Claimed pins and their levels (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.claimed: set[int] = set()
        self.levels: dict[int, int] = {}

    def apply(self, set_levels: bool, raw: bytes) -> None:
        """One SET_GPIO_INIT (``set_levels`` False) or SET_GPIO_STA call."""
        values = struct.unpack("<21H", raw[:42])
        nums, stas, free = values[:10], values[10:20], values[20]
        with self._lock:
            for num, sta in zip(nums, stas, strict=True):
                if num >= _END:
                    break
                if set_levels:
                    self.levels[num] = sta & 1
                elif free:
                    self.claimed.discard(num)
                    self.levels.pop(num, None)
                else:
                    self.claimed.add(num)
                    self.levels[num] = sta & 1

    def level(self, num: int, default: bool) -> bool:
        """The pin's level if the application drives it, else ``default``."""
        with self._lock:
            return bool(self.levels[num]) if num in self.claimed else default


class SensorRegisters:
    """The gc2053-like register map behind DBG_S/G_REGISTER."""

    def __init__(self, store: ControlStore, height: Callable[[], int]) -> None:
        self._store = store
        self._height = height
        self._plain: dict[int, int] = {}

    def __setitem__(self, reg: int, value: int) -> None:
        self._plain[reg & 0xFFFF] = value & 0xFF

    def __getitem__(self, reg: int) -> int:
        value = self.get(reg, -1)
        if value < 0:
            raise KeyError(reg)
        return value

    def get(self, reg: int, default: int = 0) -> int:
        live = self._live()
        reg &= 0xFFFF
        if reg in live:
            return live[reg]
        return self._plain.get(reg, default)

    def _live(self) -> dict[int, int]:
        ex = self._store.exposure
        vts = self._height() + 45
        step = max(0, round(4 * math.log2(max(ex.again, 1024) / 1024)))
        pre = max(64, round(ex.dgain * ex.isp_dgain / 1024 / 1024 * 64))
        return {
            0xF0: 0x20,
            0xF1: 0x53,
            0x03: (ex.integration_time >> 8) & 0x3F,
            0x04: ex.integration_time & 0xFF,
            0x41: (vts >> 8) & 0xFF,
            0x42: vts & 0xFF,
            0xB6: min(step, 0xFF),
            0xB1: min(pre >> 6, 0xFF),
            0xB2: (pre << 2) & 0xFC,
        }
