"""The realtime simulated ISP under a stall: late frames are caught up, lost ones are counted.

On the board the ISP never misses a slot for want of CPU; the simulator renders in a thread, so a
load spike makes it late. These tests inject the stall themselves (one render sleeps) so they
hold on a loaded machine: what they check follows from the stall, not from the host's speed.

- a stall shorter than ``max_late_periods``: the stalled frame and the ones overdue behind it
  are all delivered, stamped with their slots' times (exactly one period apart);
- a longer stall: the frames more than ``max_late_periods`` behind are skipped, and every frame
  missing from the delivered marks is on a counter (engine overruns + channel no-buffer drops);
- a consumer that really stalls (keeps every buffer) still loses frames, counted as no-buffer.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
from test_stub_support import Board, board

from kernel_stubs import read_frame_mark
from kernel_stubs.sensor import ChannelGeometry, IspControls

PERIOD_US = 40_000  # gc2053 at its default 25 fps
STALL_AT = 12  # sensor frame whose render stalls (after the start has settled)
BUFFERS = 6


@contextmanager
def _realtime_channel(max_late_periods: int | None = None) -> Iterator[Board]:
    """A realtime board streaming a 640x360 channel 0 with ``BUFFERS`` buffers. A larger
    ``max_late_periods`` keeps a loaded host's own stalls (a 100 ms sleep can end 100 ms late
    at load average 10) from skipping the frames a test looks at."""
    with board(clock="realtime") as b:
        if max_late_periods is not None:
            b.k.isp.engine.max_late_periods = max_late_periods
        b.bring_up()
        b.setup_chan(0, 640, 360, count=BUFFERS, scaler=(640, 360))
        yield b


def _stall_render(b: Board, at: int, seconds: float) -> list[int]:
    """Make the render of the first sensor frame >= ``at`` sleep ``seconds``; returns a list
    that gets that frame's number."""
    sensor = b.k.isp.sensor
    assert sensor is not None
    render = sensor.render_nv12
    stalled: list[int] = []
    lock = threading.Lock()

    def slow(
        n: int, geometry: ChannelGeometry, controls: IspControls, y: np.ndarray, uv: np.ndarray
    ) -> None:
        with lock:
            first = n >= at and not stalled
            if first:
                stalled.append(n)
        if first:
            time.sleep(seconds)
        render(n, geometry, controls, y, uv)

    sensor.render_nv12 = slow  # type: ignore[method-assign,assignment]
    return stalled


def _consume(
    b: Board, count: int, pause: Callable[[int], float] = lambda _: 0.0
) -> list[tuple[int, int]]:
    """Dequeue ``count`` frames of channel 0: (mark, timestamp µs) each; ``pause(i)`` s before
    the i-th buffer goes back."""
    out: list[tuple[int, int]] = []
    for i in range(count):
        d = b.dqbuf(0)
        y, _ = b.planes(0, d.index)
        out.append((read_frame_mark(y), d.tv_sec * 1_000_000 + d.tv_usec))
        if wait := pause(i):
            time.sleep(wait)
        b.qbuf(0, d.index)
    return out


def test_a_short_stall_is_caught_up_with_slot_timestamps() -> None:
    with _realtime_channel(max_late_periods=25) as b:
        engine = b.k.isp.engine
        # 2.5 periods: the stalled frame and the two whose deadlines pass meanwhile are late.
        stalled = _stall_render(b, STALL_AT, 2.5 * PERIOD_US / 1e6)
        frames = _consume(b, 40)
        late = engine.late_frames
    assert stalled, "the stall never happened"
    s = stalled[0]
    stamp = dict(frames)
    marks = [m for m, _ in frames]
    assert all(np.diff(marks) > 0), "a frame delivered twice or out of order"
    # Nothing lost to the stall: the stalled frame and the two overdue behind it all arrive...
    assert {s, s + 1, s + 2} <= stamp.keys(), f"frames around the stall lost: {marks}"
    # ... stamped with their own slots' times, exactly one period apart (a completion time
    # would put the stalled frame ~2.5 periods late and the next two ~1 ms after it).
    assert stamp[s + 1] - stamp[s] == PERIOD_US and stamp[s + 2] - stamp[s + 1] == PERIOD_US
    assert late >= 3


def test_a_long_stall_skips_frames_and_counts_every_one() -> None:
    with _realtime_channel() as b:
        engine = b.k.isp.engine
        bound = engine.max_late_periods
        before = engine.overruns
        # Longer than the bound by 3 periods: at least 2 frames are too far behind to catch up.
        stalled = _stall_render(b, STALL_AT, (bound + 3) * PERIOD_US / 1e6)
        frames = _consume(b, 40)
        overruns = engine.overruns - before
        chan = b.k.isp.channels[0]
        no_buffer = chan.no_buffer
        dropped = chan.dropped
    assert stalled, "the stall never happened"
    s = stalled[0]
    marks = [m for m, _ in frames]
    assert all(np.diff(marks) > 0), "a frame delivered twice or out of order"
    assert s in marks, "the stalled frame itself is late, not lost"
    assert overruns >= 2, f"a {bound + 3}-period stall skipped only {overruns} frames"
    first = marks.index(s)
    missing = marks[-1] - marks[first] + 1 - len(marks[first:])
    assert missing >= 2
    # Every frame the channel lost is on a counter: the skipped ones, and any buffer shortage.
    span_missing = marks[-1] - marks[0] + 1 - len(marks)
    assert span_missing <= overruns + no_buffer <= dropped


def test_a_stalled_consumer_still_loses_frames_and_they_are_counted() -> None:
    with _realtime_channel(max_late_periods=25) as b:
        engine = b.k.isp.engine
        before = engine.overruns
        # The consumer keeps its 6th buffer for 20 periods: the ISP has none left to fill.
        frames = _consume(b, 30, pause=lambda i: 20 * PERIOD_US / 1e6 if i == 5 else 0.0)
        chan = b.k.isp.channels[0]
        no_buffer = chan.no_buffer
        overruns = engine.overruns - before
    marks = [m for m, _ in frames]
    assert all(np.diff(marks) > 0)
    # While every buffer was held (about 20 - 5 periods) frames had nowhere to go.
    assert no_buffer >= 5, f"a 20-period consumer stall lost only {no_buffer} frames"
    assert marks[-1] - marks[0] + 1 - len(marks) <= no_buffer + overruns
