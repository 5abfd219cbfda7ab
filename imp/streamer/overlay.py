"""Per-stream OSD on an imp pipeline Overlay node: clock, uptime, user text, logo, covers.

Sizes follow the stream's height; everything sits at the bottom, clear of the top rows where
the simulator stamps its frame mark (and where the default motion region starts).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np

from imp.osd import ClockOverlay, GroupRegionAttr

_log = logging.getLogger("imp.streamer.osd")

COVER_COLOUR = 0xFF000000  # opaque black, 0xAARRGGBB


class StreamOverlay:
    """The ``[osd]`` items of one ``size`` stream, drawn by ``node`` (``Camera.overlay``)."""

    def __init__(
        self, node: Any, size: tuple[int, int], cfg: dict[str, Any], started_at: float
    ) -> None:
        w, h = size
        self.node = node
        self.started_at = started_at
        self.box_h = max(16, h // 20)
        margin = max(4, h // 60)
        font = max(10, self.box_h - 6)
        self.text_pos = (margin, h - 2 * (self.box_h + margin))
        self._clock: ClockOverlay | None = None
        self._uptime: Any = None
        self._last_uptime = -1
        for x, y, rw, rh in cfg["covers"]:  # layer 0: text drawn over a cover stays readable
            bw, bh = min(w, x + rw) - x, min(h, y + rh) - y
            if bw > 0 and bh > 0:
                node.cover((x, y, bw, bh), COVER_COLOUR, layer=0)
        if cfg["logo"]:
            self._add_logo(cfg["logo"], (w, h), margin)
        if cfg["clock"]:
            # A box sized to the stream (Overlay.clock's is a fixed 320x34).
            self._clock = ClockOverlay(
                node.group,
                position=(margin, h - self.box_h - margin),
                size=(min(w - 2 * margin, self.box_h * 11) & ~1, self.box_h),
                time_format=cfg["time_format"],
                attr=GroupRegionAttr(show=True, layer=2),
            )
            self._clock.follow_frames()
        self._text = node.text(cfg["text"], self.text_pos, font_size=font)
        if cfg["uptime"]:
            self._uptime = node.text(
                "up 00:00:00", (w // 2, h - self.box_h - margin), font_size=font
            )
            node.group.add_frame_hook(self._on_frame)

    def _add_logo(self, path: str, size: tuple[int, int], margin: int) -> None:
        from PIL import Image

        try:
            with Image.open(path) as img:
                rgba = np.asarray(img.convert("RGBA"))
        except OSError as exc:
            _log.error("osd.logo %s: %s (no logo shown)", path, exc)
            return
        bgra = np.ascontiguousarray(rgba[:, :, [2, 1, 0, 3]])
        lh, lw = bgra.shape[:2]
        if lw > size[0] or lh > size[1]:
            _log.error("osd.logo %s: %dx%d is larger than the stream", path, lw, lh)
            return
        self.node.image(bgra, (size[0] - lw - margin, size[1] - lh - margin), layer=1)

    def _on_frame(self, timestamp_us: int) -> None:
        seconds = int(time.monotonic() - self.started_at)
        if seconds != self._last_uptime and self._uptime is not None:
            self._last_uptime = seconds
            d, rest = divmod(seconds, 86400)
            hh, rest = divmod(rest, 3600)
            mm, ss = divmod(rest, 60)
            self._uptime.set_text(
                f"up {d}d {hh:02}:{mm:02}:{ss:02}" if d else f"up {hh:02}:{mm:02}:{ss:02}"
            )

    def set_text(self, text: str) -> None:
        self._text.set_text(text)

    def close(self) -> None:
        """What the node does not own (the clock's region and thread, the frame hook)."""
        if self._uptime is not None:
            self.node.group.remove_frame_hook(self._on_frame)
        if self._clock is not None:
            self._clock.close()
