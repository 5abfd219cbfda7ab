"""One event bus per pipeline: state changes, drops, errors, end of stream.

GStreamer's bus and OpenMAX IL's EventHandler are the models: nodes *post*, the application
reads the bus as an iterator (``for event in cam.bus.events(timeout=1): ...``) or subscribes a
callback. Posting never blocks a frame thread: the queue is bounded and, when nobody reads it,
the oldest events go (counted in ``lost``); callbacks run on the posting thread and must be short.
"""

from __future__ import annotations

import enum
import logging
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from imp.errors import InvalidArgument
from imp.framesource import DEFAULT_GETFRAME_TIMEOUT

log = logging.getLogger("imp.pipeline")

BUS_DEPTH = 256
DEFAULT_TIMEOUT = DEFAULT_GETFRAME_TIMEOUT
"""Seconds every Pythonic wait uses unless told otherwise (frames, streams, motion, events):
the 2 s after which libimp's GetFrame gives up."""


class State(enum.Enum):
    """A node's life (OpenMAX IL's Loaded/Idle/Executing/Pause, GStreamer's NULL..PLAYING)."""

    CREATED = "created"  # the channel/group exists, not connected or not receiving
    READY = "ready"  # configured and connected, not receiving
    RUNNING = "running"
    PAUSED = "paused"  # keeps its connections and settings; frames pass it by
    CLOSED = "closed"  # everything released; the handle refers to nothing any more


class EventKind(enum.Enum):
    STATE = "state"
    DROP = "drop"
    ERROR = "error"
    RECOVERED = "recovered"
    FORMAT = "format"
    EOS = "eos"
    MOTION = "motion"


@dataclass(frozen=True)
class Event:
    """``source`` is the node's repr; ``detail`` says what happened in words."""

    kind: EventKind
    source: str
    detail: str
    count: int = 0  # drops: how many so far; state: 0


Callback = Callable[[Event], None]


class EventBus:
    """Bounded queue of :class:`Event` plus subscribers."""

    def __init__(self, depth: int = BUS_DEPTH) -> None:
        if depth < 1:
            raise InvalidArgument(f"bus depth {depth} must be >= 1")
        self._cond = threading.Condition()
        self._events: deque[Event] = deque(maxlen=depth)
        self._subscribers: tuple[Callback, ...] = ()
        self.lost = 0

    def __repr__(self) -> str:
        return f"<EventBus queued={len(self._events)} lost={self.lost}>"

    def subscribe(self, callback: Callback) -> None:
        self._subscribers = (*self._subscribers, callback)

    def unsubscribe(self, callback: Callback) -> None:
        self._subscribers = tuple(c for c in self._subscribers if c != callback)

    def post(self, event: Event) -> None:
        with self._cond:
            if len(self._events) == self._events.maxlen:
                self.lost += 1
            self._events.append(event)
            self._cond.notify_all()
        for callback in self._subscribers:
            try:
                callback(event)
            except Exception:  # a subscriber's bug must not stop the frame thread posting
                log.exception("event bus subscriber %r failed on %s", callback, event)

    def get(self, timeout: float | None = DEFAULT_TIMEOUT) -> Event | None:
        """The oldest unread event, or None when none arrives within ``timeout`` s."""
        with self._cond:
            if not self._cond.wait_for(lambda: bool(self._events), timeout):
                return None
            return self._events.popleft()

    def events(self, timeout: float | None = DEFAULT_TIMEOUT) -> Iterator[Event]:
        """Yield events until none arrives for ``timeout`` s."""
        while (event := self.get(timeout)) is not None:
            yield event


__all__ = ["BUS_DEPTH", "DEFAULT_TIMEOUT", "Event", "EventBus", "EventKind", "State"]
