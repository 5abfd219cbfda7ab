"""The tx-isp core: state shared by all the ISP's nodes, and its lifecycle (kernel_abi.md §3.1).

``/dev/tx-isp``, ``/dev/framechanN`` and ``/dev/isp-m0`` are views of one driver. This object is
that driver's memory: module activation, registered sensors, the selected input, the link, the
stream switches, the ISP work buffers, the tuning controls, the three channels and the frame
engine that fills them. One re-entrant lock guards all of it; blocking calls wait on
``cond`` (which releases the lock), and the engine renders pictures outside the lock.
"""

from __future__ import annotations

import errno
import logging
import threading
import time
from dataclasses import dataclass

import numpy as np

from imp.kernel import abi
from kernel_stubs.arena import Arena
from kernel_stubs.config import SimConfig
from kernel_stubs.devices.base import fail
from kernel_stubs.devices.channel import Channel, ChannelState
from kernel_stubs.devices.controls import ControlStore
from kernel_stubs.devices.engine import FrameEngine
from kernel_stubs.faults import FaultPlan
from kernel_stubs.isp3a.attach import attach_physics
from kernel_stubs.isp3a.board import Gpios
from kernel_stubs.sensor import SensorModel, make_sensor

__all__ = ["NATIVE_SENSOR_SIZES", "IspCore", "RegisteredSensor", "monotonic_raw_ns"]

log = logging.getLogger("kernel_stubs.isp")

CHANNELS = 3

# Output sizes of the T31 sensor drivers the simulator knows by name; others get the configured
# size or 1080p. IMP_SIM_SENSOR_SIZE (SimConfig.sensor_size) overrides all of them.
NATIVE_SENSOR_SIZES: dict[str, tuple[int, int]] = {
    **dict.fromkeys(
        ("gc2053", "gc2063", "jxf23", "jxf37", "sc2232", "sc2239", "sc2335", "imx307", "imx327"),
        (1920, 1080),
    ),
    **dict.fromkeys(
        ("ov9732", "ov9712", "ov9750", "jxh42", "jxh62", "sc1035", "sc1045", "gc1004", "ar0141"),
        (1280, 720),
    ),
    "sc3335": (2304, 1296),
    "sc4335": (2560, 1440),
    "gc4653": (2560, 1440),
}
DEFAULT_SENSOR_SIZE = (1920, 1080)


def monotonic_raw_ns() -> int:
    """The clock of DQBUF timestamps (``getrawmonotonic()`` on the board)."""
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC_RAW)


@dataclass(eq=False)
class RegisteredSensor:
    name: str
    info: bytes  # the 0x50-byte tx_isp_sensor_register_info
    model: SensorModel


class IspCore:
    """The ISP driver's state; devices and the engine share it under ``lock``."""

    def __init__(self, config: SimConfig, arena: Arena, faults: FaultPlan) -> None:
        self.config = config
        self.arena = arena
        self.faults = faults
        self.lock = threading.RLock()
        self.cond = threading.Condition(self.lock)
        self.channels = [Channel(i) for i in range(CHANNELS)]
        self.controls = ControlStore(config.fps)
        self.txisp_opens = 0
        self.tuning_state = 1  # 1 slake, 2 activated, 3 opened (§3.4)
        self.sensors: list[RegisteredSensor] = []
        self.input_index = -1
        self.active_link = -1
        self.sensor_streaming = False
        self.links_streaming = False
        self.session = 0  # bumped by every sensor stream start: frame numbers restart
        self.stream_t0_ns = 0  # MONOTONIC_RAW at that start, whole microseconds
        self.buf_info: tuple[int, int] | None = None
        self.wdr_enabled = False
        self.wdr_buf_info: tuple[int, int] | None = None
        self.bin_path = bytes(abi.BIN_PATH_LEN)
        self.frame_drop = bytes(0x24)
        self.night_drop_pending = 0
        self.gpios = Gpios()  # the board's GPIOs (IR LED, IR-cut) as SET_GPIO left them
        self.shut_down = False
        self.engine = FrameEngine(self)

    # -- derived state -------------------------------------------------------------------
    @property
    def sensor(self) -> SensorModel | None:
        """The model of the selected input, None while no input is selected."""
        with self.lock:
            if 0 <= self.input_index < len(self.sensors):
                return self.sensors[self.input_index].model
            return None

    def sensor_size(self) -> tuple[int, int]:
        model = self.sensor
        return (model.width, model.height) if model is not None else (0, 0)

    def pipeline_active(self) -> bool:
        """Frames flow: sensor streaming, a link built and streaming, not shut down."""
        return (
            not self.shut_down
            and self.sensor_streaming
            and self.links_streaming
            and self.active_link >= 0
            and self.sensor is not None
        )

    def notify(self) -> None:
        with self.cond:
            self.cond.notify_all()

    # -- lifecycle (§3.1) ----------------------------------------------------------------
    def txisp_opened(self) -> None:
        with self.lock:
            self.txisp_opens += 1
            if self.txisp_opens == 1:
                for ch in self.channels:
                    if ch.state == ChannelState.SLAKE:
                        ch.state = ChannelState.ACTIVATED
                if self.tuning_state == 1:
                    self.tuning_state = 2
                self.active_link = -1

    def txisp_closed(self) -> None:
        with self.cond:
            self.txisp_opens -= 1
            if self.txisp_opens == 0:
                self._slake()
            self.cond.notify_all()

    def _slake(self) -> None:
        self.sensor_streaming = False
        self.links_streaming = False
        self.active_link = -1
        for ch in self.channels:
            ch.slake()
        self.tuning_state = 1

    # -- sensors -------------------------------------------------------------------------
    def register_sensor(self, name: str, info: bytes) -> None:
        with self.lock:
            if any(s.name == name for s in self.sensors):
                return  # the i2c client already exists; registering again changes nothing
            size = self.config.sensor_size or NATIVE_SENSOR_SIZES.get(name, DEFAULT_SENSOR_SIZE)
            try:
                model = make_sensor(self.config.sensor, size)
                isp = attach_physics(model, self.controls, self.gpios, lambda: self.wdr_enabled)
                if isp is not None:
                    isp.channel_of = self._channel_of
            except (ValueError, OSError) as exc:
                fail(errno.EINVAL, f"register sensor {name!r}: sensor model: {exc}")
            self.sensors.append(RegisteredSensor(name, info, model))

    def release_sensor(self, name: str) -> None:
        with self.cond:
            index = next((i for i, s in enumerate(self.sensors) if s.name == name), None)
            if index is None:
                fail(errno.EINVAL, f"release sensor {name!r}: not registered")
            if self.sensor_streaming and index == self.input_index:
                fail(errno.EBUSY, f"release sensor {name!r}: it is streaming")
            del self.sensors[index]
            if self.input_index == index:
                self.input_index = -1
            elif self.input_index > index:
                self.input_index -= 1
            self.cond.notify_all()

    def select_input(self, index: int) -> None:
        with self.cond:
            if index != -1 and not 0 <= index < len(self.sensors):
                fail(errno.EINVAL, f"S_INPUT {index}: only {len(self.sensors)} sensor(s)")
            if self.sensor_streaming and index != self.input_index:
                fail(errno.EBUSY, "S_INPUT: stop the sensor stream first")
            self.input_index = index
            self.cond.notify_all()

    def _channel_of(self, plane: np.ndarray) -> int | None:
        """The frame channel whose buffer the ISP is filling at ``plane``'s address."""
        phys = self.arena.phys_of(plane.__array_interface__["data"][0])
        with self.lock:
            for ch in self.channels:
                if any(buf.phys == phys for buf in ch.buffers):
                    return ch.index
        return None

    # -- streaming -----------------------------------------------------------------------
    def set_sensor_streaming(self, on: bool) -> None:
        sensor = self.sensor
        if on and sensor is not None and not self.sensor_streaming:
            try:  # outside the lock: the engine may be waiting on it
                sensor.warm_up()
            except Exception as exc:  # the first frame will say what is wrong
                log.debug("sensor warm-up failed: %s", exc)
        with self.cond:
            if on and not self.sensor_streaming:
                if self.sensor is None:
                    fail(errno.EINVAL, "STREAMON: no sensor input selected (S_INPUT)")
                self.sensor_streaming = True
                self.session += 1
                self.stream_t0_ns = monotonic_raw_ns() // 1000 * 1000
                self.engine.ensure_running()
            elif not on:
                self.sensor_streaming = False
            self.cond.notify_all()

    def set_fps(self, packed: int) -> None:
        num, den = (packed >> 16) & 0xFFFF, packed & 0xFFFF
        if num == 0 or den == 0:
            fail(errno.EINVAL, f"sensor fps {num}/{den} is invalid")
        with self.cond:
            self.controls.set(abi.CID_SENSOR_FPS, packed & 0xFFFFFFFF)
            self.cond.notify_all()

    def set_running_mode(self, value: int) -> None:
        with self.cond:
            switched = bool(value) != self.controls.night
            self.controls.set(abi.CID_RUNNING_MODE, value)
            if switched:
                # The core drops frames while the sensor settles (gotcha 12).
                self.night_drop_pending = self.config.day_night_drop
            self.cond.notify_all()

    # -- teardown ------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop the engine and make every blocked caller return."""
        with self.cond:
            self.shut_down = True
            self.faults.stop.set()
            self.cond.notify_all()
        self.engine.stop()
