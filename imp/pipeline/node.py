"""The Pythonic graph node: a handle that holds its group object and owns its binds.

Every node (FrameSource channel, OSD group, IVS motion detector, encoder) is a source for the
next: ``cam.encoder(overlay, imp.H264())`` binds the overlay's output to the encoder's group.
The bind belongs to the *downstream* node; :meth:`Node.close` works in any order because it
first unbinds every edge it takes part in (its own input, and the inputs of the nodes it
feeds, which stay open but detached), and only then stops and destroys its own group. A closed
node raises :class:`~imp.errors.Closed` on every use: it checks that the module still holds
*its* object, so it can never reach a channel that later got the same number.
"""

from __future__ import annotations

import logging
import threading
from types import TracebackType

from imp.core.graph import Cell, cell_name
from imp.errors import Closed, ImpError, InvalidState, NotSupported
from imp.pipeline.events import Event, EventBus, EventKind, State
from imp.system import get_system

log = logging.getLogger("imp.pipeline")

_default_bus = EventBus()

FrameFormat = tuple[tuple[int, int], tuple[int, int]]
"""((width, height), (fps_num, fps_den)) of the frames a node passes on."""


def default_bus() -> EventBus:
    """The bus of nodes made outside a :class:`~imp.Camera` (``open_encoder`` and friends)."""
    return _default_bus


class Node:
    """Base of the Pythonic handles. Subclasses define the cells, liveness and teardown."""

    kind = "node"

    def __init__(self, bus: EventBus | None = None) -> None:
        self._state = State.CREATED
        self._lock = threading.RLock()
        self._upstream: Node | None = None
        self._upstream_cell: Cell | None = None
        self._downstream: list[Node] = []
        self.bus = bus if bus is not None else _default_bus
        self._drop_seen: dict[str, int] = {}

    # -- subclass interface ---------------------------------------------------------------------
    def output_cell(self, output: int = 0) -> Cell:
        """The cell a downstream node binds to."""
        raise NotSupported(f"{self!r} produces no frames for another node")

    def input_cell(self) -> Cell:
        raise NotSupported(f"{self!r} takes no frames from another node")

    def frame_format(self) -> FrameFormat:
        """Size and rate of the frames this node passes on (by default: its source's)."""
        if self._upstream is None:
            raise InvalidState(f"{self!r} is not connected to a source: attach it first")
        return self._upstream.frame_format()

    def _alive(self) -> bool:
        """True while the module still holds this handle's own object."""
        return True

    def _teardown(self) -> None:
        """Stop and destroy the node's own group/channel (its edges are gone already)."""

    def _bind_input(self, src: Cell) -> None:
        get_system().bind(src, self.input_cell())

    def _unbind_input(self, src: Cell) -> None:
        get_system().unbind(src, self.input_cell())

    # -- state ----------------------------------------------------------------------------------
    @property
    def state(self) -> State:
        if self._state is not State.CLOSED and not self._alive():
            self._state = State.CLOSED  # System_Exit (or the C API) took it away
        return self._state

    @property
    def closed(self) -> bool:
        return self.state is State.CLOSED

    def _set_state(self, state: State) -> None:
        old, self._state = self._state, state
        if old is not state:
            self.bus.post(Event(EventKind.STATE, repr(self), f"{old.value} -> {state.value}"))

    def check(self) -> None:
        """Raise :class:`Closed` unless the handle still refers to its channel."""
        if self.state is State.CLOSED:
            raise Closed(
                f"{self!r} is closed: it no longer refers to any channel; create a new one"
            )

    def note_drops(self, counts: dict[str, int]) -> dict[str, int]:
        """Warn once per cause that this node lost frames; post each new count on the bus."""
        for cause, count in counts.items():
            seen = self._drop_seen.get(cause, 0)
            if count <= seen:
                continue
            if seen == 0:
                log.warning("%r dropped frames (%s); see its .drops counters", self, cause)
            self._drop_seen[cause] = count
            self.bus.post(Event(EventKind.DROP, repr(self), cause, count))
        return counts

    # -- edges ----------------------------------------------------------------------------------
    @property
    def source(self) -> Node | None:
        return self._upstream

    @property
    def sinks(self) -> tuple[Node, ...]:
        return tuple(self._downstream)

    def attach(self, source: Node | Cell, output: int = 0) -> None:
        """Take frames from ``source`` (a node, or a raw cell for the explicit C-style form)."""
        self.check()
        if isinstance(source, Node):
            source.check()
            src = source.output_cell(output)
        else:
            src = source
        with self._lock:
            if self._upstream_cell is not None:
                self.detach()
            self._bind_input(src)
            self._upstream_cell = src
            if isinstance(source, Node):
                self._upstream = source
                source._downstream.append(self)
        if self._state is State.CREATED:
            self._set_state(State.READY)

    def detach(self) -> None:
        """Stop taking frames from the source (idempotent); the node itself stays open."""
        with self._lock:
            src, up = self._upstream_cell, self._upstream
            self._upstream_cell, self._upstream = None, None
            if up is not None and self in up._downstream:
                up._downstream.remove(self)
            if src is None or not get_system().initialized:
                return
            try:
                self._unbind_input(src)
            except ImpError as exc:  # unbound through the C API already
                log.info("%r: UnBind %s: %s", self, cell_name(src), exc)

    def close(self) -> None:
        """Unbind every edge, then stop and destroy; idempotent, any order across nodes."""
        with self._lock:
            if self._state is State.CLOSED:
                return
            for sink in list(self._downstream):
                sink.detach()
            self.detach()
            try:
                if self._alive():
                    self._teardown()
            finally:
                self._set_state(State.CLOSED)

    def __enter__(self) -> Node:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def close_all(nodes: list[Node]) -> None:
    """Close ``nodes`` leaves first (a node after everything it feeds): the graph decides the
    order, so frames stop flowing from the consumers back towards the source."""
    pending = [n for n in nodes if n._state is not State.CLOSED]
    while pending:
        leaves = [n for n in pending if not any(s in pending for s in n._downstream)]
        for node in leaves or pending[-1:]:
            try:
                node.close()
            except ImpError as exc:
                log.error("closing %r: %s", node, exc)
            pending.remove(node)


__all__ = ["FrameFormat", "Node", "close_all", "default_bus"]
