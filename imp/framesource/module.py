"""The FrameSource module: channel table and the mapping of channels to framechan nodes."""

from __future__ import annotations

import threading

from imp import log
from imp.core.graph import DEV_ID_FS
from imp.core.registry import Registry
from imp.errors import Busy, InvalidArgument, InvalidState, NotFound
from imp.framesource.attr import (
    FS_EXT_CHANNEL,
    FS_PHY_CHANNEL,
    MAX_CHANNELS,
    PHYSICAL_CHANNELS,
    PIX_FMT_NV12,
    ChannelAttr,
)
from imp.framesource.channel import FsChannel
from imp.system import get_system

_log = log.get("fs")


class FrameSource:
    """The FrameSource module: channel table and the mapping to framechan nodes."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.channels: Registry[FsChannel] = Registry(
            "FrameSource channel", MAX_CHANNELS, "IMP_FrameSource_CreateChn"
        )

    def channel(self, chn: int) -> FsChannel:
        return self.channels.lookup(chn)

    def create(self, chn: int, attr: ChannelAttr) -> FsChannel:
        return self._create(chn, attr, emulated=False)

    def create_emulated(self, chn: int, attr: ChannelAttr) -> FsChannel:
        """IMP_EmuFrameSource_CreateChn: a channel fed by the program (see emulated.py)."""
        return self._create(chn, attr, emulated=True)

    def _create(self, chn: int, attr: ChannelAttr, emulated: bool) -> FsChannel:
        from imp.framesource.emulated import EmuChannel

        return self.channels.create_node(
            chn,
            self._lock,
            f"{'EmuFrameSource ' if emulated else ''}CreateChn",
            lambda: EmuChannel(chn, attr) if emulated else FsChannel(chn, attr),
            self.shutdown,
            DEV_ID_FS,  # the graph puts sources last
            validate=lambda: attr.validate(chn, emulated=emulated),
        )

    def destroy(self, chn: int) -> None:
        with self._lock:
            ch = self.channel(chn)
            if ch.enabled:
                raise Busy(f"DestroyChn({chn}): channel is enabled; call DisableChn first")
            get_system().graph.unregister(DEV_ID_FS, chn)
            ch.destroy()
            del self.channels[chn]

    def enable(self, chn: int) -> None:
        with self._lock:
            ch = self.channel(chn)
            if ch.enabled:
                return
            source = self._software_source(ch)
            if source is not None:
                ch.enable_extension(source)
                return
            ch.enable(self._hardware_for(ch))

    def _software_source(self, ch: FsChannel) -> FsChannel | None:
        """The channel an extension channel converts from, or None when it is not fed in
        software: SetSource's, or channel 0 for an RGBA/BGRA/HSV channel without one."""
        if ch.emulated or ch.attr.type != FS_EXT_CHANNEL:
            return None
        if ch.source is None and ch.attr.pixfmt == PIX_FMT_NV12:
            return None  # borrows an ISP downscaler (_hardware_for)
        src = ch.source if ch.source is not None else 0
        if src == ch.group:
            raise InvalidArgument(f"EnableChn({ch.group}): a channel cannot be its own source")
        source = self.channels.get(src)
        if source is None:
            raise NotFound(
                f"EnableChn({ch.group}): source channel {src} does not exist; create it (and "
                "SetSource) first"
            )
        return source

    def disable(self, chn: int) -> None:
        ch = self.channel(chn)
        if not ch.enabled:
            raise InvalidState(f"DisableChn({chn}): channel is not enabled")
        ch.disable()

    def _hardware_for(self, ch: FsChannel) -> int:
        """framechan node for a channel: physical ones own theirs; an extension channel without
        a source borrows a free ISP downscaler (highest first: ds0 is the main stream's); an
        emulated channel has none (-1)."""
        if ch.emulated:
            return -1
        if ch.attr.type == FS_PHY_CHANNEL:
            owner = self._hw_owner(ch.group)
            if owner is not None and owner is not ch:
                raise Busy(
                    f"EnableChn({ch.group}): framechan{ch.group} is in use by extension channel "
                    f"{owner.group}"
                )
            return ch.group
        for hw in range(PHYSICAL_CHANNELS - 1, 0, -1):
            other = self.channels.get(hw)
            if (other is None or other.emulated) and self._hw_owner(hw) is None:
                return hw
        raise Busy(f"EnableChn({ch.group}): no free ISP output for this extension channel")

    def _hw_owner(self, hw: int) -> FsChannel | None:
        for other in self.channels.values():
            if other.enabled and other.hw_index == hw:
                return other
        return None

    def shutdown(self) -> None:
        """System_Exit: disable and destroy every channel, returning all buffers."""
        self.channels.destroy_all(self._lock, lambda ch: ch.destroy(), _log)  # EmuChannel too


_fs = FrameSource()


def get_framesource() -> FrameSource:
    return _fs
