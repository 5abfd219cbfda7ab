"""imp-streamer rebuilds its pipeline after a fault: the simulated sensor's frame channels vanish
(``[sim] fault_at``) and come back; RTSP clients then get pictures again, SIGTERM still ends it
cleanly."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import pytest

from bench.streamer_common import Daemon, rtsp_frames, small_config

pytest.importorskip("gi", reason="the rtsp extra (PyGObject) is not installed")
pytest.importorskip("aiohttp", reason="the rtsp extra (aiohttp) is not installed")
pytestmark = pytest.mark.timeout(300)


def _value(d: Daemon, name: str) -> float:
    for line in d.metrics().splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.split()[-1])
    raise AssertionError(f"{name} missing from /metrics")


def test_pipeline_rebuilt_after_the_sensor_vanishes(tmp_path: Path) -> None:
    cfg = small_config(
        tmp_path,
        sim={"scene": "static", "fault_at": 8.0, "fault_seconds": 2.0},
        camera={"restart_after": 3.0},
    )
    d = Daemon(cfg, tmp_path).start().warm_up(25)
    try:
        before = [f.mark for f in rtsp_frames(d.rtsp(0), "tcp", limit=10)]
        deadline = time.monotonic() + 90
        while _value(d, "imp_streamer_restarts_total") < 1:
            assert time.monotonic() < deadline, "".join(d.lines)
            time.sleep(0.5)
        frames_at_restart = _value(d, 'imp_streamer_frames_total{stream="stream0"}')
        after = [f.mark for f in rtsp_frames(d.rtsp(0), "udp", limit=25)]
        assert _value(d, 'imp_streamer_frames_total{stream="stream0"}') > frames_at_restart
    finally:
        status = d.stop()
    assert status == 0, "".join(d.lines)
    assert all(b > a for a, b in itertools.pairwise(after)), after
    assert before and len(after) == 25
    log = "".join(d.lines)
    assert "rebuilding the camera pipeline" in log and "stopped" in log
