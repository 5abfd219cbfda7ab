"""An encoder group: the graph node (device ENC) that receives frames for up to two channels.

The group is the unit of input (``IMP_System_Bind`` targets it); its channels are the units of
output, each with its own frame rate, codec and stream buffer, e.g. H.264 plus a JPEG snapshot
channel on the same frames.
"""

from __future__ import annotations

import threading

from imp.core.graph import DEV_ID_ENC
from imp.core.vbm import Frame
from imp.encoder.channel import EncoderChannel
from imp.errors import AlreadyExists, Busy, InvalidArgument

MAX_CHANNELS_PER_GROUP = 2


class EncoderGroup:
    """Graph node ``{DEV_ID_ENC, group}``; fans each frame out to its registered channels."""

    device = DEV_ID_ENC
    num_outputs = 0  # an encoder is a sink: its output is the stream, not frames

    def __init__(self, group: int) -> None:
        self.group = group
        # False while the group only exists because a channel was registered into it before
        # CreateGroup (usage.md §0 quirk 1): it holds the channel but is not in the graph yet.
        self.created = False
        self._lock = threading.Lock()
        # Replaced, never mutated: on_frame reads it without the lock.
        self._channels: tuple[EncoderChannel, ...] = ()

    @property
    def channels(self) -> tuple[EncoderChannel, ...]:
        return self._channels

    def add(self, channel: EncoderChannel) -> None:
        with self._lock:
            if channel in self._channels:
                raise AlreadyExists(f"channel {channel.chn} is already in group {self.group}")
            if len(self._channels) >= MAX_CHANNELS_PER_GROUP:
                raise Busy(
                    f"group {self.group} already holds channels "
                    f"{[c.chn for c in self._channels]}; a group takes at most "
                    f"{MAX_CHANNELS_PER_GROUP} channels"
                )
            self._channels = (*self._channels, channel)

    def remove(self, channel: EncoderChannel) -> None:
        with self._lock:
            if channel not in self._channels:
                raise InvalidArgument(f"channel {channel.chn} is not in group {self.group}")
            self._channels = tuple(c for c in self._channels if c is not channel)

    def on_frame(self, frame: Frame) -> None:
        """From the bound source: each receiving channel takes its own reference if it wants
        the frame; the group's reference is dropped before returning (never blocks)."""
        try:
            for channel in self._channels:
                channel.offer(frame)
        finally:
            frame.release()

    def __repr__(self) -> str:
        state = "created" if self.created else "pending CreateGroup"
        return f"<EncoderGroup {self.group} {state} channels={[c.chn for c in self._channels]}>"


__all__ = ["MAX_CHANNELS_PER_GROUP", "EncoderGroup"]
