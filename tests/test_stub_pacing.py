"""Real-time pacing of the fake ISP: what a loaded machine cannot change.

250 frames at 25 fps on a 1080p and a 360p channel at once: every DQBUF timestamp later than
the one before, frame numbers (the marks in the pictures) increasing with no frame delivered
twice, both channels fed from the same sensor frames, and the frames paced rather than free
running. The mean period and the jitter, which two busy processes beside the run stretch
(+2 %, p99 40 ms), are printed by bench/fs_pacing.py against their targets instead.
"""

from __future__ import annotations

import threading

import numpy as np
from test_stub_support import Board, board

from kernel_stubs import read_frame_mark

FRAMES = 250
PERIOD_US = 40_000


def _consume(b: Board, i: int, count: int, out: list[tuple[int, int]]) -> None:
    for _ in range(count):
        d = b.dqbuf(i)
        y, _ = b.planes(i, d.index)
        out.append((read_frame_mark(y), d.tv_sec * 1_000_000 + d.tv_usec))
        b.qbuf(i, d.index)


def test_realtime_frames_1080p_and_360p_ordered_and_paced() -> None:
    with board(clock="realtime") as b:
        b.bring_up()
        b.setup_chan(0, 1920, 1080, count=4)
        b.setup_chan(1, 640, 360, count=4, scaler=(640, 360))
        runs: dict[int, list[tuple[int, int]]] = {0: [], 1: []}
        threads = [threading.Thread(target=_consume, args=(b, i, FRAMES, runs[i])) for i in (0, 1)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert not any(t.is_alive() for t in threads)
        overruns = b.k.isp.engine.overruns
    stamp_of: dict[int, dict[int, int]] = {}
    for i, frames in runs.items():
        marks = np.array([m for m, _ in frames], dtype=np.int64)
        stamps = np.array([s for _, s in frames], dtype=np.int64)
        assert len(frames) == FRAMES
        assert np.all(np.diff(marks) > 0), f"ch{i}: a frame delivered twice or out of order"
        assert np.all(np.diff(stamps) > 0), f"ch{i}: timestamps not monotonic"
        # A late machine only stretches the span: half the nominal period per sensor frame is
        # a bound load cannot break but a free-running (unpaced) engine would.
        assert stamps[-1] - stamps[0] >= (marks[-1] - marks[0]) * PERIOD_US // 2
        stamp_of[i] = dict(zip(marks.tolist(), stamps.tolist(), strict=True))
    # One sensor frame, one completion: a frame both channels got carries one timestamp.
    common = stamp_of[0].keys() & stamp_of[1].keys()
    assert common, "the two channels never got the same sensor frame"
    assert all(stamp_of[0][n] == stamp_of[1][n] for n in common)
    print(f"engine overruns (frames skipped because rendering fell behind): {overruns}")
