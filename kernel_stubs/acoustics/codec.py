"""The simulated audio codec: one sample clock shared by capture (AI, DMIC) and playback (AO).

Positions are sample indices on the codec's timeline, which starts when the first stream is
enabled and ends when the last one is disabled (the codec applies one rate to both directions,
which is why ENABLE_STREAM refuses a second opener with different attributes).

Clocks (``SimConfig.clock``):

- ``realtime``: position = (CLOCK_MONOTONIC_RAW - start) * rate. A capture of [p, p + n) returns
  when the clock has passed p + n; playback is placed at max(end of queue, now) -- the gap, if
  the application ran dry, is silence -- and returns once at most ``ring`` samples are queued.
  A reader that falls more than ``ring_s`` behind loses the oldest samples (an overrun).
- ``virtual``: nothing waits for the wall clock. Capture runs as fast as it is read; playback is
  consumed as fast as it is written, but while a capture stream runs the two stay in step:
  a capture waits (at most ``GRACE_S`` of wall time) for the speaker to cover the instant it
  records, and playback waits for capture to come within ``ring`` samples.

What a microphone hears at position p: (source(p) + echo * speaker(p - delay)) scaled by the
record gain; a DMIC capsule adds its own delay and noise floor. The AEC reference of [p, p + n)
is speaker[p, p + n): exactly what was played at that instant.
"""

from __future__ import annotations

import errno
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from kernel_stubs.acoustics.config import AcousticsConfig
from kernel_stubs.acoustics.sources import Source, db_to_gain, make_source, white_noise
from kernel_stubs.acoustics.speaker import SpeakerFile, SpeakerHistory

__all__ = ["DMIC_DELAYS_US", "DMIC_NOISE_DBFS", "CaptureStream", "Codec"]

GRACE_S = 0.25  # virtual clock: wall time one direction waits for the other
RING_S = 0.32  # realtime: capture overrun threshold (the driver's DMA ring)
_HISTORY_S = 8

# The array: four capsules 2.1 cm apart on a line, the sound arriving along it, so each hears the
# source 62.5 µs (2.1 cm at 343 m/s) after the previous one; each has its own self-noise.
DMIC_DELAYS_US = (0.0, 62.5, 125.0, 187.5)
DMIC_NOISE_DBFS = (-70.0, -68.0, -72.0, -66.0)


def _now_ns() -> int:
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC_RAW)


@dataclass(eq=False)
class CaptureStream:
    """One enabled capture fd: its read position, record gain and channel layout."""

    channels: int
    position: int
    gain_db: float = 0.0
    start: int = 0  # the position at ENABLE_STREAM
    dmic: bool = False
    enabled: bool = True
    overruns: int = 0


class Codec:
    """The shared timeline. All methods are thread-safe; waits release the lock."""

    def __init__(self, clock: str, is_gone: Callable[[], bool]) -> None:
        self.virtual = clock == "virtual"
        self._is_gone = is_gone
        self._cond = threading.Condition()
        self._shut = False
        self.rate = 0
        self.config: AcousticsConfig | None = None
        self._source: Source | None = None
        self._t0 = 0
        self._users = 0
        self._captures: list[CaptureStream] = []
        self._history = SpeakerHistory(1)
        self.ao_enabled = False
        self._ao_next = 0
        self._ao_dry = False
        self._capture_stalled_at: int | None = None
        self.dac_gain_db = 0.0
        self._speaker: SpeakerFile | None = None

    # -- lifetime -------------------------------------------------------------------------------
    def start(self, rate: int, config: AcousticsConfig) -> None:
        """The first stream enables: the codec takes ``rate`` and the room settings."""
        with self._cond:
            if self._users == 0:
                self.rate = rate
                self.config = config
                self._source = make_source(config.mic, rate)
                self._t0 = _now_ns()
                self._history = SpeakerHistory(_HISTORY_S * rate)
                self._ao_next = 0
            self._users += 1

    def stop(self) -> None:
        with self._cond:
            self._users = max(0, self._users - 1)
            self._cond.notify_all()

    @property
    def running(self) -> bool:
        return self._users > 0

    def shutdown(self) -> None:
        with self._cond:
            self._shut = True
            self._cond.notify_all()
        self.close_speaker()

    def notify(self) -> None:
        with self._cond:
            self._cond.notify_all()

    # -- time -----------------------------------------------------------------------------------
    def position_time_ns(self, position: int) -> int:
        """Realtime: the CLOCK_MONOTONIC_RAW instant (ns) of timeline ``position``."""
        return self._t0 + position * 1_000_000_000 // max(self.rate, 1)

    def _clock_pos(self) -> int:
        return (_now_ns() - self._t0) * self.rate // 1_000_000_000

    def _virtual_now(self) -> int:
        live = [c.position for c in self._captures if c.enabled]
        return max(live) if live else self._ao_next

    def now(self) -> int:
        """The current timeline position."""
        with self._cond:
            return self._virtual_now() if self.virtual else self._clock_pos()

    def _check_alive(self) -> None:
        if self._shut:
            raise OSError(errno.EIO, "/dev/dsp: the kernel shut down")
        if self._is_gone():
            raise OSError(errno.ENODEV, "/dev/dsp: device unplugged (fault injection)")

    def _wait_clock(self, target: int, alive: Callable[[], bool]) -> bool:
        """Realtime: sleep until the clock reaches ``target``; False if ``alive()`` went False."""
        while True:
            self._check_alive()
            if not alive():
                return False
            ahead = target - self._clock_pos()
            if ahead <= 0:
                return True
            self._cond.wait(ahead / self.rate + 0.0005)

    # -- capture --------------------------------------------------------------------------------
    def open_capture(self, channels: int, gain_db: float, dmic: bool) -> CaptureStream:
        with self._cond:
            pos = self._virtual_now() if self.virtual else self._clock_pos()
            stream = CaptureStream(channels, pos, gain_db, start=pos, dmic=dmic)
            self._captures.append(stream)
            self._cond.notify_all()
            return stream

    def close_capture(self, stream: CaptureStream) -> None:
        with self._cond:
            stream.enabled = False
            if stream in self._captures:
                self._captures.remove(stream)
            self._cond.notify_all()

    def capture(self, stream: CaptureStream, n: int) -> tuple[np.ndarray, np.ndarray] | None:
        """``n`` frames of ``stream`` (interleaved int16) and the speaker reference (mono).

        None if the stream was disabled while waiting.
        """
        with self._cond:
            if self.virtual:
                self._wait_speaker(stream.position + n, stream)
            else:
                behind = self._clock_pos() - stream.position
                if behind > RING_S * self.rate:  # the reader was away: the ring overflowed
                    stream.position += behind - n
                    stream.overruns += 1
                if not self._wait_clock(stream.position + n, lambda: stream.enabled):
                    return None
            if not stream.enabled:
                return None
            p = stream.position
            stream.position += n
            ref = self._history.read(p, n)
            self._drain_speaker()
            self._cond.notify_all()
            data = self._render(stream, p, n)
            return data, ref

    def _wait_speaker(self, target: int, stream: CaptureStream) -> None:
        """Virtual: let the speaker cover ``target`` unless it ran dry (GRACE_S wall time)."""
        deadline = time.monotonic() + GRACE_S
        while self.ao_enabled and not self._ao_dry and self._ao_next < target and stream.enabled:
            self._check_alive()
            left = deadline - time.monotonic()
            if left <= 0:
                self._ao_dry = True
                break
            self._cond.wait(left)
        self._check_alive()

    def _render(self, stream: CaptureStream, p: int, n: int) -> np.ndarray:
        assert self._source is not None and self.config is not None
        echo = self.config.echo
        gain = db_to_gain(stream.gain_db)
        if not stream.dmic:
            mono = self._hear(p, n, 0, echo.enabled)
            out = _to_int16(mono * gain)
            return np.repeat(out, stream.channels) if stream.channels > 1 else out
        mics = []
        for i, (delay_us, noise_db) in enumerate(zip(DMIC_DELAYS_US, DMIC_NOISE_DBFS, strict=True)):
            lag = round(delay_us * self.rate / 1e6)
            heard = self._hear(p, n, lag, echo.enabled)
            heard += white_noise(p, n, 32768.0 / np.sqrt(2.0) * db_to_gain(noise_db), 100 + i)
            mics.append(_to_int16(heard * gain))
        return np.stack(mics, axis=1).reshape(-1)

    def _hear(self, p: int, n: int, lag: int, with_echo: bool) -> np.ndarray:
        assert self._source is not None and self.config is not None
        heard = self._source.render(p - lag, n)
        if with_echo:
            delay = round(self.config.echo.delay_ms * self.rate / 1000) + lag
            played = self._history.read(p - delay, n).astype(np.float64)
            heard += played * db_to_gain(self.config.echo.db)
        return heard

    # -- playback -------------------------------------------------------------------------------
    def open_playback(self, rate: int) -> None:
        with self._cond:
            self.ao_enabled = True
            self._ao_dry = False
            start = self._virtual_now() if self.virtual else self._clock_pos()
            self._ao_next = max(self._ao_next, start)
            path = self.config.speaker if self.config is not None else None
            if path is not None and self._speaker is None:
                self._speaker = SpeakerFile(path, rate, self._ao_next)

    def close_playback(self) -> None:
        """DISABLE_STREAM on the AO fd: the speaker file is completed and closed."""
        with self._cond:
            self.ao_enabled = False
            if self._speaker is not None:
                upto = self._ao_next if self.virtual else self._clock_pos()
                self._speaker.drain(self._history, upto)
            self._cond.notify_all()
        self.close_speaker()

    def close_speaker(self) -> None:
        with self._cond:
            speaker, self._speaker = self._speaker, None
        if speaker is not None:
            speaker.close()

    def play(self, mono: np.ndarray, ring: int, alive: Callable[[], bool]) -> bool:
        """Queue ``mono`` (int16) to the speaker; returns once at most ``ring`` samples wait.

        False if ``alive()`` went False before the data could be queued.
        """
        with self._cond:
            self._check_alive()
            if not alive():
                return False
            played = _to_int16(mono.astype(np.float64) * db_to_gain(self.dac_gain_db))
            if self.virtual:
                self._wait_capture(self._ao_next + len(played) - ring, alive)
                start = max(self._ao_next, self._virtual_now())
            else:
                start = max(self._ao_next, self._clock_pos())  # ran dry: the gap stays silent
            self._history.write(start, played)
            self._ao_next = start + len(played)
            self._ao_dry = False
            self._cond.notify_all()
            if not self.virtual:
                self._wait_clock(self._ao_next - ring, alive)
            self._drain_speaker()
            return True

    def _wait_capture(self, target: int, alive: Callable[[], bool]) -> None:
        """Virtual: while capture runs, stay within the ring of it (GRACE_S wall time at most)."""
        deadline = time.monotonic() + GRACE_S
        while alive():
            live = [c.position for c in self._captures if c.enabled]
            if not live or max(live) >= target or max(live) == self._capture_stalled_at:
                return
            self._check_alive()
            left = deadline - time.monotonic()
            if left <= 0:
                self._capture_stalled_at = max(live)  # don't wait again until it moves
                return
            self._cond.wait(left)

    def pending(self) -> int:
        """Samples queued to the speaker but not played yet."""
        with self._cond:
            now = self._virtual_now() if self.virtual else self._clock_pos()
            if self.virtual and not any(c.enabled for c in self._captures):
                return 0
            return max(0, self._ao_next - now)

    def drain(self, timeout: float) -> bool:
        """FLUSH: wait until everything queued was played, at most ``timeout`` s."""
        deadline = time.monotonic() + timeout
        with self._cond:
            seen, since = -1, time.monotonic()
            while True:
                self._check_alive()
                now = self._virtual_now() if self.virtual else self._clock_pos()
                if self.virtual and now != seen:
                    seen, since = now, time.monotonic()
                # Virtual: with no capture running, or one that stopped reading (GRACE_S),
                # nothing holds virtual time back: the queue plays out at once.
                idle = self.virtual and (
                    not any(c.enabled for c in self._captures)
                    or time.monotonic() - since >= GRACE_S
                )
                if self._ao_next <= now or idle:
                    self._drain_speaker()
                    return True
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                if self.virtual:
                    wait = min(left, GRACE_S)
                else:
                    wait = min(left, (self._ao_next - now) / self.rate)
                self._cond.wait(wait + 0.0005)

    def _drain_speaker(self) -> None:
        if self._speaker is None:
            return
        if self.virtual:
            live = [c.position for c in self._captures if c.enabled]
            upto = min(self._ao_next, max(live)) if live else self._ao_next
        else:
            upto = self._clock_pos()
        self._speaker.drain(self._history, upto)


def _to_int16(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(x), -32768, 32767).astype(np.int16)
