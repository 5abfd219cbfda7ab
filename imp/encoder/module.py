"""The Encoder module: the table of groups and channels behind ``IMP_Encoder_*``.

Process-wide like libimp's. Settings that the vendor API takes before a channel exists
(SetStreamBufSize, SetMaxStreamCnt, SetbufshareChn, ...) are kept per channel number here and
used at CreateChn.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass

from imp import runtime
from imp.core.graph import DEV_ID_ENC
from imp.core.registry import Registry
from imp.encoder.attr import EncoderAttr, default_stream_buffer_size
from imp.encoder.channel import EncoderChannel
from imp.encoder.group import EncoderGroup
from imp.encoder.ring import StreamRing
from imp.errors import AlreadyExists, Busy, InvalidState, NotFound
from imp.system import get_system

log = logging.getLogger("imp.encoder")

NR_MAX_ENC_GROUPS = 6
NR_MAX_ENC_CHN = 32  # PollingModuleStream reports channels as bits of a uint32_t
NR_MAX_ENC_CHN_STREAM = 16
DEFAULT_MAX_STREAM_CNT = 4
WRAP_ENV = "IMP_ENC_STREAM_WRAP"
BACKEND_ENV = "IMP_ENC_BACKEND"


@dataclass
class ChannelPrefs:
    """What the application set for a channel number before (or after) creating it."""

    stream_buf_size: int = 0  # 0: the default for the channel's attributes
    max_stream_cnt: int = DEFAULT_MAX_STREAM_CNT
    share_with: int | None = None  # SetbufshareChn: accepted, nothing to share in software
    resize_mode: int = 0
    fisheye: int = 0
    entropy_mode: int = 0
    pool_id: int = -1
    frame_release: tuple[int, int] | None = None


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "yes", "true", "on")


class Encoder:
    """Groups and channels; the module-level stream readiness for PollingModuleStream."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.groups: Registry[EncoderGroup] = Registry(
            "encoder group", NR_MAX_ENC_GROUPS, "CreateGroup"
        )
        self.channels: Registry[EncoderChannel] = Registry(
            "encoder channel", NR_MAX_ENC_CHN, "CreateChn"
        )
        self._prefs: dict[int, ChannelPrefs] = {}
        self._ready = threading.Condition()
        self._pollers = 0  # threads in PollingModuleStream: nobody to wake otherwise
        self._hooked = False

    # -- lookups -------------------------------------------------------------------------------
    def check_chn(self, chn: int) -> int:
        return self.channels.check(chn)

    def check_group(self, group: int) -> int:
        return self.groups.check(group)

    def channel(self, chn: int) -> EncoderChannel:
        return self.channels.lookup(chn)

    def prefs(self, chn: int) -> ChannelPrefs:
        self.check_chn(chn)
        with self._lock:
            return self._prefs.setdefault(chn, ChannelPrefs())

    def _hook(self) -> None:
        if not self._hooked:
            # Stopped before whatever feeds the groups (the graph orders System_Exit).
            get_system().on_exit(self.shutdown, device=DEV_ID_ENC)
            self._hooked = True

    # -- groups --------------------------------------------------------------------------------
    def create_group(self, group: int) -> EncoderGroup:
        self.check_group(group)
        system = get_system()
        system.require_init(f"CreateGroup({group})")
        with self._lock:
            node = self.groups.get(group)
            if node is not None and node.created:
                raise AlreadyExists(f"encoder group {group} exists already")
            if node is None:
                node = EncoderGroup(group)
            system.graph.register(node)
            node.created = True
            self.groups[group] = node
            self._hook()
            return node

    def destroy_group(self, group: int) -> None:
        self.check_group(group)
        with self._lock:
            node = self.groups.get(group)
            if node is None or not node.created:
                raise NotFound(f"encoder group {group} was never created")
            if node.channels:
                raise Busy(
                    f"DestroyGroup({group}): channels {[c.chn for c in node.channels]} are "
                    "still registered; UnRegisterChn them first"
                )
            get_system().graph.unregister(node.device, group)  # Busy while still bound
            del self.groups[group]

    # -- channels ------------------------------------------------------------------------------
    def create_channel(
        self,
        chn: int,
        attr: EncoderAttr,
        wrap: bool | None = None,
        backend: str | None = None,
    ) -> EncoderChannel:
        self.check_chn(chn)
        get_system().require_init(f"CreateChn({chn})")
        attr.validate(f"CreateChn({chn})")
        with self._lock:
            if chn in self.channels:
                raise AlreadyExists(f"encoder channel {chn} exists already; DestroyChn it first")
            prefs = self._prefs.setdefault(chn, ChannelPrefs())
            size = prefs.stream_buf_size or default_stream_buffer_size(attr)
            ring = StreamRing(
                runtime.allocator(),
                size,
                name=f"enc{chn}-stream",
                wrap=_env_flag(WRAP_ENV) if wrap is None else wrap,
            )
            try:
                ch = EncoderChannel(
                    chn,
                    attr,
                    ring,
                    notify=self._notify_ready,
                    backend=backend or os.environ.get(BACKEND_ENV) or None,
                )
            except BaseException:
                ring.close()
                raise
            self.channels[chn] = ch
            self._hook()
            log.info(
                "channel %d: %s %dx%d %d/%d fps, stream buffer %d bytes%s",
                chn,
                attr.codec.name,
                attr.width,
                attr.height,
                *attr.fps,
                size,
                " (wrapping)" if ring.wrap else "",
            )
            return ch

    def destroy_channel(self, chn: int) -> None:
        with self._lock:
            ch = self.channel(chn)
            if ch.registered:
                raise Busy(
                    f"DestroyChn({chn}): the channel is registered to group {ch.group}; "
                    "UnRegisterChn it first"
                )
            del self.channels[chn]
        ch.destroy()

    def register(self, group: int, chn: int) -> None:
        self.check_group(group)
        get_system().require_init(f"RegisterChn({group}, {chn})")
        with self._lock:
            ch = self.channel(chn)
            if ch.registered:
                raise AlreadyExists(
                    f"RegisterChn({group}, {chn}): channel {chn} is already registered to "
                    f"group {ch.group}"
                )
            node = self.groups.get(group)
            if node is None:
                # The stock library accepts RegisterChn before CreateGroup (prudynt relies on
                # it, usage.md §0 quirk 1): keep the channel in a group created later.
                log.info("RegisterChn(%d, %d) before CreateGroup(%d)", group, chn, group)
                node = EncoderGroup(group)
                self.groups[group] = node
            node.add(ch)
            ch.group = group

    def unregister(self, chn: int) -> None:
        ch = self.channel(chn)
        with ch.lifecycle:  # no StartRecvPic between the check and the reset
            with self._lock:
                if self.channels.get(chn) is not ch:
                    raise InvalidState(f"UnRegisterChn({chn}): the channel was destroyed")
                if ch.group is None:
                    raise InvalidState(f"UnRegisterChn({chn}): the channel is not registered")
                if ch.receiving:
                    raise Busy(f"UnRegisterChn({chn}): call StopRecvPic({chn}) first")
                node = self.groups[ch.group]
                node.remove(ch)
                ch.group = None
                if not node.created and not node.channels:
                    del self.groups[node.group]
            ch.reset()

    # -- readiness across channels -------------------------------------------------------------
    def _notify_ready(self) -> None:
        if not self._pollers:  # read without the lock: a poller re-checks before it waits
            return
        with self._ready:
            self._ready.notify_all()

    def ready_bitmap(self) -> int:
        bitmap = 0
        for chn, ch in list(self.channels.items()):
            if ch.ready_count:
                bitmap |= 1 << chn
        return bitmap

    def poll_module(self, timeout: float | None) -> int:
        """PollingModuleStream: bitmap of channels with streams ready (0 on timeout)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._ready:
            self._pollers += 1
            try:
                while True:
                    bitmap = self.ready_bitmap()
                    if bitmap:
                        return bitmap
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        return 0
                    self._ready.wait(remaining)
            finally:
                self._pollers -= 1

    # -- teardown ------------------------------------------------------------------------------
    def shutdown(self) -> None:
        """System_Exit: stop every channel, free every stream buffer, forget every group."""
        with self._lock:
            channels = list(self.channels.values())
            self.channels.clear()
            self.groups.clear()
            self._prefs.clear()
            self._hooked = False
        for ch in channels:
            ch.stop()
        for ch in channels:
            try:
                ch.destroy()
            except Exception as exc:
                log.error("channel %d: teardown: %s", ch.chn, exc)
        with self._ready:
            self._ready.notify_all()


_encoder = Encoder()


def get_encoder() -> Encoder:
    return _encoder


__all__ = [
    "NR_MAX_ENC_CHN",
    "NR_MAX_ENC_GROUPS",
    "ChannelPrefs",
    "Encoder",
    "get_encoder",
]
