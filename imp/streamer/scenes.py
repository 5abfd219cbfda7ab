"""Simulator scenes for ``imp-streamer --sim`` (``[sim] scene``).

``default`` and ``static`` are the simulator's own; ``intruder`` is added here: a still
picture where, every 20 s (500 sensor frames at 25 fps), a box crosses the lower half for 4 s.
Motion clips and their pre-roll can be checked against it by frame marks: the box is in the
picture exactly in frames ``INTRUDER_START <= n % INTRUDER_PERIOD < INTRUDER_END``.
"""

from __future__ import annotations

from dataclasses import dataclass

INTRUDER_PERIOD = 500
INTRUDER_START = 200
INTRUDER_END = 300


@dataclass(frozen=True)
class _Crossing:
    width: float
    height: float

    def __call__(self, frame_no: int) -> tuple[float, float, float, float] | None:
        n = frame_no % INTRUDER_PERIOD
        if not INTRUDER_START <= n < INTRUDER_END:
            return None
        t = (n - INTRUDER_START) / (INTRUDER_END - INTRUDER_START)
        w, h = self.width, self.height
        return (0.05 * w + 0.75 * w * t, 0.55 * h, 0.15 * w, 0.25 * h)


def register_streamer_scenes() -> None:
    """Make ``synthetic:intruder`` known to the simulator (idempotent)."""
    from kernel_stubs.sensor import MovingObject, Scene, register_scene

    def intruder(width: int, height: int) -> Scene:
        box = MovingObject(_Crossing(float(width), float(height)), color=(200, 128, 128))
        return Scene(background="texture", objects=(box,))

    register_scene("intruder", intruder)
