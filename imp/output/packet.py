"""Encoded packets and the ``Output`` protocol every sink of them follows.

The split is picamera2's: an encoder produces :class:`Packet` objects and hands each to every
:class:`Output` attached to it, from its own pipeline thread. An output must not block that
thread for long and must never raise an I/O error into it: it logs and counts (``errors``).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

__all__ = [
    "AUDIO_CODECS",
    "PACKET_OVERHEAD",
    "VIDEO_CODECS",
    "Output",
    "Packet",
]

VIDEO_CODECS = frozenset({"h264", "h265", "jpeg"})
AUDIO_CODECS = frozenset({"aac", "opus", "g711a", "g711u", "g726", "pcm"})


@dataclass(frozen=True, slots=True)
class Packet:
    """One access unit of an encoded stream.

    ``data``: Annex-B with 4-byte start codes for H.264/H.265 (an IDR access unit carries its
    VPS/SPS/PPS in front), one JPEG file, or one encoded audio frame. ``pts``: µs on the IMP
    clock, the capture timestamp of the frame or of the first sample. ``keyframe``: IDR for
    video; True for every JPEG and audio packet.
    """

    data: bytes
    pts: int
    keyframe: bool
    codec: str  # "h264" | "h265" | "jpeg" | "aac" | "opus" | "g711a" | "g711u" | "g726" | "pcm"
    seq: int = 0
    kind: str = "video"  # "video" | "audio"
    width: int = 0
    height: int = 0
    sample_rate: int = 0
    channels: int = 0


# What one held packet costs beyond its payload: the Packet object, the bytes object's header and
# a container slot. Rings count it so that ``bytes_held`` is the memory actually held, which for
# small audio packets is mostly overhead.
PACKET_OVERHEAD = sys.getsizeof(Packet(b"", 0, True, "h264")) + sys.getsizeof(b"") + 8


@runtime_checkable
class Output(Protocol):
    """A sink of encoded packets (``FileOutput``, ``Mp4Output``, ``CircularOutput``, ...)."""

    def write(self, packet: Packet) -> None:
        """Take one packet. Called from a pipeline thread: never blocks for long, never raises
        an I/O error (it is logged and counted)."""
        ...

    def close(self) -> None:
        """Flush and close. Idempotent."""
        ...
