"""The pre-roll ring of :class:`~imp.output.CircularOutput`: the last N seconds of packets,
starting at a video keyframe, within a byte budget. Not thread-safe (its owner locks)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from imp.output.packet import PACKET_OVERHEAD, Packet

__all__ = ["PacketRing", "RingStats"]


def packet_cost(packet: Packet) -> int:
    """Memory one held packet takes: payload plus the objects around it."""
    return len(packet.data) + PACKET_OVERHEAD


@dataclass
class RingStats:
    trimmed: int = 0  # packets aged out (older than the pre-roll needs)
    evicted: int = 0  # packets dropped early to stay within max_bytes
    refused: int = 0  # packets not kept: before the ring's first keyframe, or alone > max_bytes


class PacketRing:
    """Packets in arrival order such that the first is a video keyframe (when the stream has
    video) and the span from the newest keyframe at or before ``newest - seconds`` is kept.

    So the ring always covers >= ``seconds`` once the stream is that long, plus at most one GOP
    (the pre-roll has to start on an IDR). ``max_bytes`` is never exceeded: when a packet would
    break it, whole GOPs are dropped from the front; if the newest GOP alone is too large the
    ring empties and starts again at the next keyframe (the pre-roll is then shorter, counted in
    ``stats.evicted``). Audio packets ride along and are trimmed with the video they sit in.
    """

    def __init__(self, seconds: float, max_bytes: int) -> None:
        self.span_us = round(seconds * 1_000_000)
        self.max_bytes = max_bytes
        self.bytes_held = 0
        self.stats = RingStats()
        self._packets: deque[Packet] = deque()
        self._keys: deque[int] = deque()  # absolute indexes of the video keyframes held
        self._first = 0  # absolute index of _packets[0]
        self._seen_video = False

    def __len__(self) -> int:
        return len(self._packets)

    def snapshot(self) -> list[Packet]:
        return list(self._packets)

    def seconds_held(self) -> float:
        if not self._packets:
            return 0.0
        return (self._packets[-1].pts - self._packets[0].pts) / 1_000_000

    def clear(self) -> None:
        self._packets.clear()
        self._keys.clear()
        self._first = 0
        self.bytes_held = 0

    def add(self, packet: Packet) -> None:
        video_key = packet.kind == "video" and packet.keyframe
        if packet.kind == "video":
            self._seen_video = True
        if self._seen_video and not self._keys and not video_key:
            self.stats.refused += 1  # a pre-roll must begin with an IDR
            return
        cost = packet_cost(packet)
        if cost > self.max_bytes:
            self.stats.evicted += len(self._packets)
            self.stats.refused += 1
            self.clear()
            return
        while self.bytes_held + cost > self.max_bytes:
            self._evict()
            if not self._packets and not video_key and self._seen_video:
                self.stats.refused += 1
                return
        if video_key:
            self._keys.append(self._first + len(self._packets))
        self._packets.append(packet)
        self.bytes_held += cost
        self._trim(packet.pts)

    def _trim(self, newest: int) -> None:
        """Drop what lies before the newest keyframe that still leaves ``span_us`` behind it."""
        horizon = newest - self.span_us
        if not self._seen_video:  # audio only: keep the newest packet at or before the horizon
            while len(self._packets) > 1 and self._packets[1].pts <= horizon:
                self._pop(1)
                self.stats.trimmed += 1
            return
        while len(self._keys) > 1 and self._packets[self._keys[1] - self._first].pts <= horizon:
            count = self._keys[1] - self._first
            self._pop(count)
            self.stats.trimmed += count
            self._keys.popleft()

    def _evict(self) -> None:
        """Drop the oldest GOP; with one GOP left, everything (the ring restarts at a keyframe).
        Audio only: the oldest packet."""
        if not self._seen_video:
            count = 1
        elif len(self._keys) > 1:
            count = self._keys[1] - self._first
            self._keys.popleft()
        else:
            count = len(self._packets)
            self._keys.clear()
        self._pop(count)
        self.stats.evicted += count

    def _pop(self, count: int) -> None:
        for _ in range(count):
            self.bytes_held -= packet_cost(self._packets.popleft())
        self._first += count
