"""imp.core.graph: group registry, bind rules, fan-out dispatch with per-sink references."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator

import pytest

from imp.core.alloc import RmemAllocator
from imp.core.fifo import Fifo
from imp.core.graph import (
    DEV_ID_ENC,
    DEV_ID_FS,
    DEV_ID_IVS,
    DEV_ID_OSD,
    FrameSink,
    Graph,
    GroupNode,
)
from imp.core.vbm import BufferState, Frame, FramePool
from imp.errors import AlreadyExists, Busy, InvalidArgument, InvalidState, NotFound, Timeout
from tests.fakes import FakeRmemKernel


def FakeKernel() -> FakeRmemKernel:
    return FakeRmemKernel("rmem=2M@0x6300000")


class Node:
    """A group that keeps what it receives (like a GetFrame queue) without releasing."""

    def __init__(self, device: int, group: int, num_outputs: int = 1) -> None:
        self.device = device
        self.group = group
        self.num_outputs = num_outputs
        self.received: list[Frame] = []

    def on_frame(self, frame: Frame) -> None:
        self.received.append(frame)


class FailingNode(Node):
    def on_frame(self, frame: Frame) -> None:
        raise RuntimeError("sink is broken")


@pytest.fixture
def alloc() -> Iterator[RmemAllocator]:
    a = RmemAllocator.open(FakeKernel())
    yield a
    a.close(force=True)


def make_pool(alloc: RmemAllocator, recycle: Callable[[Frame], None]) -> FramePool:
    return FramePool(alloc, "fs", 2, 16 * 16 * 3 // 2, 16, 16, 10, 256, recycle)


@pytest.fixture
def recycled() -> list[Frame]:
    return []


@pytest.fixture
def pool(alloc: RmemAllocator, recycled: list[Frame]) -> FramePool:
    return make_pool(alloc, recycled.append)


def filled(pool: FramePool, i: int = 0) -> Frame:
    f = pool.frames[i]
    pool.mark_dequeued(f)
    pool.mark_queued(f, 0, 0)
    return f


FS0 = (DEV_ID_FS, 0, 0)
FS1 = (DEV_ID_FS, 1, 0)
IVS0 = (DEV_ID_IVS, 0, 0)
OSD0 = (DEV_ID_OSD, 0, 0)
ENC0 = (DEV_ID_ENC, 0, 0)
ENC1 = (DEV_ID_ENC, 1, 0)


def std_graph() -> tuple[Graph, dict[str, Node]]:
    g = Graph()
    nodes = {
        "fs0": Node(DEV_ID_FS, 0),
        "fs1": Node(DEV_ID_FS, 1),
        "ivs0": Node(DEV_ID_IVS, 0),
        "osd0": Node(DEV_ID_OSD, 0),
        "enc0": Node(DEV_ID_ENC, 0, num_outputs=0),
        "enc1": Node(DEV_ID_ENC, 1, num_outputs=0),
    }
    for n in nodes.values():
        g.register(n)
    return g, nodes


def test_protocols_are_satisfied_by_plain_classes() -> None:
    n = Node(DEV_ID_FS, 0)
    assert isinstance(n, GroupNode)
    assert isinstance(n, FrameSink)


def test_register_lookup_unregister() -> None:
    g, nodes = std_graph()
    assert g.lookup(DEV_ID_FS, 0) is nodes["fs0"]
    assert g.get(DEV_ID_IVS, 5) is None
    with pytest.raises(NotFound):
        g.lookup(DEV_ID_IVS, 5)
    with pytest.raises(AlreadyExists):
        g.register(Node(DEV_ID_FS, 0))
    with pytest.raises(InvalidArgument):
        g.register(Node(9, 0))
    g.unregister(DEV_ID_FS, 1)
    with pytest.raises(NotFound):
        g.unregister(DEV_ID_FS, 1)
    assert len(g.nodes()) == 5
    g.clear()
    assert g.nodes() == []


def test_bind_requires_both_groups() -> None:
    g, _ = std_graph()
    with pytest.raises(NotFound, match="source"):
        g.bind((DEV_ID_FS, 7, 0), ENC0)
    with pytest.raises(NotFound, match="destination"):
        g.bind(FS0, (DEV_ID_ENC, 7, 0))


def test_bind_checks_output_and_cells() -> None:
    g, _ = std_graph()
    with pytest.raises(InvalidArgument, match="outputID"):
        g.bind((DEV_ID_FS, 0, 1), ENC0)
    with pytest.raises(InvalidArgument):
        g.bind((6, 0, 0), ENC0)
    with pytest.raises(InvalidArgument):
        g.bind((DEV_ID_FS, -1, 0), ENC0)
    with pytest.raises(InvalidArgument):
        g.bind((DEV_ID_FS, 0), ENC0)  # type: ignore[arg-type]


def test_one_source_per_group_and_duplicates() -> None:
    g, _ = std_graph()
    g.bind(FS0, ENC0)
    with pytest.raises(AlreadyExists):
        g.bind(FS0, ENC0)
    with pytest.raises(AlreadyExists):
        g.bind(FS0, (DEV_ID_ENC, 0, 3))  # dst outputID is ignored
    with pytest.raises(Busy, match="UnBind"):
        g.bind(FS1, ENC0)
    assert g.source_of(DEV_ID_ENC, 0) == FS0


def test_fan_out_chain_unbind_and_source_of() -> None:
    g, nodes = std_graph()
    # FS1 -> IVS0 and FS1 -> OSD0 -> ENC1 (the sub-stream chain of the samples).
    g.bind(FS1, IVS0)
    g.bind(FS1, OSD0)
    g.bind(OSD0, ENC1)
    assert g.targets(FS1) == [nodes["ivs0"], nodes["osd0"]]
    assert g.targets(OSD0) == [nodes["enc1"]]
    assert g.targets(FS0) == []
    assert g.source_of(DEV_ID_OSD, 0) == FS1
    assert g.source_of(DEV_ID_ENC, 1) == OSD0
    with pytest.raises(NotFound):
        g.source_of(DEV_ID_ENC, 0)
    assert sorted(g.bindings()) == sorted([(FS1, IVS0), (FS1, OSD0), (OSD0, ENC1)])
    assert g.has_bindings(DEV_ID_IVS, 0) and not g.has_bindings(DEV_ID_FS, 0)
    with pytest.raises(NotFound):
        g.unbind(FS0, IVS0)  # bound, but to another source
    with pytest.raises(NotFound):
        g.unbind(FS0, ENC0)  # not bound at all
    g.unbind(FS1, IVS0)
    assert g.targets(FS1) == [nodes["osd0"]]
    with pytest.raises(NotFound):
        g.source_of(DEV_ID_IVS, 0)
    g.bind(FS0, IVS0)  # free again for another source
    assert g.source_of(DEV_ID_IVS, 0) == FS0


def test_no_cycles() -> None:
    g, _ = std_graph()
    with pytest.raises(InvalidArgument, match="cycle"):
        g.bind(IVS0, IVS0)
    g.bind(IVS0, OSD0)
    with pytest.raises(InvalidArgument, match="cycle"):
        g.bind(OSD0, IVS0)
    g.bind(FS0, IVS0)  # extends the chain upstream, still acyclic


def test_unregister_while_bound_is_refused() -> None:
    g, _ = std_graph()
    g.bind(FS0, ENC0)
    with pytest.raises(Busy, match="UnBind"):
        g.unregister(DEV_ID_ENC, 0)  # has an input
    with pytest.raises(Busy, match="UnBind"):
        g.unregister(DEV_ID_FS, 0)  # feeds a group
    g.unbind(FS0, ENC0)
    g.unregister(DEV_ID_ENC, 0)
    g.unregister(DEV_ID_FS, 0)


def test_dispatch_gives_each_sink_its_own_reference(pool: FramePool, recycled: list[Frame]) -> None:
    g, nodes = std_graph()
    g.bind(FS1, IVS0)
    g.bind(FS1, ENC1)
    f = filled(pool)
    f.acquire()  # the producer's own reference during dispatch
    assert g.dispatch(FS1, f) == 2
    assert nodes["ivs0"].received == [f] and nodes["enc1"].received == [f]
    assert f.refcount == 3
    f.release()  # producer done
    assert f.refcount == 2 and recycled == []
    nodes["ivs0"].received.pop().release()
    assert recycled == [] and f.state is BufferState.ACQUIRED
    nodes["enc1"].received.pop().release()
    assert recycled == [f] and f.state is BufferState.FREE
    assert g.dispatch(FS0, filled(pool, 1)) == 0


def test_dispatch_releases_reference_of_failing_sink(
    pool: FramePool, recycled: list[Frame]
) -> None:
    g = Graph()
    src = Node(DEV_ID_FS, 0)
    bad = FailingNode(DEV_ID_IVS, 0)
    good = Node(DEV_ID_ENC, 0, num_outputs=0)
    for n in (src, bad, good):
        g.register(n)
    g.bind(FS0, IVS0)
    g.bind(FS0, ENC0)
    f = filled(pool).acquire()
    assert g.dispatch(FS0, f) == 2
    assert good.received == [f] and f.refcount == 2
    f.release()
    good.received[0].release()
    assert recycled == [f]
    with pytest.raises(InvalidState):
        f.release()


def test_threaded_pipeline_with_concurrent_bind(alloc: RmemAllocator) -> None:
    """A producer dispatches while a consumer thread releases and binds come and go."""
    g = Graph()
    src = Node(DEV_ID_FS, 0)
    g.register(src)
    inbox: queue.Queue[Frame] = queue.Queue()

    class QueueSink:
        def __init__(self, device: int) -> None:
            self.device, self.group, self.num_outputs = device, 0, 0
            self.fifo: Fifo[Frame] = Fifo(2, on_drop=lambda fr: fr.release(), drop_oldest=True)

        def on_frame(self, frame: Frame) -> None:
            self.fifo.put(frame)

    sinks = [QueueSink(DEV_ID_IVS), QueueSink(DEV_ID_ENC)]
    for s in sinks:
        g.register(s)
    g.bind(FS0, IVS0)

    fpool: FramePool

    def recycle(frame: Frame) -> None:
        # What a FrameSource's recycle does: QBUF the buffer again.
        fpool.mark_dequeued(frame)
        inbox.put(frame)

    fpool = make_pool(alloc, recycle)
    for f in fpool.frames:
        fpool.mark_dequeued(f)
        inbox.put(f)
    stop = threading.Event()

    def consumer(sink: QueueSink) -> None:
        while not stop.is_set():
            try:
                sink.fifo.get(timeout=0.01).release()
            except Timeout:
                pass

    threads = [threading.Thread(target=consumer, args=(s,)) for s in sinks]
    for t in threads:
        t.start()
    for seq in range(500):
        f = inbox.get(timeout=5)
        fpool.mark_queued(f, seq, seq)
        f.acquire()
        g.dispatch(FS0, f)
        f.release()
        if seq % 50 == 10:
            g.bind(FS0, ENC0)
        elif seq % 50 == 35:
            g.unbind(FS0, ENC0)
    stop.set()
    for t in threads:
        t.join(5)
    for s in sinks:
        for fr in s.fifo.drain():
            fr.release()
    assert all(f.refcount == 0 for f in fpool.frames)
    assert fpool.outstanding() == 0
    assert fpool.counts()[BufferState.DEQUEUED] == len(fpool.frames)
