"""Property test of imp.core.vbm ownership: random acquire/release orders (issue 10, deliver 3).

A model of every buffer (state, references held per fill) is kept beside the pool; whatever the
order of fills, acquires, releases (in order, out of order, twice, through a stale generation),
the pool's owner states must match the model, a stale or double release must be refused, and
every buffer must come back FREE once all references are dropped. Some references are handed
on as a publisher's (``Frame.handing_on``, ended in any order): the transit count and
``FramePool.sole_holder`` must agree with the model too.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imp.core.alloc import RmemAllocator
from imp.core.vbm import BufferState, Frame, FramePool
from imp.errors import InvalidState
from tests.fakes import FakeRmemKernel

COUNT = 4

# One step: (verb, buffer index, which held reference); the index picks among what exists.
_step = st.tuples(
    st.sampled_from(["fill", "acquire", "hand_on", "release", "release_stale", "release_twice"]),
    st.integers(0, COUNT - 1),
    st.integers(0, 15),
)


@pytest.fixture(scope="module")
def alloc() -> Iterator[RmemAllocator]:
    a = RmemAllocator.open(FakeRmemKernel("rmem=4M@0x6300000"))
    yield a
    a.close(force=True)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=st.lists(_step, max_size=60))
def test_random_acquire_release_orders_keep_owner_states_consistent(
    alloc: RmemAllocator, steps: list[tuple[str, int, int]]
) -> None:
    recycled: list[int] = []

    def recycle(frame: Frame) -> None:  # as a producer does: straight back to the driver
        recycled.append(frame.index)
        pool.mark_dequeued(frame)

    pool = FramePool(alloc, "prop", COUNT, 4096, 64, 32, 10, 64 * 32, recycle)
    held: list[tuple[Frame, int]] = []  # the model: one entry per reference, with its fill
    # References being handed on: their handing_on block, ended by a "release" of them.
    marked: dict[int, AbstractContextManager[Frame]] = {}  # id of the held entry -> its block
    released: list[tuple[Frame, int]] = []  # references given back (stale once refilled)
    try:
        for verb, index, pick in steps:
            frame = pool.frames[index]
            if verb == "fill":
                if frame.state is BufferState.FREE:
                    pool.mark_dequeued(frame)
                if frame.state is BufferState.DEQUEUED:
                    before = frame.generation
                    pool.mark_queued(frame, 1000 * before, before)
                    assert frame.generation == before + 1
                    held.append((frame.acquire(), frame.generation))
            elif verb == "acquire":
                if frame.state is BufferState.ACQUIRED:
                    held.append((frame.acquire(), frame.generation))
                else:
                    with pytest.raises(InvalidState):
                        frame.acquire()
            elif verb == "hand_on" and held:
                entry = held[pick % len(held)]
                if id(entry) not in marked:
                    block = entry[0].handing_on()
                    block.__enter__()
                    marked[id(entry)] = block
            elif verb == "release" and held:
                entry = held.pop(pick % len(held))  # any order
                f, gen = entry
                block = marked.pop(id(entry), None)
                if block is None:
                    f.release(gen)
                else:
                    block.__exit__(None, None, None)  # the publisher's fan-out ends
                released.append((f, gen))
            elif verb in ("release_stale", "release_twice") and released:
                f, gen = released[pick % len(released)]
                live = sum(1 for h, g in held if h is f and g == gen)
                if live == 0:  # nothing of that fill is held: the release must be refused
                    refs = f.refcount
                    with pytest.raises(InvalidState):
                        f.release(gen)
                    assert f.refcount == refs  # and nobody else's reference was dropped
            # The pool's owner states agree with the model after every step.
            for f in pool.frames:
                refs = [g for h, g in held if h is f]
                assert f.refcount == len(refs)
                transit = sum(1 for e in held if e[0] is f and id(e) in marked)
                assert f.transit == transit
                if refs:  # sole_holder asks as one of the holders would
                    assert pool.sole_holder(f, 0.0) == (transit == 0 and len(refs) == 1)
                if refs:
                    assert f.state is BufferState.ACQUIRED and set(refs) == {f.generation}
                else:
                    assert f.state in (BufferState.FREE, BufferState.DEQUEUED)
        for entry in held:
            block = marked.pop(id(entry), None)
            if block is None:
                entry[0].release(entry[1])
            else:
                block.__exit__(None, None, None)
        held.clear()
        assert all(f.state is not BufferState.ACQUIRED for f in pool.frames)
        assert pool.outstanding() == 0
    finally:
        pool.reclaim_dequeued()
        pool.destroy(force=True)
