"""``/dev/dsp``: the T31 OSS "xb_snd" driver (kernel_abi.md §6) over the simulated codec.

Rules enforced (each has a test in tests/test_stub_dsp.py): O_RDONLY opens capture (AI, DMIC),
O_WRONLY playback (AO), O_RDWR is refused with EPERM; at most 16 opens per direction;
``read``/``write`` are no-ops returning 0 and ``poll`` answers EINVAL (the seam has no such
calls, so :meth:`DspDevice.read` etc. exist for the tests); unknown ioctls give EPERM (the
driver's -1); SPEED/CHANNELS/SETFMT are stored and applied at ENABLE_STREAM, which fails with
EPERM while another opener streams with different attributes; GET_AI_STREAM/SET_AO_STREAM need
an enabled stream (else EPERM), move data in steps of floor(4096/frag)*frag bytes and rewrite
``size`` in place with the bytes done; FLUSH waits at most 500 ms (ETIMEDOUT); SYNC sleeps
(pending fragments + 1) * 10 ms; record/replay volume 0..31; AEC only on a capture fd; the
DMIC stream (four interleaved capsules) on a capture fd.
"""

from __future__ import annotations

import errno
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from imp.kernel import abi_audio as A
from kernel_stubs.acoustics.codec import CaptureStream, Codec
from kernel_stubs.acoustics.config import AcousticsConfig
from kernel_stubs.devices.base import Device, OpenFile, fail, need
from kernel_stubs.devices.usercopy import copy_from_user, copy_to_user

__all__ = ["DspDevice"]

RATES = (8000, 11025, 16000, 22050, 24000, 32000, 44100, 48000, 96000)
_CAPTURE, _PLAYBACK = "capture", "playback"


@dataclass(eq=False)
class _DspFile:
    """Per-open state (the driver's per-file private data)."""

    direction: str
    rate: int = 8000
    channels: int = 1
    fmt: int = A.AFMT_S16_LE
    running: bool = False
    dmic: bool = False
    aec: bool = False
    record_volume: int = 12  # 0 dB
    capture: CaptureStream | None = None

    def attrs(self) -> tuple[int, int, int]:
        return (self.rate, self.channels, self.fmt)


class DspDevice(Device):
    path = A.DSP_PATH

    def __init__(
        self,
        clock: str,
        settings: Callable[[], AcousticsConfig],
        is_gone: Callable[[], bool],
    ) -> None:
        self.codec = Codec(clock, is_gone)
        self._settings = settings
        self._lock = threading.Lock()
        self._files: dict[int, _DspFile] = {}
        self.replay_volume = 12

    # -- file operations --------------------------------------------------------------------------
    def open(self, file: OpenFile) -> None:
        mode = file.flags & 3
        if mode == A.O_RDWR:
            fail(
                errno.EPERM,
                "/dev/dsp: O_RDWR is not supported; open O_RDONLY (AI) or O_WRONLY (AO)",
            )
        if mode not in (A.O_RDONLY, A.O_WRONLY):
            fail(errno.EINVAL, f"/dev/dsp: bad access mode {mode}")
        direction = _CAPTURE if mode == A.O_RDONLY else _PLAYBACK
        with self._lock:
            same = sum(1 for f in self._files.values() if f.direction == direction)
            if same >= A.MAX_OPENS_PER_DIRECTION:
                fail(errno.EBUSY, f"/dev/dsp: already {same} {direction} opens (the limit)")
            self._files[file.fd] = _DspFile(direction)

    def release(self, file: OpenFile) -> None:
        state = self._state(file)
        self._stop(state)
        with self._lock:
            self._files.pop(file.fd, None)

    def read(self, file: OpenFile, length: int) -> int:
        """``read()``: a no-op returning 0 (data moves only through GET_AI_STREAM)."""
        self._state(file)
        return 0

    def write(self, file: OpenFile, data: bytes) -> int:
        """``write()``: a no-op returning 0 (data moves only through SET_AO_STREAM)."""
        self._state(file)
        return 0

    def poll(self, file: OpenFile) -> int:
        """``poll()``: the driver returns -EINVAL as the event mask."""
        self._state(file)
        return -errno.EINVAL

    def shutdown(self) -> None:
        self.codec.shutdown()

    def notify(self) -> None:
        self.codec.notify()

    # -- ioctl ------------------------------------------------------------------------------------
    def ioctl(self, file: OpenFile, cmd: int, arg: bytearray) -> int:
        state = self._state(file)
        handler = _HANDLERS.get(cmd)
        if handler is None:
            fail(errno.EPERM, f"/dev/dsp: unknown ioctl {cmd:#010x}")
        return handler(self, state, arg)

    def _speed(self, s: _DspFile, arg: bytearray) -> int:
        rate = A.arg_int(need(arg, 4, "SNDCTL_DSP_SPEED"))
        if rate not in RATES:
            fail(errno.EINVAL, f"SNDCTL_DSP_SPEED: {rate} Hz is not one of {RATES}")
        s.rate = rate
        arg[0:4] = A.int_arg(rate)
        return 0

    def _channels(self, s: _DspFile, arg: bytearray) -> int:
        ch = A.arg_int(need(arg, 4, "SNDCTL_DSP_CHANNELS"))
        if ch not in (1, 2):
            fail(errno.EINVAL, f"SNDCTL_DSP_CHANNELS: {ch} channels (1 or 2)")
        s.channels = ch
        return 0

    def _stereo(self, s: _DspFile, arg: bytearray) -> int:
        value = A.arg_int(need(arg, 4, "SNDCTL_DSP_STEREO"))
        if value not in (0, 1):
            fail(errno.EINVAL, f"SNDCTL_DSP_STEREO: {value} (0 or 1)")
        s.channels = 2 if value else 1
        return 0

    def _setfmt(self, s: _DspFile, arg: bytearray) -> int:
        fmt = A.arg_int(need(arg, 4, "SNDCTL_DSP_SETFMT"))
        if fmt not in (A.AFMT_QUERY, A.AFMT_S16_LE):
            fail(errno.EINVAL, f"SNDCTL_DSP_SETFMT: format {fmt:#x} (only AFMT_S16_LE 0x10)")
        if fmt != A.AFMT_QUERY:
            s.fmt = fmt
        arg[0:4] = A.int_arg(s.fmt)
        return 0

    def _getfmts(self, s: _DspFile, arg: bytearray) -> int:
        need(arg, 4, "SNDCTL_DSP_GETFMTS")[0:4] = A.int_arg(A.AFMT_S16_LE)
        return 0

    def _replay_volume(self, s: _DspFile, arg: bytearray) -> int:
        value = A.arg_int(need(arg, 4, "SNDCTL_EXT_SET_REPLAY_VOLUME"))
        if not 0 <= value <= A.REPLAY_VOLUME_MAX:
            fail(errno.EINVAL, f"SET_REPLAY_VOLUME: {value} is outside 0..31")
        self.replay_volume = value
        self.codec.dac_gain_db = volume_db(value)
        return 0

    def _record_volume(self, s: _DspFile, arg: bytearray) -> int:
        value = A.arg_int(need(arg, 4, "SNDCTL_EXT_SET_RECORD_VOLUME"))
        if not 0 <= value <= A.RECORD_VOLUME_MAX:
            fail(errno.EINVAL, f"SET_RECORD_VOLUME: {value} is outside 0..31")
        s.record_volume = value
        if s.capture is not None:
            s.capture.gain_db = volume_db(value)
        return 0

    def _enable(self, s: _DspFile, dmic: bool) -> int:
        if dmic and s.direction != _CAPTURE:
            fail(errno.EPERM, "/dev/dsp: the DMIC stream needs a capture (O_RDONLY) fd")
        with self._lock:
            for other in self._files.values():
                if other is not s and other.running and other.attrs() != s.attrs():
                    fail(
                        errno.EPERM,
                        f"/dev/dsp: another opener streams {other.rate} Hz x{other.channels}; "
                        f"this one asks {s.rate} Hz x{s.channels}",
                    )
            if s.running:
                return 0
            s.running = True
        try:
            self.codec.start(s.rate, self._settings())
        except ValueError as exc:
            s.running = False
            fail(errno.EINVAL, str(exc))
        if s.direction == _CAPTURE:
            s.dmic = dmic
            channels = A.DMIC_CHANNELS if dmic else s.channels
            s.capture = self.codec.open_capture(channels, volume_db(s.record_volume), dmic)
        else:
            self.codec.open_playback(s.rate)
        return 0

    def _stop(self, s: _DspFile) -> None:
        with self._lock:
            if not s.running:
                return
            s.running = False
        if s.capture is not None:
            self.codec.close_capture(s.capture)
            s.capture = None
        else:
            self.codec.close_playback()
        self.codec.stop()

    def _disable(self, s: _DspFile, dmic: bool) -> int:
        if dmic and s.direction != _CAPTURE:
            fail(errno.EPERM, "/dev/dsp: the DMIC stream needs a capture (O_RDONLY) fd")
        self._stop(s)
        return 0

    def _get_ai(self, s: _DspFile, arg: bytearray) -> int:
        a = A.AiStreamArg.from_buffer_copy(bytes(need(arg, 12, "SNDCTL_EXT_GET_AI_STREAM")[:12]))
        if s.direction != _CAPTURE:
            fail(errno.EPERM, "GET_AI_STREAM on a playback fd")
        stream = s.capture
        if not s.running or stream is None:
            fail(errno.EPERM, "GET_AI_STREAM before ENABLE_STREAM")
        frame = 2 * stream.channels
        step = A.transfer_step(s.rate, stream.channels)
        total = a.size - a.size % frame
        done = 0
        while done < total:
            n = min(step, total - done)
            got = self.codec.capture(stream, n // frame)
            if got is None:
                break
            data, ref = got
            copy_to_user(a.data + done, data.astype("<i2").tobytes(), "GET_AI_STREAM data")
            if s.aec and a.aec:
                mono_done = done // stream.channels
                copy_to_user(a.aec + mono_done, ref.astype("<i2").tobytes(), "GET_AI_STREAM aec")
            done += n
        a.size = done
        arg[0:12] = bytes(a)
        return 0

    def _set_ao(self, s: _DspFile, arg: bytearray) -> int:
        a = A.AoStreamArg.from_buffer_copy(bytes(need(arg, 8, "SNDCTL_EXT_SET_AO_STREAM")[:8]))
        if s.direction != _PLAYBACK:
            fail(errno.EPERM, "SET_AO_STREAM on a capture fd")
        if not s.running:
            fail(errno.EPERM, "SET_AO_STREAM before ENABLE_STREAM")
        frame = 2 * s.channels
        step = A.transfer_step(s.rate, s.channels)
        ring = (step + A.fragment_bytes(s.rate, s.channels)) // frame
        total = a.size - a.size % frame
        done = 0
        while done < total:
            n = min(step, total - done)
            raw = copy_from_user(a.data + done, n, "SET_AO_STREAM data")
            pcm = np.frombuffer(raw, dtype="<i2").astype(np.int16)
            if s.channels > 1:  # the speaker is mono: it plays the mix
                pcm = pcm.reshape(-1, s.channels).mean(axis=1).round().astype(np.int16)
            if not self.codec.play(pcm, ring, lambda: s.running):
                break
            done += n
        a.size = done
        arg[0:8] = bytes(a)
        return 0

    def _flush(self, s: _DspFile, arg: bytearray) -> int:
        self._need_playback(s, "FLUSH_STREAM")
        if not self.codec.drain(A.FLUSH_TIMEOUT_S):
            fail(errno.ETIMEDOUT, "FLUSH_STREAM: the pipe did not drain within 500 ms")
        return 0

    def _sync(self, s: _DspFile, arg: bytearray) -> int:
        self._need_playback(s, "SYNC_STREAM")
        frag = max(1, s.rate // 100)
        pending = -(-self.codec.pending() // frag)
        if not self.codec.virtual:
            time.sleep((pending + 1) * 0.010)
        return 0

    def _need_playback(self, s: _DspFile, what: str) -> None:
        if s.direction != _PLAYBACK:
            fail(errno.EPERM, f"{what}: only on a playback (O_WRONLY) fd")
        if not s.running:
            fail(errno.EPERM, f"{what} before ENABLE_STREAM")

    def _state(self, file: OpenFile) -> _DspFile:
        with self._lock:
            state = self._files.get(file.fd)
        if state is None:
            fail(errno.EBADF, f"/dev/dsp: fd {file.fd} is not open")
        return state


def _aec_switch(on: bool) -> Callable[[DspDevice, _DspFile, bytearray], int]:
    def handler(dev: DspDevice, s: _DspFile, arg: bytearray) -> int:
        if s.direction != _CAPTURE:
            fail(errno.EPERM, "/dev/dsp: AEC is only available on a capture (O_RDONLY) fd")
        s.aec = on
        return 0

    return handler


def volume_db(index: int) -> float:
    """SET_RECORD/REPLAY_VOLUME index -> dB: -18 dB at 0, 1.5 dB per step (12 = 0 dB)."""
    return -18.0 + 1.5 * index


_Handler = Callable[[DspDevice, _DspFile, bytearray], int]
_HANDLERS: dict[int, _Handler] = {
    A.SNDCTL_DSP_SPEED: DspDevice._speed,
    A.SNDCTL_DSP_CHANNELS: DspDevice._channels,
    A.SNDCTL_DSP_STEREO: DspDevice._stereo,
    A.SNDCTL_DSP_SETFMT: DspDevice._setfmt,
    A.SNDCTL_DSP_GETFMTS: DspDevice._getfmts,
    A.SNDCTL_EXT_SET_REPLAY_VOLUME: DspDevice._replay_volume,
    A.SNDCTL_EXT_SET_RECORD_VOLUME: DspDevice._record_volume,
    A.SNDCTL_EXT_ENABLE_AEC: _aec_switch(True),
    A.SNDCTL_EXT_DISABLE_AEC: _aec_switch(False),
    A.SNDCTL_EXT_ENABLE_STREAM: lambda d, s, a: d._enable(s, dmic=False),
    A.SNDCTL_EXT_DISABLE_STREAM: lambda d, s, a: d._disable(s, dmic=False),
    A.SNDCTL_EXT_ENABLE_DMIC_STREAM: lambda d, s, a: d._enable(s, dmic=True),
    A.SNDCTL_EXT_DISABLE_DMIC_STREAM: lambda d, s, a: d._disable(s, dmic=True),
    A.SNDCTL_EXT_GET_AI_STREAM: DspDevice._get_ai,
    A.SNDCTL_EXT_SET_AO_STREAM: DspDevice._set_ao,
    A.SNDCTL_EXT_FLUSH_STREAM: DspDevice._flush,
    A.SNDCTL_EXT_SYNC_STREAM: DspDevice._sync,
}
