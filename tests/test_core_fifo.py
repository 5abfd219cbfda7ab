"""imp.core.fifo: order, the three wait modes, drop-oldest, abort, resize, depth 0."""

from __future__ import annotations

import threading
import time

import pytest

from imp.core.fifo import Fifo
from imp.errors import InvalidArgument, InvalidState, Timeout


def test_fifo_order_and_len() -> None:
    f: Fifo[int] = Fifo(4)
    for i in range(4):
        assert f.put(i)
    assert len(f) == 4
    assert f.maxsize == 4
    assert [f.get() for _ in range(4)] == [0, 1, 2, 3]
    assert len(f) == 0


def test_get_no_wait_raises_timeout_at_once() -> None:
    f: Fifo[int] = Fifo(2)
    t0 = time.monotonic()
    with pytest.raises(Timeout):
        f.get(timeout=0)
    assert time.monotonic() - t0 < 0.05


def test_get_timed_waits_about_the_timeout() -> None:
    f: Fifo[int] = Fifo(2)
    t0 = time.monotonic()
    with pytest.raises(Timeout):
        f.get(timeout=0.05)
    elapsed = time.monotonic() - t0
    assert 0.045 <= elapsed < 1.0


def test_get_forever_returns_when_item_arrives() -> None:
    f: Fifo[str] = Fifo(2)
    threading.Timer(0.05, f.put, args=("x",)).start()
    t0 = time.monotonic()
    assert f.get(timeout=None) == "x"
    assert 0.04 <= time.monotonic() - t0 < 2.0


def test_timed_get_returns_early_when_item_arrives() -> None:
    f: Fifo[str] = Fifo(2)
    threading.Timer(0.02, f.put, args=("y",)).start()
    t0 = time.monotonic()
    assert f.get(timeout=5) == "y"
    assert time.monotonic() - t0 < 2.0


def test_put_when_full_without_drop() -> None:
    f: Fifo[int] = Fifo(1)
    assert f.put(1)
    t0 = time.monotonic()
    assert f.put(2, timeout=0) is False
    assert time.monotonic() - t0 < 0.05
    t0 = time.monotonic()
    assert f.put(2, timeout=0.05) is False
    assert 0.045 <= time.monotonic() - t0 < 1.0
    # A blocked put proceeds as soon as a consumer makes room.
    threading.Timer(0.03, f.get).start()
    assert f.put(3, timeout=None) is True
    assert f.get(0) == 3


def test_drop_oldest_calls_on_drop_with_evicted_item() -> None:
    dropped: list[int] = []
    f: Fifo[int] = Fifo(2, on_drop=dropped.append, drop_oldest=True)
    for i in range(5):
        assert f.put(i, timeout=0)
    assert dropped == [0, 1, 2]
    assert f.drain() == [3, 4]


def test_on_drop_runs_outside_the_lock() -> None:
    f: Fifo[int]
    seen: list[int] = []

    def on_drop(item: int) -> None:
        # Would deadlock if the fifo's lock were held here.
        seen.append(len(f))

    f = Fifo(1, on_drop=on_drop, drop_oldest=True)
    f.put(1)
    f.put(2)
    assert seen == [1]


def test_maxsize_zero_drops_immediately() -> None:
    dropped: list[str] = []
    f: Fifo[str] = Fifo(0, on_drop=dropped.append, drop_oldest=True)
    assert f.put("a") is True
    assert dropped == ["a"]
    assert len(f) == 0
    with pytest.raises(Timeout):
        f.get(timeout=0)
    # Without drop_oldest a 0-size fifo never accepts anything.
    g: Fifo[str] = Fifo(0)
    assert g.put("b", timeout=0) is False


def test_abort_wakes_blocked_getter_from_another_thread() -> None:
    f: Fifo[int] = Fifo(2)
    result: list[BaseException] = []

    def getter() -> None:
        try:
            f.get(timeout=None)
        except BaseException as exc:
            result.append(exc)

    t = threading.Thread(target=getter)
    t.start()
    time.sleep(0.05)
    assert t.is_alive()
    f.abort()
    t.join(2)
    assert not t.is_alive()
    assert len(result) == 1 and isinstance(result[0], InvalidState)
    # Stays aborted (even with items) until reset.
    assert f.put(1) is False
    with pytest.raises(InvalidState):
        f.get(0)
    assert f.peek_ready(0) is False
    f.reset()
    assert f.put(1) is True
    assert f.get(0) == 1


def test_abort_wakes_blocked_putter_and_peeker() -> None:
    f: Fifo[int] = Fifo(1)
    f.put(0)
    results: dict[str, bool] = {}

    def putter() -> None:
        results["put"] = f.put(1, timeout=None)

    def peeker() -> None:
        results["peek"] = f.peek_ready(None)

    t = threading.Thread(target=putter)
    t.start()
    time.sleep(0.05)
    f.abort()
    t.join(2)
    assert results["put"] is False
    f.reset()
    assert f.drain() == [0]
    t2 = threading.Thread(target=peeker)
    t2.start()
    time.sleep(0.05)
    f.abort()
    t2.join(2)
    assert results["peek"] is False


def test_peek_ready() -> None:
    f: Fifo[int] = Fifo(2)
    assert f.peek_ready(0) is False
    t0 = time.monotonic()
    assert f.peek_ready(0.05) is False
    assert time.monotonic() - t0 >= 0.045
    f.put(7)
    assert f.peek_ready(0) is True
    assert len(f) == 1  # not taken
    threading.Timer(0.02, f.put, args=(8,)).start()
    f.get()
    assert f.peek_ready(None) is True


def test_resize_shrink_evicts_oldest() -> None:
    dropped: list[int] = []
    f: Fifo[int] = Fifo(5, on_drop=dropped.append)
    for i in range(5):
        f.put(i)
    assert f.resize(2) == [0, 1, 2]
    assert dropped == [0, 1, 2]
    assert f.maxsize == 2
    assert f.drain() == [3, 4]
    f.resize(3)
    assert f.maxsize == 3


def test_resize_grow_unblocks_putter() -> None:
    f: Fifo[int] = Fifo(1)
    f.put(1)
    threading.Timer(0.03, f.resize, args=(2,)).start()
    assert f.put(2, timeout=2) is True
    assert f.drain() == [1, 2]


def test_bad_arguments() -> None:
    with pytest.raises(InvalidArgument):
        Fifo(-1)
    f: Fifo[int] = Fifo(1)
    with pytest.raises(InvalidArgument):
        f.get(timeout=-1)
    with pytest.raises(InvalidArgument):
        f.resize(-2)


def test_faulty_on_drop_does_not_break_producer() -> None:
    def boom(item: int) -> None:
        raise RuntimeError("boom")

    f: Fifo[int] = Fifo(1, on_drop=boom, drop_oldest=True)
    f.put(1)
    assert f.put(2) is True
    assert f.get(0) == 2


def test_concurrent_producer_consumer_keeps_every_item() -> None:
    f: Fifo[int] = Fifo(4)
    got: list[int] = []
    n = 2000

    def consumer() -> None:
        for _ in range(n):
            got.append(f.get(timeout=5))

    t = threading.Thread(target=consumer)
    t.start()
    for i in range(n):
        assert f.put(i, timeout=5)
    t.join(10)
    assert got == list(range(n))


def test_put_on_aborted_fifo_hands_item_to_on_drop() -> None:
    # Producers that hold references (frames) must never leak one into a stopped channel.
    dropped: list[int] = []
    f: Fifo[int] = Fifo(2, on_drop=dropped.append, drop_oldest=True)
    f.put(1)
    f.abort()
    assert f.put(2) is True
    assert dropped == [2]
    assert f.drain() == [1]
    # A producer blocked on a full fifo is woken by abort and its item disposed of too.
    g: Fifo[int] = Fifo(1, on_drop=dropped.append)
    g.put(10)
    threading.Timer(0.03, g.abort).start()
    assert g.put(11, timeout=None) is True
    assert dropped == [2, 11]
