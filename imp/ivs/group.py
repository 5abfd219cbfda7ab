"""An IVS group: the graph node (device IVS = 3) whose input feeds its channels.

Every frame is passed on at once to whatever is bound to output 0 (FS -> IVS -> ENC in the
vendor samples) and offered to each registered channel that receives pictures; analysis runs
later on the channels' own threads, so the encoder never waits for an algorithm.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from imp import log
from imp.core.graph import DEV_ID_IVS
from imp.errors import AlreadyExists, Busy, InvalidState
from imp.system import get_system

if TYPE_CHECKING:
    from imp.core.vbm import Frame
    from imp.ivs.channel import IvsChannel

_log = log.get("ivs")


class IvsGroup:
    """``IMP_IVS_CreateGroup``: one input, one output, any number of channels."""

    device = DEV_ID_IVS
    num_outputs = 1

    def __init__(self, num: int) -> None:
        self.group = num
        self.frames = 0  # frames received (and passed on)
        self._lock = threading.Lock()
        self._channels: tuple[IvsChannel, ...] = ()  # replaced, never mutated: read unlocked

    def __repr__(self) -> str:
        return f"<IvsGroup {self.group} channels={[c.num for c in self._channels]}>"

    @property
    def cell(self) -> tuple[int, int, int]:
        """``{DEV_ID_IVS, group, 0}`` for Bind/UnBind."""
        return (DEV_ID_IVS, self.group, 0)

    @property
    def channels(self) -> tuple[IvsChannel, ...]:
        return self._channels

    # -- graph node -----------------------------------------------------------------------------
    def on_frame(self, frame: Frame) -> None:
        self.frames += 1
        with frame.handing_on():  # the reference dispatch gave us, dropped once passed on
            get_system().graph.dispatch((DEV_ID_IVS, self.group, 0), frame)
            for chn in self._channels:
                chn.offer(frame)

    # -- channels -------------------------------------------------------------------------------
    def register(self, chn: IvsChannel) -> None:
        """``IMP_IVS_RegisterChn``."""
        with self._lock:
            if chn.group is self:
                raise AlreadyExists(
                    f"channel {chn.num} is already registered to group {self.group}"
                )
            if chn.group is not None:
                raise Busy(
                    f"channel {chn.num} is registered to group {chn.group.group}; "
                    "UnRegisterChn it first"
                )
            chn.group = self
            self._channels = (*self._channels, chn)

    def unregister(self, chn: IvsChannel) -> None:
        """``IMP_IVS_UnRegisterChn``."""
        with chn.lifecycle:  # no StartRecvPic between the check and the act
            chn.check_idle("UnRegisterChn")
            with self._lock:
                if chn.group is not self:
                    raise InvalidState(f"channel {chn.num} is not registered to group {self.group}")
                self._channels = tuple(c for c in self._channels if c is not chn)
                chn.group = None


__all__ = ["IvsGroup"]
