"""The Pythonic pipeline: nodes you compose with objects, their states and one event bus.

- :mod:`imp.pipeline.node` — :class:`Node`, the handle base (binds, close in any order);
- :mod:`imp.pipeline.events` — :class:`State`, :class:`Event`, :class:`EventBus`;
- :mod:`imp.pipeline.source` — a FrameSource channel as a node;
- :mod:`imp.pipeline.overlay` — an OSD group as a node, with text/clock/image/cover/rect regions;
- :mod:`imp.pipeline.motion` — an IVS motion detector as a node yielding events;
- :mod:`imp.pipeline.outputs` — encoders feeding :class:`imp.output.Output` objects;
- :mod:`imp.pipeline.pacing` — who sets the pace (sensor, or the slowest consumer).

The encoder node is :class:`imp.encoder.EncoderHandle`; :class:`imp.Camera` ties them together.
"""

from __future__ import annotations

from imp.pipeline.events import DEFAULT_TIMEOUT, Event, EventBus, EventKind, State
from imp.pipeline.node import Node, close_all

__all__ = ["DEFAULT_TIMEOUT", "Event", "EventBus", "EventKind", "Node", "State", "close_all"]
