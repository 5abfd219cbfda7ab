"""What AENC and ADEC share: a table of channels and of registered codec types.

Process-wide, like libimp's. Channels live in the shared :class:`imp.core.registry.Registry`
(range checks and lookups worded as for every other module); registered codec types get
handles after the built-in payload types, so they are a plain dict.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

from imp.audio.codecs.base import PayloadType
from imp.core.registry import Registry
from imp.errors import AlreadyExists, Busy, InvalidArgument, NotFound
from imp.system import get_system

NR_MAX_CHN = 32
MAX_REGISTERED = 16
FIRST_HANDLE = PayloadType.MAX + 1  # registered types are numbered after the built-in ones
_log = logging.getLogger("imp.audio")


class Closable(Protocol):
    def close(self) -> None: ...


ChannelT = TypeVar("ChannelT", bound=Closable)
RegT = TypeVar("RegT")


class CodecModule(Generic[ChannelT, RegT]):
    """Channels 0..31 and up to 16 registered codec types of one module (``kind``)."""

    def __init__(self, kind: str, register_call: str, device: int) -> None:
        self.kind = kind
        self.device = device  # DEV_ID_AENC/DEV_ID_ADEC: where System_Exit runs our teardown
        self.register_call = register_call
        self._lock = threading.RLock()
        self.channels: Registry[ChannelT] = Registry(
            f"{kind} channel", NR_MAX_CHN, f"IMP_{kind}_CreateChn"
        )
        self.registered: dict[int, RegT] = {}

    def check_chn(self, chn: object) -> int:
        return self.channels.check(chn)

    def channel(self, chn: object) -> ChannelT:
        return self.channels.lookup(chn)

    def free_chn(self) -> int:
        """The lowest channel number not in use (the Pythonic layer's default)."""
        with self._lock:
            return self.channels.free()

    def unknown_type(self, payload_type: object) -> InvalidArgument:
        return InvalidArgument(
            f"{self.kind} payload type {payload_type!r} is neither built in (PT_PCM, PT_G711A, "
            f"PT_G711U, PT_G726) nor a handle from {self.register_call}"
        )

    # -- registrations -------------------------------------------------------------------------
    def add_registration(self, factory: object, make: Callable[[int], RegT]) -> int:
        """Store ``make(handle)`` under the lowest free handle; returns the handle."""
        if not callable(factory):
            raise InvalidArgument(f"{self.register_call}: pass a factory returning a codec object")
        with self._lock:
            handles = range(FIRST_HANDLE, FIRST_HANDLE + MAX_REGISTERED)
            free = [h for h in handles if h not in self.registered]
            if not free:
                raise Busy(f"all {MAX_REGISTERED} {self.kind} registrations are in use")
            self.registered[free[0]] = make(free[0])
            return free[0]

    def unregister(self, handle: object) -> None:
        """Forget a registration; channels made from it keep their codec objects (prudynt-t
        unregisters before it destroys the channel)."""
        with self._lock:
            if not isinstance(handle, int) or handle not in self.registered:
                raise NotFound(f"no {self.kind} codec is registered with handle {handle!r}")
            del self.registered[handle]

    # -- channels ------------------------------------------------------------------------------
    def insert(self, chn: int, make: Callable[[], ChannelT]) -> ChannelT:
        """Create channel ``chn`` with ``make()`` unless it exists."""
        self.check_chn(chn)
        # System_Exit returns all DMA memory: the graph order puts the codec channels (consumers
        # of AI, feeders of AO) before the microphones and after nothing that uses them
        get_system().on_exit(self.destroy_channels, device=self.device)
        with self._lock:
            if chn in self.channels:
                raise AlreadyExists(f"{self.kind} channel {chn} exists already (DestroyChn first)")
            channel = make()
            self.channels[chn] = channel
            return channel

    def destroy(self, chn: int) -> None:
        with self._lock:
            channel = self.channel(chn)
            del self.channels[chn]
        channel.close()

    def destroy_channels(self) -> None:
        """Destroy every channel (System_Exit); registrations stay."""
        self.channels.destroy_all(self._lock, lambda ch: ch.close(), _log)

    def shutdown(self) -> None:
        """Destroy every channel and forget every registration (a fresh process, tests)."""
        self.destroy_channels()
        with self._lock:
            self.registered.clear()
