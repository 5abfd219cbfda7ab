"""ISP device: sensor lifecycle and the tuning transport (``IMP_ISP_*``).

The ISP is not part of the data flow (never bound); it owns ``/dev/tx-isp`` (sensor registration,
the ISP work buffer, links) and ``/dev/isp-m0`` (tuning). Sequences from kernel_abi.md §3.3.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from imp import log, runtime
from imp.core.alloc import Block
from imp.core.teardown import run_all
from imp.drivers.tuning import TuningDevice
from imp.drivers.txisp import TxIspDevice
from imp.errors import ImpError, InvalidArgument, InvalidState
from imp.kernel import abi
from imp.kernel.abi_isp import CONTROLS, KernelWB

if TYPE_CHECKING:  # custom AE/AWB (and their ctypes structs) load with the first one
    from imp.isp.algo import AlgoRunner

_log = log.get("isp")

DEFAULT_SENSOR_FPS = (25, 1)

# The controls of the first API version (Camera.set_control): names of abi_isp.CONTROLS.
LEVEL_CONTROLS = frozenset(
    {"brightness", "contrast", "saturation", "sharpness", "hue", "sinter_strength"}
    | {"temper_strength", "dpc_strength", "drc_strength", "defog_strength", "ae_comp"}
    | {"max_again", "max_dgain", "hflip", "vflip", "highlight_depress", "anti_flicker"}
    | {"running_mode", "isp_bypass", "backlight_comp", "total_gain"}
)
BYTE_CONTROLS = frozenset({"brightness", "contrast", "saturation", "sharpness", "hue"})
ENUM_LIMITS = {"hflip": 2, "vflip": 2, "running_mode": 2, "isp_bypass": 2, "anti_flicker": 3}
# No getter in the driver: libimp answers Get{Contrast,Sharpness} from its cached byte (rows
# 21, 23); the others have no C getter at all.
CACHED_DEFAULTS = {"contrast": 128, "sharpness": 128}
WRITE_ONLY = frozenset(
    {"contrast", "sharpness", "sinter_strength", "temper_strength", "isp_bypass"}
)


@dataclass(frozen=True)
class SensorInfo:
    """What ``IMPSensorInfo`` says: name, I2C address (and bus), control interface."""

    name: str
    i2c_addr: int = 0x37
    i2c_type: str | None = None  # defaults to ``name``: the kernel driver's i2c_device_id
    i2c_adapter_id: int = 0
    cbus_type: int = abi.TX_SENSOR_CONTROL_INTERFACE_I2C

    def to_kernel(self) -> abi.SensorRegisterInfo:
        if not self.name or len(self.name.encode()) >= 32:
            raise InvalidArgument(f"sensor name {self.name!r} must have 1..31 characters")
        if self.cbus_type not in (
            abi.TX_SENSOR_CONTROL_INTERFACE_I2C,
            abi.TX_SENSOR_CONTROL_INTERFACE_SPI,
        ):
            raise InvalidArgument(f"cbus_type {self.cbus_type}: use 1 (I2C) or 2 (SPI)")
        info = abi.SensorRegisterInfo()
        info.name = self.name.encode()
        info.cbus_type = self.cbus_type
        bus = bytearray(36)
        kind = (self.i2c_type or self.name).encode()[:19]
        bus[: len(kind)] = kind
        bus[20:24] = int(self.i2c_addr).to_bytes(4, "little", signed=True)
        bus[24:28] = int(self.i2c_adapter_id).to_bytes(4, "little", signed=True)
        info.bus[:] = list(bus)
        return info


class Isp:
    """State behind ``IMP_ISP_*``. Use :func:`get_isp`."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.txisp: TxIspDevice | None = None
        self.tuning: TuningDevice | None = None
        self.sensor: SensorInfo | None = None
        self.sensor_index = -1
        self.sensor_enabled = False
        self._work: Block | None = None
        self._fps = DEFAULT_SENSOR_FPS
        self.cache: dict[str, int] = {}  # values the driver cannot give back (WRITE_ONLY)
        self.wdr_mode = 0  # IMP_ISP_WDR_ENABLE_Get answers from here (libimp keeps it)
        self.bin_path: bytes | None = None  # SetDefaultBinPath, sent by AddSensor
        self.video_drop: Callable[[], None] | None = None  # SetVideoDrop (kept, as libimp)
        self.algos: dict[str, AlgoRunner] = {}  # custom AE/AWB (SetAe/AwbAlgoFunc)

    # -- lifecycle ---------------------------------------------------------------------------
    def open(self) -> None:
        log.ensure_default_handler()
        with self._lock:
            if self.txisp is not None:
                raise InvalidState("IMP_ISP_Open: the ISP is already open")
            dev = TxIspDevice(runtime.kernel())
            dev.open()
            self.txisp = dev

    def close(self) -> None:
        with self._lock:
            if self.txisp is None:
                raise InvalidState("IMP_ISP_Close: the ISP is not open")
            try:
                # Every step runs even if one fails or a Ctrl-C lands in it: the device is
                # closed in the end, so the next IMP_ISP_Open in the process works.
                errors = run_all(
                    (
                        ("DisableTuning", self._close_tuning),
                        ("DisableSensor", self._close_sensor),
                        ("DelSensor", self._close_del_sensor),
                    ),
                    _log,
                )
            finally:
                # A step cut short by a Ctrl-C leaves its device open: close what is left.
                tuning, self.tuning = self.tuning, None
                if tuning is not None:
                    run_all((("close tuning", tuning.close),), _log)
                self.algos.clear()
                dev, self.txisp = self.txisp, None
                try:
                    dev.close()
                finally:
                    runtime.release_if_idle()
        if errors:
            raise InvalidState("IMP_ISP_Close finished with errors: " + "; ".join(errors))

    def _close_tuning(self) -> None:
        if self.tuning is not None:
            self.disable_tuning()

    def _close_sensor(self) -> None:
        if self.sensor_enabled:
            self.disable_sensor()

    def _close_del_sensor(self) -> None:
        if self.sensor is not None:
            self.del_sensor(self.sensor)

    def _dev(self, what: str) -> TxIspDevice:
        if self.txisp is None:
            raise InvalidState(f"{what}: call IMP_ISP_Open first")
        return self.txisp

    def add_sensor(self, info: SensorInfo) -> None:
        with self._lock:
            dev = self._dev("AddSensor")
            if self.sensor is not None:
                raise InvalidState(
                    f"AddSensor: sensor {self.sensor.name!r} is already added; DelSensor it first"
                )
            kinfo = info.to_kernel()
            dev.register_sensor(kinfo)
            try:
                if self.bin_path is not None:
                    dev.set_bin_path(self.bin_path)
                index = dev.find_input(kinfo.name)
                dev.select_input(index)
                size = dev.buf_info_size()
                work = runtime.allocator().alloc(size, name="isp-ncu")
                try:
                    dev.set_buf_info(work.phys, size)
                except Exception:
                    runtime.allocator().free(work)
                    raise
            except Exception:
                dev.release_sensor(kinfo)
                raise
            self.sensor, self.sensor_index, self._work = info, index, work
            _log.info("sensor %s added (input %d, ISP buffer %d bytes)", info.name, index, size)

    def del_sensor(self, info: SensorInfo | None = None) -> None:
        with self._lock:
            dev = self._dev("DelSensor")
            if self.sensor is None:
                raise InvalidState("DelSensor: no sensor was added")
            if info is not None and info.name != self.sensor.name:
                raise InvalidArgument(
                    f"DelSensor: sensor {info.name!r} is not the added {self.sensor.name!r}"
                )
            if self.sensor_enabled:
                self.disable_sensor()
            dev.select_input(-1)
            dev.release_sensor(self.sensor.to_kernel())
            if self._work is not None:
                runtime.allocator().free(self._work)
                self._work = None
            self.sensor, self.sensor_index = None, -1

    def enable_sensor(self) -> None:
        with self._lock:
            dev = self._dev("EnableSensor")
            if self.sensor is None or dev.selected_input() == -1:
                raise InvalidState("EnableSensor: call IMP_ISP_AddSensor first")
            if self.sensor_enabled:
                return
            for kind, runner in list(self.algos.items()):
                try:  # libimp sends the algorithm OPEN before the stream starts
                    runner.start(dev)
                except ImpError as exc:  # the picture must not depend on a user algorithm
                    _log.error("custom %s algorithm dropped: %s", kind, exc)
                    del self.algos[kind]
            dev.stream_on()
            dev.create_links(0)
            dev.links_stream_on()
            self.sensor_enabled = True

    def disable_sensor(self) -> None:
        with self._lock:
            dev = self._dev("DisableSensor")
            if not self.sensor_enabled:
                raise InvalidState("DisableSensor: the sensor is not enabled")
            for runner in self.algos.values():
                runner.stop()
            dev.links_stream_off()
            dev.destroy_links(self.sensor_index)
            dev.stream_off()
            self.sensor_enabled = False

    def enable_tuning(self) -> None:
        with self._lock:
            self._dev("EnableTuning")
            if self.tuning is not None:
                return
            tuning = TuningDevice(runtime.kernel())
            tuning.open()
            self.tuning = tuning
            self.cache.clear()
            try:
                packed = tuning.get(CONTROLS["sensor_fps"])
                if packed >> 16 and packed & 0xFFFF:
                    self._fps = (packed >> 16, packed & 0xFFFF)
            except Exception as exc:  # not fatal: keep the default
                _log.debug("sensor fps not readable: %s", exc)

    def disable_tuning(self) -> None:
        with self._lock:
            if self.tuning is None:
                raise InvalidState("DisableTuning: tuning is not enabled")
            tuning, self.tuning = self.tuning, None
            tuning.close()

    def set_algorithm(self, kind: str, funcs: object) -> AlgoRunner:
        """``IMP_ISP_SetAeAlgoFunc``/``SetAwbAlgoFunc``: keep a custom algorithm; it runs while
        the sensor is enabled (started now if it already is)."""
        from imp.isp.algo import AlgoRunner

        runner = AlgoRunner(kind, funcs)
        with self._lock:
            dev = self._dev(f"Set{kind.capitalize()}AlgoFunc")
            old = self.algos.pop(kind, None)
            if old is not None:
                old.stop()
            if self.sensor_enabled:
                runner.start(dev)  # raises if the algorithm's open() fails: not kept then
            self.algos[kind] = runner
        return runner

    def _tuning(self, what: str) -> TuningDevice:
        if self.tuning is None:
            raise InvalidState(f"{what}: call IMP_ISP_EnableTuning first")
        return self.tuning

    # -- tuning transport, by control name (imp.kernel.abi_isp.CONTROLS) ---------------------
    def set_value(self, name: str, value: int) -> None:
        """Set a scalar control (the value travels in the ioctl's ``value`` word)."""
        ctl = CONTROLS[name]
        with self._lock:
            self._tuning(f"set {name}").set(ctl, int(value))
            self.cache[name] = int(value)

    def get_value(self, name: str) -> int:
        ctl = CONTROLS[name]
        with self._lock:
            return self._tuning(f"get {name}").get(ctl)

    def set_bytes(self, name: str, data: bytes) -> None:
        """Set a pointer control: exactly the kernel's copy size of ``data``."""
        ctl = CONTROLS[name]
        with self._lock:
            self._tuning(f"set {name}").set_bytes(ctl, bytes(data))

    def get_bytes(self, name: str, data: bytes | None = None) -> bytes:
        ctl = CONTROLS[name]
        if name == "wait_frame":  # blocks: must not hold the ISP lock
            return self._tuning("WaitFrame").get_bytes(ctl, data, blocking=True)
        with self._lock:
            return self._tuning(f"get {name}").get_bytes(ctl, data)

    def tx_command(self, cmd: int, arg: bytearray, what: str) -> bytearray:
        """A ``/dev/tx-isp`` command (GPIO, frame drop, registers, WDR, custom 3A)."""
        with self._lock:
            return self._dev(what).command(cmd, arg, what)

    # -- the named controls of the first API version (Camera.set_control) -------------------
    def set_control(self, name: str, value: int) -> None:
        if name not in LEVEL_CONTROLS:
            raise InvalidArgument(
                f"unknown ISP control {name!r}; known: {', '.join(sorted(LEVEL_CONTROLS))}"
            )
        value = int(value)
        if name in BYTE_CONTROLS and not 0 <= value <= 255:
            raise InvalidArgument(f"{name} must be 0..255 (128 is neutral), got {value}")
        if name in ENUM_LIMITS and not 0 <= value < ENUM_LIMITS[name]:
            raise InvalidArgument(f"{name} must be 0..{ENUM_LIMITS[name] - 1}, got {value}")
        if value < 0:
            raise InvalidArgument(f"{name} must be >= 0, got {value}")
        if name == "defog_strength":
            if value > 255:
                raise InvalidArgument(f"defog_strength must be 0..255, got {value}")
            self.set_bytes(name, bytes([value]))
        elif name == "total_gain":
            raise InvalidArgument("total_gain is read-only (the AE result)")
        elif name == "isp_bypass":
            self.set_bypass(bool(value))
        else:
            self.set_value(name, value)

    def get_control(self, name: str) -> int:
        if name not in LEVEL_CONTROLS:
            raise InvalidArgument(f"unknown ISP control {name!r}")
        if name in WRITE_ONLY:
            return self.cached(name)
        if name == "defog_strength":
            return self.get_bytes(name)[0]
        return self.get_value(name)

    def cached(self, name: str) -> int:
        """A value the driver cannot give back: what this process last set (libimp's cached
        byte for contrast and sharpness, 128 until set)."""
        with self._lock:
            self._tuning(f"get {name}")
            if name in self.cache:
                return self.cache[name]
            if name in CACHED_DEFAULTS:
                return CACHED_DEFAULTS[name]
            raise InvalidState(
                f"{name} cannot be read back before it is set: the driver has no getter"
            )

    def set_bypass(self, enable: bool) -> None:
        """``IMP_ISP_Tuning_SetISPBypass``: rebuild the link around the bypass flag (row 28)."""
        with self._lock:
            dev = self._dev("SetISPBypass")
            tuning = self._tuning("SetISPBypass")
            dev.links_stream_off()
            dev.destroy_links(-1)
            tuning.set(CONTROLS["isp_bypass"], int(enable))
            dev.create_links(0 if enable else 1)
            dev.links_stream_on()
            self.cache["isp_bypass"] = int(enable)

    def set_sensor_fps(self, num: int, den: int) -> None:
        if not (0 < num < 1 << 16 and 0 < den < 1 << 16):
            raise InvalidArgument(f"sensor fps {num}/{den}: both must be 1..65535")
        if num / den > 120:
            raise InvalidArgument(f"sensor fps {num}/{den} is above what a T31 sensor runs (120)")
        if num < den:
            # A period above 1 s stalls every channel (and the next SetSensorFPS waits it out).
            raise InvalidArgument(
                f"sensor fps {num}/{den} is below 1 fps; give 1..120 frames per second"
            )
        with self._lock:
            self._tuning("SetSensorFPS").set(CONTROLS["sensor_fps"], (num << 16) | den)
            self._fps = (num, den)

    def read_sensor_fps(self) -> tuple[int, int]:
        """``IMP_ISP_Tuning_GetSensorFPS``: the core's fps word (row 15)."""
        packed = self.get_value("sensor_fps") & 0xFFFFFFFF
        self._fps = (packed >> 16, packed & 0xFFFF)
        return self._fps

    def sensor_size(self) -> tuple[int, int] | None:
        """The sensor's output size, as its driver publishes it in /proc/jz/sensor (None if no
        sensor is registered or the driver does not say)."""
        if self.sensor is None:
            return None
        kernel = runtime.kernel()
        try:
            w = int(kernel.read_text("/proc/jz/sensor/width").strip())
            h = int(kernel.read_text("/proc/jz/sensor/height").strip())
        except (OSError, ValueError):
            return None
        return (w, h) if w > 0 and h > 0 else None

    def sensor_fps(self) -> tuple[int, int]:
        """The sensor frame rate as last set or read (default 25/1)."""
        return self._fps

    def set_wb(self, mode: int, rgain: int, bgain: int) -> None:
        if not 0 <= mode <= 9:
            raise InvalidArgument(f"WB mode {mode}: use ISP_CORE_WB_MODE_AUTO..CUSTOM (0..9)")
        if not (0 <= rgain < 1 << 16 and 0 <= bgain < 1 << 16):
            raise InvalidArgument(f"WB gains must be 0..65535, got r={rgain} b={bgain}")
        self.set_bytes("wb", bytes(KernelWB(mode=mode, rgain=rgain, bgain=bgain)))

    def get_wb(self) -> tuple[int, int, int]:
        wb = KernelWB.from_buffer_copy(self.get_bytes("wb"))
        return int(wb.mode), int(wb.rgain), int(wb.bgain)


_isp = Isp()


def get_isp() -> Isp:
    return _isp
