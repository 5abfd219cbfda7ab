"""imp.core.vbm: frame ownership states, reference counting, recycle, zero-copy views."""

from __future__ import annotations

import ctypes
import errno
import threading
from collections.abc import Callable, Iterator

import numpy as np
import pytest

from imp.core.alloc import RmemAllocator
from imp.core.vbm import BufferState, Frame, FramePool
from imp.errors import Busy, InvalidArgument, InvalidState, OutOfMemory
from tests.fakes import FakeRmemKernel

NV12 = 10


def FakeKernel(size_mb: int = 4) -> FakeRmemKernel:
    return FakeRmemKernel(f"rmem={size_mb}M@0x6300000")


@pytest.fixture
def alloc() -> Iterator[RmemAllocator]:
    a = RmemAllocator.open(FakeKernel())
    yield a
    a.close(force=True)


def nv12_pool(
    alloc: RmemAllocator,
    recycle: Callable[[Frame], None],
    count: int = 3,
    w: int = 64,
    h: int = 36,
) -> FramePool:
    # Like the ISP: UV at W * align16(H), buffer = W * align16(H) * 3 / 2.
    h16 = (h + 15) & ~15
    return FramePool(alloc, "fs0", count, w * h16 * 3 // 2, w, h, NV12, w * h16, recycle)


def fill(pool: FramePool, frame: Frame, ts: int = 0, seq: int = 0) -> None:
    pool.mark_dequeued(frame)
    pool.mark_queued(frame, ts, seq)


def test_pool_allocates_distinct_buffers(alloc: RmemAllocator) -> None:
    pool = nv12_pool(alloc, lambda f: None, count=4)
    assert len(pool.frames) == 4 and len(pool) == 4
    assert len({f.phys for f in pool.frames}) == 4
    for i, f in enumerate(pool.frames):
        assert f.index == i and f.pool is pool
        assert pool.by_index(i) is f and pool.by_phys(f.phys) is f
        assert f.state is BufferState.FREE and f.refcount == 0
        assert f.width == 64 and f.height == 36 and f.pixfmt == NV12
        assert len(f.data) == f.size == pool.size
        assert alloc.virt_to_phys(f.addr) == f.phys
    with pytest.raises(InvalidArgument):
        pool.by_index(4)
    with pytest.raises(InvalidArgument):
        pool.by_phys(12345)
    assert alloc.stats()["blocks"] == 4
    pool.destroy()
    assert alloc.stats()["blocks"] == 0


def test_failed_allocation_frees_partial_pool(alloc: RmemAllocator) -> None:
    before = alloc.stats()
    with pytest.raises(OutOfMemory):
        FramePool(alloc, "huge", 10, 1 << 20, 1024, 512, NV12, 1024 * 512, lambda f: None)
    assert alloc.stats() == before


def test_bad_pool_geometry(alloc: RmemAllocator) -> None:
    with pytest.raises(InvalidArgument):
        FramePool(alloc, "x", 0, 4096, 16, 16, NV12, 256, lambda f: None)
    with pytest.raises(InvalidArgument):  # too small for NV12
        FramePool(alloc, "x", 1, 100, 16, 16, NV12, 256, lambda f: None)
    with pytest.raises(InvalidArgument):  # UV overlapping Y
        FramePool(alloc, "x", 1, 4096, 16, 16, NV12, 100, lambda f: None)


def test_state_machine_full_cycle(alloc: RmemAllocator) -> None:
    recycled: list[Frame] = []
    pool = nv12_pool(alloc, recycled.append)
    f = pool.frames[0]
    pool.mark_dequeued(f)
    assert f.state is BufferState.DEQUEUED
    pool.mark_queued(f, timestamp=123_456, seq=7)
    assert f.state is BufferState.QUEUED and f.timestamp == 123_456 and f.seq == 7
    assert pool.outstanding() == 1
    assert f.acquire() is f
    assert f.state is BufferState.ACQUIRED and f.refcount == 1
    assert pool.counts() == {
        BufferState.FREE: 2,
        BufferState.DEQUEUED: 0,
        BufferState.QUEUED: 0,
        BufferState.ACQUIRED: 1,
    }
    f.release()
    assert recycled == [f]
    assert f.state is BufferState.FREE and f.refcount == 0
    assert pool.outstanding() == 0


def test_illegal_transitions(alloc: RmemAllocator) -> None:
    pool = nv12_pool(alloc, lambda f: None)
    f = pool.frames[0]
    with pytest.raises(InvalidState):
        pool.mark_queued(f, 0, 0)  # FREE -> QUEUED
    with pytest.raises(InvalidState):
        f.acquire()  # FREE frame has no data
    with pytest.raises(InvalidState):
        pool.mark_free(f)  # already FREE
    pool.mark_dequeued(f)
    with pytest.raises(InvalidState):
        pool.mark_dequeued(f)  # DEQUEUED twice
    with pytest.raises(InvalidState):
        f.acquire()  # the driver still owns it
    pool.mark_queued(f, 1, 1)
    with pytest.raises(InvalidState):
        pool.mark_queued(f, 1, 1)
    f.acquire()
    with pytest.raises(InvalidState):
        pool.mark_free(f)  # a consumer holds it
    with pytest.raises(InvalidState):
        pool.mark_dequeued(f)
    assert f.state is BufferState.ACQUIRED and f.refcount == 1
    other = nv12_pool(alloc, lambda f: None)
    with pytest.raises(InvalidArgument):
        other.mark_dequeued(pool.frames[1])


def test_mark_free_and_reclaim(alloc: RmemAllocator) -> None:
    recycled: list[Frame] = []
    pool = nv12_pool(alloc, recycled.append)
    a, b, c = pool.frames
    fill(pool, a)
    pool.mark_free(a)  # nobody wanted it
    pool.mark_dequeued(b)
    pool.mark_dequeued(c)
    assert pool.reclaim_dequeued() == [b, c]
    assert all(f.state is BufferState.FREE for f in pool.frames)
    assert recycled == []  # explicit returns never recycle


def test_release_never_underflows(alloc: RmemAllocator) -> None:
    recycled: list[Frame] = []
    pool = nv12_pool(alloc, recycled.append)
    f = pool.frames[0]
    with pytest.raises(InvalidState):
        f.release()
    assert f.refcount == 0 and f.state is BufferState.FREE
    fill(pool, f)
    f.acquire()
    f.release()
    with pytest.raises(InvalidState):
        f.release()
    assert f.refcount == 0 and f.state is BufferState.FREE and recycled == [f]


def test_fan_out_recycles_once_after_last_release(alloc: RmemAllocator) -> None:
    recycled: list[Frame] = []
    pool = nv12_pool(alloc, recycled.append)
    f = pool.frames[1]
    fill(pool, f)
    f.acquire()
    f.acquire()
    assert f.refcount == 2
    f.release()
    assert recycled == [] and f.state is BufferState.ACQUIRED and f.refcount == 1
    f.release()
    assert recycled == [f] and f.state is BufferState.FREE


def test_recycle_runs_unlocked_and_can_requeue(alloc: RmemAllocator) -> None:
    states: list[BufferState] = []
    pool: FramePool

    def recycle(frame: Frame) -> None:
        states.append(frame.state)
        pool.counts()  # would deadlock if called under the pool lock
        pool.mark_dequeued(frame)  # what a FrameSource does: QBUF again

    pool = nv12_pool(alloc, recycle)
    f = pool.frames[0]
    fill(pool, f)
    f.acquire().release()
    assert states == [BufferState.FREE]
    assert f.state is BufferState.DEQUEUED


def test_failing_recycle_does_not_reach_the_consumer(alloc: RmemAllocator) -> None:
    def recycle(frame: Frame) -> None:
        raise OSError(errno.EINVAL, "QBUF failed")

    pool = nv12_pool(alloc, recycle)
    f = pool.frames[0]
    fill(pool, f)
    f.acquire().release()  # logged, not raised
    assert f.state is BufferState.FREE


def test_planes_alias_the_buffer(alloc: RmemAllocator) -> None:
    pool = nv12_pool(alloc, lambda f: None, w=64, h=36)
    f = pool.frames[0]
    assert f.y.shape == (36, 64) and f.y.dtype == np.uint8
    assert f.uv.shape == (18, 64)
    assert f.uv_offset == 64 * 48
    f.y[0, 0:4] = [1, 2, 3, 4]
    f.y[35, 63] = 9
    assert bytes(f.data[0:4]) == b"\x01\x02\x03\x04"
    assert f.data[35 * 64 + 63] == 9
    f.uv[0, 0] = 200
    f.uv[17, 63] = 201
    assert f.data[f.uv_offset] == 200
    assert f.data[f.uv_offset + 17 * 64 + 63] == 201
    # The same memory through the C pointer and the allocator's phys view.
    assert ctypes.string_at(f.addr, 4) == b"\x01\x02\x03\x04"
    assert bytes(alloc.view(f.phys + f.uv_offset, 1)) == b"\xc8"
    f.data[10] = 77
    assert f.y[0, 10] == 77
    assert np.shares_memory(f.y, np.frombuffer(f.data, dtype=np.uint8))
    with pytest.raises(InvalidState, match="padded"):
        f.numpy_nv12()  # 36 lines are padded to 48 before UV


def test_numpy_nv12_when_uv_follows_y(alloc: RmemAllocator) -> None:
    pool = nv12_pool(alloc, lambda f: None, w=64, h=32)
    f = pool.frames[0]
    img = f.numpy_nv12()
    assert img.shape == (48, 64)
    img[0, 0] = 5
    img[32, 1] = 6
    assert f.y[0, 0] == 5 and f.uv[0, 1] == 6


def test_wait_all_free(alloc: RmemAllocator) -> None:
    pool = nv12_pool(alloc, lambda f: None)
    assert pool.wait_all_free(0)
    f = pool.frames[2]
    fill(pool, f)
    f.acquire()
    assert not pool.wait_all_free(0.05)
    threading.Timer(0.05, f.release).start()
    assert pool.wait_all_free(2)


def test_destroy_refuses_held_frames(alloc: RmemAllocator) -> None:
    recycled: list[Frame] = []
    pool = nv12_pool(alloc, recycled.append)
    f, g = pool.frames[0], pool.frames[1]
    fill(pool, f)
    f.acquire()
    with pytest.raises(Busy, match="held"):
        pool.destroy()
    f.release()
    pool.mark_dequeued(g)
    with pytest.raises(Busy, match="driver"):
        pool.destroy()
    pool.reclaim_dequeued()
    recycled.clear()
    pool.destroy()
    assert pool.destroyed and alloc.stats()["blocks"] == 0
    pool.destroy()  # idempotent


def test_forced_destroy_then_late_release(alloc: RmemAllocator) -> None:
    recycled: list[Frame] = []
    pool = nv12_pool(alloc, recycled.append)
    f = pool.frames[0]
    fill(pool, f)
    f.acquire()
    pool.destroy(force=True)
    assert alloc.stats()["blocks"] == 0
    f.release()  # accepted, nothing recycled into a dead pool
    assert recycled == [] and f.refcount == 0


def test_concurrent_release_recycles_exactly_once(alloc: RmemAllocator) -> None:
    counts: dict[int, int] = {}
    lock = threading.Lock()

    def recycle(frame: Frame) -> None:
        with lock:
            counts[frame.index] = counts.get(frame.index, 0) + 1

    pool = nv12_pool(alloc, recycle, count=4)
    holders = 8
    rounds = 200
    for r in range(rounds):
        for f in pool.frames:
            fill(pool, f, ts=r, seq=r)
            for _ in range(holders):
                f.acquire()
        barrier = threading.Barrier(holders)

        def consumer(barrier: threading.Barrier) -> None:
            barrier.wait()
            for f in pool.frames:
                f.release()

        threads = [threading.Thread(target=consumer, args=(barrier,)) for _ in range(holders)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        assert all(f.state is BufferState.FREE and f.refcount == 0 for f in pool.frames)
    assert counts == dict.fromkeys(range(4), rounds)


def test_handing_on_marks_nested_publishers_and_drops_each_reference(
    alloc: RmemAllocator,
) -> None:
    recycled: list[int] = []
    pool = nv12_pool(alloc, lambda f: recycled.append(f.index))
    f = pool.frames[0]
    fill(pool, f)
    with pytest.raises(InvalidState, match="no reference"), f.handing_on():
        pass
    assert f.transit == 0
    f.acquire()  # the capture thread's reference
    with f.handing_on():
        f.acquire()  # a pass-through group's, given by dispatch
        with f.handing_on():
            assert f.transit == 2 and f.refcount == 2
        assert f.transit == 1 and f.refcount == 1  # the outer publisher is still at work
        with pytest.raises(InvalidState, match="no reference"), f.handing_on():
            pass  # its one reference is marked already
    assert f.transit == 0 and f.refcount == 0 and recycled == [0]


def test_sole_holder_waits_for_publishers_then_counts_the_real_holders(
    alloc: RmemAllocator,
) -> None:
    pool = nv12_pool(alloc, lambda f: None)
    f = pool.frames[0]
    fill(pool, f)
    f.acquire()
    answers: list[bool] = []
    with f.handing_on():
        f.acquire()  # the consumer's own reference, taken during the fan-out
        waiter = threading.Thread(target=lambda: answers.append(pool.sole_holder(f, 30.0)))
        waiter.start()
        waiter.join(0.2)
        assert waiter.is_alive() and not answers  # a publisher is still handing it on
    waiter.join(30.0)
    assert answers == [True] and f.refcount == 1
    f.acquire()  # another consumer's reference, not a publisher's: no wait, a copy is due
    assert pool.sole_holder(f, 30.0) is False
    f.release()
    f.acquire()
    with f.handing_on():  # a publisher that never finishes: bounded by the timeout
        assert pool.sole_holder(f, 0.05) is False
    assert pool.sole_holder(f, 0.0) is True
    f.release()
