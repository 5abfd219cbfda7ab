"""Stand-in for ``imp.output.packet`` (Packet, Output) until ``imp/output`` lands.

Only imported when ``imp.output`` cannot be; delete once it has landed everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Packet:
    data: bytes
    pts: int
    keyframe: bool
    codec: str
    seq: int = 0
    kind: str = "video"
    width: int = 0
    height: int = 0
    sample_rate: int = 0
    channels: int = 0


class Output(Protocol):
    def write(self, packet: Packet) -> None: ...

    def close(self) -> None: ...


__all__ = ["Output", "Packet"]
