"""The simulated ISP hardware: a thread that turns sensor frames into finished channel buffers.

Sensor frame ``n`` (counted from the sensor's stream start) is rendered into the next queued
buffer of every streaming channel, each at its own geometry, straight into the arena (the
buffer's Y plane at ``phys`` and its CbCr plane at ``phys + nv12_uv_offset``: no copies). A
channel with no queued buffer drops that frame.

Two clocks (``SimConfig.clock``):

- ``realtime``: frame ``n`` is exposed during [T(n), T(n+1)) and completes at T(n+1), where
  T(n) = t0 + n * period. The buffers are claimed and the picture rendered shortly before the
  end of the slot, and the buffer is handed back at the deadline, so timestamps
  (MONOTONIC_RAW at completion) jitter only by the wake-up latency. Deadlines come from t0
  and the frame number, never from the previous frame, so nothing drifts.
  On the board the ISP never misses a slot for want of CPU; here rendering costs CPU, so a
  load spike (another process, x265 on a hard picture) can make the engine late. A late frame
  is still rendered and delivered, stamped with its slot's time T(n+1) (``late_frames``), and
  the frames after it follow at once until the engine is back on schedule. Only a frame whose
  deadline is more than ``MAX_LATE_PERIODS`` periods gone is skipped, for every channel
  (``overruns``): the engine never runs an unbounded burst after a long stall.
- ``virtual``: frames go as fast as every streaming channel has a buffer queued, stamped
  exactly T(n). A channel without buffers for 1 s of wall time stops holding the others
  back and drops frames until it queues again.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from imp.kernel import abi
from kernel_stubs.devices.channel import BufferRecord, Channel
from kernel_stubs.devices.formats import geometry_of, is_nv12
from kernel_stubs.sensor import ChannelGeometry, IspControls, SensorModel

if TYPE_CHECKING:
    from kernel_stubs.isp_core import IspCore

__all__ = ["MAX_LATE_PERIODS", "STARVATION_TIMEOUT", "FrameEngine"]

log = logging.getLogger("kernel_stubs.engine")

# s of wall time a virtual-clock channel may hold the others back (x265 opens in ~0.3 s). Kept
# under GetFrame's 2 s default timeout, so one undrained channel cannot time out the others'
# readers. A consumer silent for longer (x265 starved of CPU at load average 10+) loses frames.
STARVATION_TIMEOUT = 1.0
# Virtual clock: after a period with no streaming channel, the first frame waits this long (wall
# time) so that channels an application enables together (EnableChn 0, then 3) all start with
# the same sensor frame, as they would within one frame period on the board.
START_GATE = 0.100
_COARSE_MARGIN_NS = 1_500_000  # finish each wait with a short sleep, for precision
_CLAIM_LEAD_NS = 8_000_000  # realtime: buffers are claimed and rendered this long before read-out
# Realtime: a frame up to this many periods late is still delivered (stamped with its slot's
# time); one further behind is skipped as an overrun. 4 periods (160 ms at 25 fps) rides out
# the stalls a loaded 2-core host shows (the longest seen in bench/pipeline_drops.py: see
# docs/STATUS.md) yet bounds the burst of frames consumers get while the engine catches up.
MAX_LATE_PERIODS = 4
_LATE_NS = 2_000_000  # realtime: a completion this far past its deadline counts as late


def _now_ns() -> int:
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC_RAW)


@dataclass
class _Job:
    """One buffer to fill for the current frame."""

    channel: Channel
    buf: BufferRecord
    epoch: int
    geometry: ChannelGeometry | None
    y: np.ndarray | None = None
    uv: np.ndarray | None = None
    error: bool = False


class FrameEngine:
    """Produces frames for an :class:`~kernel_stubs.isp_core.IspCore`.

    Introspection: ``frame_no`` (the sensor frame most recently started, -1 before any),
    ``overruns`` (realtime frames skipped because the engine was more than
    ``max_late_periods`` behind), ``late_frames`` (realtime frames delivered after their
    deadline, stamped with their slot's time), ``max_late_ns`` (the latest of those),
    ``render_errors``.
    """

    def __init__(self, core: IspCore) -> None:
        self.core = core
        self.frame_no = -1
        self.overruns = 0
        self.late_frames = 0
        self.max_late_ns = 0
        self.max_late_periods = MAX_LATE_PERIODS
        self.render_errors = 0
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._anchor_n = 0
        self._anchor_ns = 0
        self._rate = (0, 1)
        self._session = 0
        self._next_n = 0
        self._gate_until: float | None = None  # virtual clock: first-frame gate (monotonic s)
        self._last_stamp_us = -1

    # -- control ----------------------------------------------------------------------------
    def ensure_running(self) -> None:
        """Start the engine thread unless it runs (call with the core lock held)."""
        if self._stop.is_set():
            return
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="sim-isp-engine", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop and join the thread (call without the core lock)."""
        self._stop.set()
        self.core.notify()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -- timing -----------------------------------------------------------------------------
    def _frame_time_ns(self, n: int) -> int:
        num, den = self._rate
        return self._anchor_ns + (n - self._anchor_n) * 1_000_000_000 * den // num

    def _sync_rate(self, n: int) -> None:
        """Follow a sensor fps change from frame ``n`` on, keeping T(n) where it was."""
        rate = self.core.controls.fps()
        if rate != self._rate:
            self._anchor_ns = self._frame_time_ns(n)
            self._anchor_n = n
            self._rate = rate

    def _sleep_until(self, deadline_ns: int) -> None:
        while not self._stop.is_set():
            remaining = deadline_ns - _now_ns()
            if remaining <= 0:
                return
            if remaining > 2 * _COARSE_MARGIN_NS:
                self._stop.wait((remaining - _COARSE_MARGIN_NS) / 1e9)
            else:
                time.sleep(remaining / 1e9)

    # -- the thread -------------------------------------------------------------------------
    def _live(self, session: int) -> bool:
        core = self.core
        return not self._stop.is_set() and core.session == session and core.pipeline_active()

    def _run(self) -> None:
        core = self.core
        while True:
            with core.cond:
                while not self._stop.is_set() and not core.pipeline_active():
                    core.cond.wait()
                if self._stop.is_set():
                    return
                session = core.session
                if session != self._session:
                    self._session, self._next_n = session, 0
                    self._gate_until = None
                    self._anchor_n, self._anchor_ns = 0, core.stream_t0_ns
                    self._rate = core.controls.fps()
            try:
                if core.config.clock == "virtual":
                    self._run_virtual(session)
                else:
                    self._run_realtime(session)
            except Exception:  # the fake hardware must not die silently under a test
                log.exception("frame engine failed; frames stop")
                return

    def _run_realtime(self, session: int) -> None:
        core = self.core
        with core.cond:
            # Frames exposed while the links were still down were never captured.
            n = self._next_n
            while self._frame_time_ns(n + 1) <= _now_ns():
                n += 1
        while True:
            with core.cond:
                if not self._live(session):
                    self._next_n = n
                    return
                self._sync_rate(n)
                now = _now_ns()
                # Too far behind to catch up: that frame is lost for every channel.
                while self._frame_time_ns(n + 1 + self.max_late_periods) <= now:
                    self.overruns += 1
                    self._drop_all()
                    n += 1
                    self._sync_rate(n)
                deadline = self._frame_time_ns(n + 1)
            # Take the buffers late in the slot, just before the frame is read out: a channel
            # that starts streaming during the slot still gets this frame (as channels enabled
            # together at start-up do), and consumers get most of a period to hand buffers back.
            self._sleep_until(deadline - _CLAIM_LEAD_NS)
            with core.cond:
                if not self._live(session):
                    self._next_n = n
                    return
                self.frame_no = n
                jobs, sensor, controls = self._claim(n)
            self._render(jobs, sensor, controls, n)
            self._sleep_until(deadline)
            done = _now_ns()
            with core.cond:
                self._complete(
                    jobs, self._stamp_us(sensor, n, self._slot_stamp_ns(deadline, done) // 1000)
                )
            n += 1

    def _slot_stamp_ns(self, deadline: int, done: int) -> int:
        """Realtime: the completion time, or the slot's own deadline for a late frame (a frame
        caught up after a stall keeps the time it was exposed for, as on the board)."""
        late = done - deadline
        if late <= _LATE_NS:
            return done
        self.late_frames += 1
        self.max_late_ns = max(self.max_late_ns, late)
        return deadline

    def _run_virtual(self, session: int) -> None:
        core = self.core
        n = self._next_n
        while True:
            with core.cond:
                while True:
                    if not self._live(session):
                        self._next_n = n
                        return
                    if core.night_drop_pending:
                        break
                    wait = self._virtual_wait()
                    if wait == 0:
                        break
                    core.cond.wait(wait)
                if n == 0:
                    # Virtual time starts with the first frame (not at the sensor STREAMON,
                    # which may precede IMP_System_Init), so stamps begin "now".
                    self._anchor_n, self._anchor_ns = 0, _now_ns()
                self._sync_rate(n)
                self.frame_no = n
                jobs, sensor, controls = self._claim(n)
                stamp_us = self._frame_time_ns(n) // 1000
            self._render(jobs, sensor, controls, n)
            with core.cond:
                self._complete(jobs, self._stamp_us(sensor, n, stamp_us))
            n += 1

    def _virtual_wait(self) -> float | None:
        """0 if frame n may go now, else how long to wait (None: until something changes)."""
        now = time.monotonic()
        consumers = self._consumers()
        if not consumers:
            self._gate_until = None
            return None
        if self._gate_until is None:
            self._gate_until = now + START_GATE
        if now < self._gate_until:
            return self._gate_until - now
        starving: list[float] = []
        any_ready = False
        for ch in consumers:
            if ch.queued:
                ch.starved_since = None
                any_ready = True
            else:
                if ch.starved_since is None:
                    ch.starved_since = now
                starving.append(ch.starved_since + STARVATION_TIMEOUT - now)
        if not any_ready:
            return None  # nobody would get the frame: do not burn frame numbers
        pending = [left for left in starving if left > 0]
        return min(pending) if pending else 0

    # -- per frame --------------------------------------------------------------------------
    def _consumers(self) -> list[Channel]:
        """Channels the ISP writes to: streaming with an NV12 format (others never complete)."""
        return [
            ch
            for ch in self.core.channels
            if ch.streaming and ch.fmt is not None and is_nv12(ch.fmt)
        ]

    def _drop_all(self) -> None:
        for ch in self._consumers():
            ch.dropped += 1

    def _claim(self, n: int) -> tuple[list[_Job], SensorModel | None, IspControls]:
        core = self.core
        controls = core.controls.picture()
        sensor = core.sensor
        if core.night_drop_pending > 0:
            core.night_drop_pending -= 1
            self._drop_all()
            return [], sensor, controls
        jobs: list[_Job] = []
        for ch in self._consumers():
            buf = ch.claim()
            if buf is None:
                ch.dropped += 1
                ch.no_buffer += 1
                continue
            jobs.append(self._job(ch, buf, sensor))
        return jobs, sensor, controls

    def _job(self, ch: Channel, buf: BufferRecord, sensor: SensorModel | None) -> _Job:
        assert ch.fmt is not None
        job = _Job(ch, buf, ch.epoch, None)
        w, h = int(ch.fmt.pix.width), int(ch.fmt.pix.height)
        if sensor is None or w <= 0 or h <= 0 or abi.nv12_sizeimage(w, h) > buf.length:
            job.error = True  # the format changed under queued buffers: nothing fits
            return job
        job.geometry = geometry_of(ch.fmt, sensor.width, sensor.height)
        arena = self.core.arena
        job.y = arena.array(buf.phys, h, w)
        job.uv = arena.array(buf.phys + abi.nv12_uv_offset(w, h), h // 2, w)
        return job

    def _render(
        self, jobs: list[_Job], sensor: SensorModel | None, controls: IspControls, n: int
    ) -> None:
        for job in jobs:
            if job.error or sensor is None:
                job.error = True
                continue
            assert job.geometry is not None and job.y is not None and job.uv is not None
            try:
                sensor.render_nv12(n, job.geometry, controls, job.y, job.uv)
            except Exception as exc:  # a bad geometry must fail the buffer, not the engine
                job.error = True
                self.render_errors += 1
                if self.render_errors <= 3:
                    log.warning("framechan%d: frame %d failed: %s", job.channel.index, n, exc)

    def _stamp_us(self, sensor: SensorModel | None, n: int, clock_us: int) -> int:
        """The timestamp of frame ``n``: the capture time a sensor recorded for it (a V4L2
        device's stamp, already on CLOCK_MONOTONIC_RAW) when it offers one, else the engine's
        clock (exact T(n) on the virtual clock). Never goes backwards: a device stamp at or
        before the previous frame's (a driver restarted its clock) becomes previous + 1 µs."""
        capture_time_ns = getattr(sensor, "capture_time_ns", None)
        stamp_ns = capture_time_ns(n) if capture_time_ns is not None else None
        stamp_us = clock_us if stamp_ns is None else int(stamp_ns) // 1000
        if stamp_ns is not None and stamp_us <= self._last_stamp_us:
            stamp_us = self._last_stamp_us + 1
        self._last_stamp_us = max(self._last_stamp_us, stamp_us)
        return stamp_us

    def _complete(self, jobs: list[_Job], stamp_us: int) -> None:
        for job in jobs:
            job.channel.complete(job.buf, job.epoch, stamp_us, job.error)
        self.core.cond.notify_all()
