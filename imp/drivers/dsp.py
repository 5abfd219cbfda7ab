"""Client of ``/dev/dsp`` (the T31 OSS "xb_snd" driver, kernel_abi.md §6).

libimp's order (IMP_AI_Enable / IMP_AO_Enable): open (O_RDONLY for capture, O_WRONLY for
playback), SPEED, CHANNELS, SETFMT(S16_LE), ENABLE_STREAM; then GET_AI_STREAM / SET_AO_STREAM
with user pointers; DISABLE_STREAM and close. The stream ioctls block (and re-wait on signals),
so they belong in worker threads that are stopped with DISABLE_STREAM from another thread.
"""

from __future__ import annotations

import errno
import threading

from imp.drivers._ioctl import call
from imp.errors import DeviceError
from imp.kernel import abi_audio as A
from imp.kernel.seam import Kernel

__all__ = ["DspStream"]


class DspStream:
    """One open of ``/dev/dsp`` in one direction (``"capture"`` or ``"playback"``)."""

    def __init__(self, kernel: Kernel, direction: str) -> None:
        if direction not in ("capture", "playback"):
            raise ValueError(f"direction {direction!r}: 'capture' or 'playback'")
        self.kernel = kernel
        self.direction = direction
        self.fd: int | None = None
        self.rate = 0
        self.channels = 0
        self._running = False
        self.dmic = False
        self._lock = threading.Lock()

    # -- lifetime ------------------------------------------------------------------------------
    def open(self) -> None:
        flags = A.O_RDONLY if self.direction == "capture" else A.O_WRONLY
        try:
            self.fd = self.kernel.open(A.DSP_PATH, flags)
        except OSError as exc:
            raise DeviceError(exc.errno or 0, f"open {A.DSP_PATH}: {exc.strerror or exc}") from exc

    def configure(self, rate: int, channels: int) -> None:
        """SPEED, CHANNELS, SETFMT(AFMT_S16_LE): stored by the driver until ENABLE_STREAM."""
        self._ioctl(A.SNDCTL_DSP_SPEED, A.int_arg(rate), "SNDCTL_DSP_SPEED")
        self._ioctl(A.SNDCTL_DSP_CHANNELS, A.int_arg(channels), "SNDCTL_DSP_CHANNELS")
        self._ioctl(A.SNDCTL_DSP_SETFMT, A.int_arg(A.AFMT_S16_LE), "SNDCTL_DSP_SETFMT")
        self.rate, self.channels = rate, channels

    def enable(self, dmic: bool = False) -> None:
        cmd = A.SNDCTL_EXT_ENABLE_DMIC_STREAM if dmic else A.SNDCTL_EXT_ENABLE_STREAM
        self._ioctl(cmd, A.int_arg(0), "ENABLE_DMIC_STREAM" if dmic else "ENABLE_STREAM")
        self._running = True
        self.dmic = dmic

    def disable(self) -> None:
        """DISABLE_STREAM: also wakes a thread blocked in GET_AI_STREAM / SET_AO_STREAM."""
        if self.fd is None or not self._running:
            return
        self._running = False
        cmd = A.SNDCTL_EXT_DISABLE_DMIC_STREAM if self.dmic else A.SNDCTL_EXT_DISABLE_STREAM
        self._ioctl(cmd, A.int_arg(0), "DISABLE_STREAM")

    def close(self) -> None:
        fd, self.fd = self.fd, None
        if fd is not None:
            try:
                self.kernel.close(fd)
            except OSError as exc:
                raise DeviceError(exc.errno or 0, f"close {A.DSP_PATH}: {exc}") from exc

    @property
    def running(self) -> bool:
        return self._running

    # -- controls ------------------------------------------------------------------------------
    def set_record_volume(self, index: int) -> None:
        self._ioctl(A.SNDCTL_EXT_SET_RECORD_VOLUME, A.int_arg(index), "SET_RECORD_VOLUME")

    def set_replay_volume(self, index: int) -> None:
        self._ioctl(A.SNDCTL_EXT_SET_REPLAY_VOLUME, A.int_arg(index), "SET_REPLAY_VOLUME")

    def set_aec(self, on: bool) -> None:
        cmd = A.SNDCTL_EXT_ENABLE_AEC if on else A.SNDCTL_EXT_DISABLE_AEC
        self._ioctl(cmd, A.int_arg(0), "ENABLE_AEC" if on else "DISABLE_AEC")

    # -- data ----------------------------------------------------------------------------------
    def read(self, data_addr: int, size: int, aec_addr: int = 0) -> int:
        """GET_AI_STREAM into user memory; returns the bytes captured (``size`` rewritten)."""
        arg = bytearray(bytes(A.AiStreamArg(data_addr & 0xFFFFFFFF, aec_addr & 0xFFFFFFFF, size)))
        self._ioctl(A.SNDCTL_EXT_GET_AI_STREAM, arg, "GET_AI_STREAM")
        return int(A.AiStreamArg.from_buffer_copy(bytes(arg)).size)

    def write(self, data_addr: int, size: int) -> int:
        """SET_AO_STREAM from user memory; returns the bytes queued (``size`` rewritten)."""
        arg = bytearray(bytes(A.AoStreamArg(data_addr & 0xFFFFFFFF, size)))
        self._ioctl(A.SNDCTL_EXT_SET_AO_STREAM, arg, "SET_AO_STREAM")
        return int(A.AoStreamArg.from_buffer_copy(bytes(arg)).size)

    def flush(self) -> bool:
        """FLUSH_STREAM: True when drained, False on the driver's 500 ms ETIMEDOUT."""
        try:
            self._ioctl(A.SNDCTL_EXT_FLUSH_STREAM, A.int_arg(0), "FLUSH_STREAM")
        except DeviceError as exc:
            if exc.errno == errno.ETIMEDOUT:
                return False
            raise
        return True

    def sync(self) -> None:
        self._ioctl(A.SNDCTL_EXT_SYNC_STREAM, A.int_arg(0), "SYNC_STREAM")

    def _ioctl(self, cmd: int, arg: bytearray, what: str) -> bytearray:
        fd = self.fd
        if fd is None:
            raise DeviceError(errno.EBADF, f"{A.DSP_PATH} {what}: the device is not open")
        return call(self.kernel, fd, cmd, arg, f"{A.DSP_PATH} {what}")
