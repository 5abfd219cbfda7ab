"""imp.core.clock: MONOTONIC_RAW µs, rebasing, raw -> IMP conversion."""

from __future__ import annotations

import threading
import time

import pytest

from imp.core.clock import ImpClock, monotonic_raw_us
from imp.errors import InvalidArgument


def test_monotonic_raw_us_is_microseconds_and_monotonic() -> None:
    a = monotonic_raw_us()
    time.sleep(0.02)
    b = monotonic_raw_us()
    assert 15_000 <= b - a < 2_000_000
    samples = [monotonic_raw_us() for _ in range(1000)]
    assert samples == sorted(samples)


def test_clock_starts_near_zero_and_advances() -> None:
    clk = ImpClock()
    t0 = clk.now()
    assert 0 <= t0 < 100_000
    time.sleep(0.02)
    assert clk.now() - t0 >= 15_000


def test_explicit_base() -> None:
    raw = monotonic_raw_us()
    clk = ImpClock(base_us=raw - 5_000_000)
    assert clk.base_us == raw - 5_000_000
    assert 5_000_000 <= clk.now() < 5_100_000


def test_rebase() -> None:
    clk = ImpClock()
    clk.rebase(10_000_000)
    assert 10_000_000 <= clk.now() < 10_100_000
    assert abs(clk.base_us - (monotonic_raw_us() - 10_000_000)) < 100_000
    clk.rebase(0)
    assert 0 <= clk.now() < 100_000
    with pytest.raises(InvalidArgument):
        clk.rebase(-1)


def test_to_imp_converts_raw_timestamps() -> None:
    clk = ImpClock(base_us=1_000)
    assert clk.to_imp(1_000) == 0
    assert clk.to_imp(2_500) == 1_500
    raw = monotonic_raw_us()
    assert abs(clk.to_imp(raw) - clk.now()) < 100_000


def test_concurrent_rebase_and_read() -> None:
    clk = ImpClock()
    stop = threading.Event()
    errors: list[int] = []

    def reader() -> None:
        while not stop.is_set():
            v = clk.now()
            # Every base is either ~0 or ~1e9 µs in the past; nothing else may ever show up.
            if not (-1000 <= v < 1_000_000 or 1_000_000_000 <= v < 1_001_000_000):
                errors.append(v)

    t = threading.Thread(target=reader)
    t.start()
    for i in range(200):
        clk.rebase(1_000_000_000 if i % 2 else 0)
    stop.set()
    t.join()
    assert errors == []
