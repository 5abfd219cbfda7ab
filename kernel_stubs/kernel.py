"""``SimKernel``: the fake T31 kernel behind the same seam as the real one.

It owns the fd table, the device nodes, two proc files and the fault plan; the drivers
themselves live in :mod:`kernel_stubs.devices`, over the shared ISP core state.
Calls may come from any thread: the fd table has its own lock and is never held while a driver
runs, so a DQBUF blocked in one thread leaves every other call free.
"""

from __future__ import annotations

import errno
import threading
from types import TracebackType

from kernel_stubs.acoustics.config import AcousticsConfig
from kernel_stubs.arena import Arena
from kernel_stubs.config import MIB, SimConfig
from kernel_stubs.devices.base import Device, OpenFile
from kernel_stubs.devices.dsp import DspDevice
from kernel_stubs.devices.framechan import FrameChannelDevice
from kernel_stubs.devices.ispm0 import IspTuningDevice
from kernel_stubs.devices.rmem import RmemDevice
from kernel_stubs.devices.txisp import TxIspDevice
from kernel_stubs.faults import FaultPlan
from kernel_stubs.isp_core import IspCore
from kernel_stubs.malloc_policy import release_large_blocks
from kernel_stubs.sensor import SensorModel

__all__ = ["FIRST_FD", "SimKernel"]

FIRST_FD = 1000  # far from the host's real descriptors, so a mix-up fails loudly

_CPUINFO = """\
system type\t\t: Ingenic Xburst
machine\t\t\t: Unknown
processor\t\t: 0
cpu model\t\t: Ingenic Xburst V0.0  FPU V0.0
BogoMIPS\t\t: 1392.64
wait instruction\t: yes
microsecond timers\t: no
tlb_entries\t\t: 32
extra interrupt vector\t: yes
hardware watchpoint\t: yes, count: 1, address/irw mask: [0x0fff]
isa\t\t\t: mips1 mips2 mips32r1 mips32r2
ASEs implemented\t: mxu
shadow register sets\t: 1
kscratch registers\t: 0
core\t\t\t: 0
VCED exceptions\t\t: not available
VCEI exceptions\t\t: not available

Hardware\t: Ingenic T31
Revision\t: 0000
Serial\t\t: 0000000000000000
"""


def _cmdline(config: SimConfig) -> str:
    def size(n: int) -> str:
        return f"{n // MIB}M" if n % MIB == 0 else f"{n // 1024}K"

    # The board's kernel owns everything below the arena; libimp parses rmem=<size>@<phys>.
    return (
        f"console=ttyS1,115200n8 mem={size(config.rmem_base)}@0x0 "
        f"rmem={size(config.rmem_size)}@{config.rmem_base:#x} init=/linuxrc "
        "rootfstype=squashfs root=/dev/mtdblock2 rw\n"
    )


_SENSOR_PROC = "/proc/jz/sensor/"


class SimKernel:
    """The simulated T31 kernel (implements :class:`imp.kernel.seam.Kernel`).

    Introspection for tests: ``isp`` (the :class:`~kernel_stubs.isp_core.IspCore`: channels,
    controls, engine), ``sensor`` (the selected :class:`SensorModel` or None), ``arena``,
    ``faults`` (:class:`~kernel_stubs.faults.FaultPlan`), ``config``, ``open_fds()``, ``dsp``
    (the :class:`~kernel_stubs.devices.dsp.DspDevice`; ``dsp.codec`` is the audio timeline).
    """

    name = "sim"

    def __init__(self, config: SimConfig | None = None) -> None:
        self.config = config if config is not None else SimConfig()
        release_large_blocks()  # picture-sized heap blocks back to the system on free
        self.arena = Arena(self.config.rmem_base, self.config.rmem_size)
        self.faults = FaultPlan(on_unplug=self._wake_unplugged)
        self.isp = IspCore(self.config, self.arena, self.faults)
        self.dsp = DspDevice(
            self.config.clock,
            lambda: AcousticsConfig.resolve(self.config.mic, self.config.speaker, self.config.echo),
            lambda: self.faults.is_unplugged(DspDevice.path),
        )
        devices: list[Device] = [
            TxIspDevice(self.isp),
            *(FrameChannelDevice(self.isp, ch) for ch in self.isp.channels),
            IspTuningDevice(self.isp),
            RmemDevice(self.arena),
            self.dsp,
        ]
        self._devices = {d.path: d for d in devices}
        self._proc = {"/proc/cmdline": _cmdline(self.config), "/proc/cpuinfo": _CPUINFO}
        self._lock = threading.Lock()
        self._files: dict[int, OpenFile] = {}
        self._views: dict[int, OpenFile] = {}
        self._next_fd = FIRST_FD
        self._shut_down = False

    # -- introspection -------------------------------------------------------------------------
    @property
    def sensor(self) -> SensorModel | None:
        return self.isp.sensor

    def open_fds(self) -> int:
        with self._lock:
            return len(self._files)

    # -- the seam ------------------------------------------------------------------------------
    def open(self, path: str, flags: int) -> int:
        device = self._devices.get(path)
        if device is None:
            if path in self._proc:
                raise OSError(errno.EACCES, f"{path}: use read_text")
            raise OSError(errno.ENOENT, f"{path}: no such device in the simulator")
        self.faults.check(path, "open")
        with self._lock:
            fd = self._next_fd
            self._next_fd += 1
            file = OpenFile(fd, path, flags, device)
            self._files[fd] = file
        try:
            device.open(file)
        except BaseException:
            with self._lock:
                del self._files[fd]
            raise
        return fd

    def close(self, fd: int) -> None:
        with self._lock:
            file = self._files.pop(fd, None)
        if file is None:
            raise OSError(errno.EBADF, f"close({fd}): not an open simulator fd")
        file.device.release(file)

    def ioctl(self, fd: int, cmd: int, arg: bytearray) -> int:
        file = self._file(fd)
        self.faults.check(file.path, "ioctl", cmd)
        return file.device.ioctl(file, cmd & 0xFFFFFFFF, arg)

    def mmap(self, fd: int, length: int, offset: int) -> memoryview:
        file = self._file(fd)
        self.faults.check(file.path, "mmap")
        if length <= 0:
            raise OSError(errno.EINVAL, f"mmap: length {length} must be positive")
        view = file.device.mmap(file, length, offset)
        with self._lock:
            self._views[id(view)] = file
        return view

    def unmap(self, view: memoryview) -> None:
        with self._lock:
            file = self._views.pop(id(view), None)
        if file is not None:
            file.maps.pop(id(view), None)
        try:
            view.release()
        except BufferError:
            pass  # still exported (e.g. numpy views of it); the memory stays valid anyway

    def read_text(self, path: str) -> str:
        if path.startswith(_SENSOR_PROC):
            return self._sensor_proc(path)
        try:
            return self._proc[path]
        except KeyError:
            raise OSError(errno.ENOENT, f"{path}: not simulated") from None

    def _sensor_proc(self, path: str) -> str:
        """``/proc/jz/sensor/*``: what the T31 sensor driver publishes once it is registered."""
        model = self.isp.sensor
        if model is None:
            raise OSError(errno.ENOENT, f"{path}: no sensor registered")
        fps_num, fps_den = self.isp.controls.fps()
        values = {
            "name": model.name,
            "width": str(model.width),
            "height": str(model.height),
            "max_fps": str(fps_num // max(fps_den, 1)),
        }
        key = path[len(_SENSOR_PROC) :]
        if key not in values:
            raise OSError(errno.ENOENT, f"{path}: not simulated")
        return values[key] + "\n"

    def exists(self, path: str) -> bool:
        if path in self._devices:
            return not self.faults.is_unplugged(path)
        return path in self._proc

    # -- lifetime ------------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop the frame engine and wake every blocked call (idempotent).

        Blocked DQBUFs return EINVAL, LISTENs EINTR, stalls end. The fd table is left as it is.
        """
        with self._lock:
            if self._shut_down:
                return
            self._shut_down = True
        self.isp.shutdown()
        self.dsp.shutdown()

    def __enter__(self) -> SimKernel:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.shutdown()

    # -- helpers -------------------------------------------------------------------------------
    def _file(self, fd: int) -> OpenFile:
        with self._lock:
            file = self._files.get(fd)
        if file is None:
            raise OSError(errno.EBADF, f"fd {fd}: not an open simulator fd")
        return file

    def _wake_unplugged(self, path: str) -> None:
        self.isp.notify()
        self.dsp.notify()
