"""Framing a scene for one channel: its background resampled to the channel, where an object
(a rect in sensor pixels) lands in the output, and the small cache of prepared pictures."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

import numpy as np

from .background import render_background
from .base import ChannelGeometry, IspControls
from .resample import resample_plane
from .scene import Rect, Scene

__all__ = ["BuildCache", "background_planes", "output_box"]

T = TypeVar("T")


class BuildCache(Generic[T]):
    """The last ``size`` prepared pictures by key, each built once even when several threads
    render channels at the same time (the fake ISP may). A build runs outside the cache's lock:
    a channel being prepared at its STREAMON (a second or more on a loaded host) must not hold
    up the engine rendering the channels already streaming from their cached pictures."""

    def __init__(self, size: int) -> None:
        self._items: OrderedDict[Hashable, T] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()
        self._building: dict[Hashable, threading.Lock] = {}

    def get(self, key: Hashable, build: Callable[[], T]) -> T:
        while True:
            with self._lock:
                item = self._items.get(key)
                if item is not None:
                    self._items.move_to_end(key)
                    return item
                pending = self._building.get(key)
                if pending is None:
                    pending = self._building[key] = threading.Lock()
                    pending.acquire()
                    break
            with pending:  # another thread builds this key: wait for it, then look again
                pass
        try:
            item = build()
            with self._lock:
                self._items[key] = item
                if len(self._items) > self._size:
                    self._items.popitem(last=False)
            return item
        finally:
            with self._lock:
                del self._building[key]
            pending.release()

    def values(self) -> list[T]:
        with self._lock:
            return list(self._items.values())


def background_planes(
    width: int, height: int, scene: Scene, geometry: ChannelGeometry
) -> tuple[tuple[int, int, int, int], np.ndarray, np.ndarray, np.ndarray]:
    """(source rect, luma, Cb, Cr) of the scene's background for a ``width`` x ``height``
    sensor, resampled to the channel (float planes; chroma at half size)."""
    source = geometry.source_rect(width, height)
    left, top, src_w, src_h = source
    out_w, out_h = geometry.out_width, geometry.out_height
    bg_y, bg_u, bg_v = render_background(width, height, scene.background, scene.seed)
    luma = resample_plane(bg_y, source, out_w, out_h)
    chroma_box = (left / 2, top / 2, src_w / 2, src_h / 2)
    u = resample_plane(bg_u, chroma_box, out_w // 2, out_h // 2)
    v = resample_plane(bg_v, chroma_box, out_w // 2, out_h // 2)
    return source, luma, u, v


def output_box(
    rect: Rect,
    source: tuple[int, int, int, int],
    geometry: ChannelGeometry,
    controls: IspControls,
) -> tuple[int, int, int, int] | None:
    """A sensor rect as (x0, y0, x1, y1) in output pixels, even-aligned for 4:2:0 chroma."""
    left, top, width, height = source
    out_w, out_h = geometry.out_width, geometry.out_height
    sx, sy = out_w / width, out_h / height
    rx, ry, rw, rh = rect
    x0, x1 = (rx - left) * sx, (rx + rw - left) * sx
    y0, y1 = (ry - top) * sy, (ry + rh - top) * sy
    if controls.hflip:
        x0, x1 = out_w - x1, out_w - x0
    if controls.vflip:
        y0, y1 = out_h - y1, out_h - y0
    ix0, ix1 = (min(max(2 * round(x / 2), 0), out_w) for x in (x0, x1))
    iy0, iy1 = (min(max(2 * round(y / 2), 0), out_h) for y in (y0, y1))
    if ix1 <= ix0 or iy1 <= iy0:
        return None
    return ix0, iy0, ix1, iy1
