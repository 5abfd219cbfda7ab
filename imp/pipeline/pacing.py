"""Who sets the pace: the sensor (real time) or the slowest consumer (virtual clock).

On the board and under the simulator's real-time clock frames come at the sensor's rate and a
consumer that falls behind loses frames (counted on its handle). Under the virtual clock the
simulated sensor produces the next frame only when every streaming channel has a buffer back,
so a consumer that *holds* its frames until done (instead of dropping the oldest) paces the
whole pipeline: nothing is lost and every run produces the same output. The Pythonic layer
switches its nodes to that holding mode when this returns True; ``imp.capi`` keeps libimp's
dropping behaviour.
"""

from __future__ import annotations

from imp import runtime
from imp.framesource import MAX_VBS

LOSSLESS_DEPTH = MAX_VBS
"""Queue depth of a holding consumer: never reached, as every queued frame holds one of the
source's buffers (at most ``MAX_VBS``), so the queue never drops."""


def consumers_pace_source() -> bool:
    """True when the kernel is the simulator running the virtual clock."""
    config = getattr(runtime.kernel(), "config", None)
    return getattr(config, "clock", None) == "virtual"


__all__ = ["LOSSLESS_DEPTH", "consumers_pace_source"]
