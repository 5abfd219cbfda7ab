"""Frames as IVS algorithms see them, and the frame locks behind ``IMP_IVS_ReleaseData``.

IVS hands each algorithm a frame *locked* for it (one reference to the DMA buffer, no copy);
``processAsync`` must give it back with ``IMP_IVS_ReleaseData(frame->virAddr)`` as soon as it is
done, or the FrameSource runs out of buffers. ReleaseData takes only an address, so the locks
are process-wide and found by address; the channel whose worker thread calls it is preferred
when two channels hold the same frame.
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from imp import log
from imp.core.vbm import PIX_FMT_NV12
from imp.errors import InvalidArgument
from imp.types import IMPFrameInfo

if TYPE_CHECKING:
    from imp.core.vbm import Frame

_log = log.get("ivs")


class FrameView:
    """One frame handed to an algorithm: zero-copy luma/chroma views plus its C description.

    ``release()`` gives the IVS lock back (``IMP_IVS_ReleaseData``); it is idempotent, and a
    no-op for a frame IVS did not lock (e.g. one an application got from FS_GetFrame and
    passes to ``processAsync`` itself, as sample-Framesource-algo does).
    """

    __slots__ = (
        "_info",
        "_release",
        "height",
        "index",
        "phys",
        "seq",
        "timestamp",
        "uv",
        "vir_addr",
        "width",
        "y",
    )

    def __init__(
        self,
        y: np.ndarray,
        uv: np.ndarray | None,
        *,
        timestamp: int,
        seq: int,
        vir_addr: int,
        phys: int = 0,
        index: int = 0,
        release: Callable[[], None] | None = None,
        info: IMPFrameInfo | None = None,
    ) -> None:
        self.y = y
        self.uv = uv
        self.height, self.width = (int(n) for n in y.shape)
        self.timestamp = timestamp
        self.seq = seq
        self.vir_addr = vir_addr
        self.phys = phys
        self.index = index
        self._release = release
        self._info = info

    @classmethod
    def of_frame(cls, frame: Frame, release: Callable[[], None] | None = None) -> FrameView:
        """A view of a FrameSource buffer (NV12: Y then CbCr at the ISP's offset)."""
        return cls(
            frame.y,
            frame.uv,
            timestamp=frame.timestamp,
            seq=frame.seq,
            vir_addr=frame.addr,
            phys=frame.phys,
            index=frame.index,
            release=release,
        )

    @classmethod
    def of_info(cls, info: IMPFrameInfo) -> FrameView:
        """A view of the NV12 picture an ``IMPFrameInfo`` describes (``virAddr`` is real memory).

        The chroma plane is assumed right after luma, as a C algorithm reading the struct
        would; algorithms here use luma only.
        """
        w, h, addr = int(info.width), int(info.height), int(info.virAddr)
        if not addr:
            raise InvalidArgument("frame->virAddr is NULL")
        if not (0 < w <= 8192 and 0 < h <= 8192):
            raise InvalidArgument(f"frame size {w}x{h} is not a picture")
        buf = (ctypes.c_uint8 * (w * h)).from_address(addr)
        y = np.frombuffer(buf, dtype=np.uint8).reshape(h, w)

        def release() -> None:
            release_data(addr, quiet=True)

        return cls(
            y,
            None,
            timestamp=int(info.timeStamp),
            seq=int(info.index),
            vir_addr=addr,
            phys=int(info.phyAddr),
            index=int(info.index),
            release=release,
            info=info,
        )

    @property
    def info(self) -> IMPFrameInfo:
        """The ``IMPFrameInfo`` C callbacks receive (built on first use, then kept)."""
        if self._info is None:
            info = IMPFrameInfo()
            info.index = self.index
            info.width, info.height = self.width, self.height
            info.pixfmt = PIX_FMT_NV12
            # libimp reports the picture size, not the (16-line aligned) buffer size.
            info.size = self.width * self.height * 3 // 2
            info.phyAddr = self.phys
            info.virAddr = self.vir_addr
            info.timeStamp = self.timestamp
            self._info = info
        return self._info

    def release(self) -> None:
        """``IMP_IVS_ReleaseData(virAddr)``: done with the pixels."""
        release, self._release = self._release, None
        if release is not None:
            release()

    def __repr__(self) -> str:
        return f"<FrameView {self.width}x{self.height} seq={self.seq} ts={self.timestamp}>"


class _Locks:
    """vir_addr -> [(owner, frame reference)] for every frame an algorithm still holds."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: dict[int, list[tuple[object, Frame]]] = {}
        self._local = threading.local()

    def lock(self, frame: Frame, owner: object) -> None:
        """Record ``owner``'s reference to ``frame`` (the caller already acquired it)."""
        with self._lock:
            self._held.setdefault(frame.addr, []).append((owner, frame))

    def release(self, vir_addr: int, owner: object | None = None) -> bool:
        """Drop one lock on the frame at ``vir_addr``; False when none is held there."""
        preferred = owner if owner is not None else getattr(self._local, "owner", None)
        with self._lock:
            entries = self._held.get(vir_addr)
            if not entries:
                return False
            pos = next((i for i, (o, _) in enumerate(entries) if o is preferred), 0)
            _, frame = entries.pop(pos)
            if not entries:
                del self._held[vir_addr]
        frame.release()  # outside the lock: the last release re-queues the buffer
        return True

    def release_owner(self, owner: object) -> int:
        """Drop every lock ``owner`` still holds (channel stop); returns how many."""
        dropped: list[Frame] = []
        with self._lock:
            for addr in list(self._held):
                keep = [(o, f) for o, f in self._held[addr] if o is not owner]
                dropped += [f for o, f in self._held[addr] if o is owner]
                if keep:
                    self._held[addr] = keep
                else:
                    del self._held[addr]
        for frame in dropped:
            frame.release()
        return len(dropped)

    def held_by(self, owner: object) -> int:
        with self._lock:
            return sum(o is owner for entries in self._held.values() for o, _ in entries)

    def set_thread_owner(self, owner: object | None) -> None:
        """The owner a bare ReleaseData from this thread most likely means (a worker's channel)."""
        self._local.owner = owner


LOCKS = _Locks()


def release_data(vir_addr: int, quiet: bool = False) -> bool:
    """``IMP_IVS_ReleaseData``: unlock the frame at ``vir_addr``.

    Raises :class:`InvalidArgument` when IVS holds no frame there, unless ``quiet`` (the
    built-in algorithms also run on frames IVS never locked).
    """
    if LOCKS.release(vir_addr):
        return True
    if quiet:
        return False
    raise InvalidArgument(f"no frame locked by IVS at {vir_addr:#x} (released twice?)")


__all__ = ["LOCKS", "FrameView", "release_data"]
