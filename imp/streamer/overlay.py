"""Per-stream OSD (camera side, with camera.py the only imp users): clock, uptime, user text,
a logo picture and privacy covers, drawn by one imp OSD group between FrameSource and encoder.

Positions follow prudynt's layout but keep clear of the top rows, where the simulator stamps
its frame mark (and where a real camera's IVS region starts, see ``camera._motion_params``).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np

from imp.capi import PIX_FMT_BGRA
from imp.osd import (
    ClockOverlay,
    GroupRegionAttr,
    RegionAttr,
    TextOverlay,
    get_osd,
    rect_xywh,
)

_log = logging.getLogger("imp.streamer.osd")

COVER_COLOUR = 0xFF000000  # opaque black, 0xAARRGGBB


class StreamOverlay:
    """OSD group ``chn`` for a ``size`` stream configured by the ``[osd]`` section."""

    def __init__(
        self, chn: int, size: tuple[int, int], cfg: dict[str, Any], started_at: float
    ) -> None:
        w, h = size
        osd = get_osd()
        self.group = osd.create_group(chn)
        self.num = chn
        self.started_at = started_at
        self.box_h = max(16, h // 20)
        margin = max(4, h // 60)
        font = max(10, self.box_h - 6)
        self.text_pos = (margin, h - 2 * (self.box_h + margin))
        self._text: TextOverlay | None = None
        self._clock: ClockOverlay | None = None
        self._uptime: TextOverlay | None = None
        self._last_uptime = -1
        self._regions: list[Any] = []
        # Covers first (layer 0): text drawn over a cover stays readable.
        for x, y, rw, rh in cfg["covers"]:
            x1, y1 = min(w, x + rw), min(h, y + rh)
            if x < x1 and y < y1:
                region = osd.create_region(
                    RegionAttr.cover(rect_xywh(x, y, x1 - x, y1 - y), COVER_COLOUR)
                )
                self.group.register(region, GroupRegionAttr(show=True, layer=0))
                self._regions.append(region)
        if cfg["logo"]:
            self._add_logo(cfg["logo"], (w, h), margin)
        if cfg["clock"]:
            self._clock = ClockOverlay(
                self.group,
                position=(margin, h - self.box_h - margin),
                size=(min(w - 2 * margin, self.box_h * 11) & ~1, self.box_h),
                time_format=cfg["time_format"],
                attr=GroupRegionAttr(show=True, layer=2),
            )
            self._clock.follow_frames()
        self._text = TextOverlay(
            self.group, self.text_pos, cfg["text"], attr=GroupRegionAttr(show=True, layer=3),
            font_size=font,
        )
        if cfg["uptime"]:
            self._uptime = TextOverlay(
                self.group, (w // 2, h - self.box_h - margin), "up 0s",
                attr=GroupRegionAttr(show=True, layer=2), font_size=font,
            )
            self.group.add_frame_hook(self._on_frame)
        self.group.start()

    @property
    def cell(self) -> tuple[int, int, int]:
        return tuple(self.group.cell)  # type: ignore[return-value]

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
        pos = (size[0] - lw - margin, size[1] - lh - margin)
        region = get_osd().create_region(RegionAttr.picture(pos, bgra, PIX_FMT_BGRA))
        self.group.register(region, GroupRegionAttr(show=True, layer=1))
        self._regions.append(region)

    def _on_frame(self, timestamp_us: int) -> None:
        seconds = int(time.monotonic() - self.started_at)
        if seconds != self._last_uptime and self._uptime is not None:
            self._last_uptime = seconds
            d, rest = divmod(seconds, 86400)
            hh, rest = divmod(rest, 3600)
            mm, ss = divmod(rest, 60)
            self._uptime.set_text(f"up {d}d {hh:02}:{mm:02}:{ss:02}" if d else
                                  f"up {hh:02}:{mm:02}:{ss:02}")

    def set_text(self, text: str) -> None:
        if self._text is not None:
            self._text.set_text(text)

    def close(self) -> None:
        """Regions, then the group (the caller has unbound it)."""
        osd = get_osd()
        if self._uptime is not None:
            self.group.remove_frame_hook(self._on_frame)
        for item in (self._clock, self._text, self._uptime):
            if item is not None:
                item.close()
        for region in self._regions:
            try:
                osd.destroy_region(region)
            except Exception as exc:
                _log.warning("osd: %s", exc)
        try:
            if self.num in osd.groups:
                osd.destroy_group(self.num)
        except Exception as exc:
            _log.warning("osd group %d: %s", self.num, exc)
