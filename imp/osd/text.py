"""Text in PIC regions, rendered with a real TrueType rasteriser (Pillow's FreeType binding).

Fonts: libimp ships none and neither does Pillow's wheel, so :func:`find_font` looks for a
TrueType file in ``$IMP_OSD_FONT`` and then in the usual system places (DejaVu, Liberation,
FreeFont, Noto; macOS and Windows fonts). If none is there it falls back to Pillow's built-in
scalable font (``ImageFont.load_default(size)``, Pillow >= 10.1 with FreeType), so text always
renders; install ``fonts-dejavu-core`` for the monospaced look.

- :class:`TextRenderer`: text -> a fixed-size BGRA (or RGBA, ...) picture, reusing one buffer.
- :class:`TextOverlay`: a PIC region in a group showing a string; ``set_text`` re-renders and
  updates the region's data when the size is unchanged (same handle, rect and pool block, as
  prudynt does with ``UpdateRgnAttrData``) and sets a new rect only when the size changes.
- :class:`ClockOverlay`: a ``strftime`` clock, updated once a second by a thread, by explicit
  ``tick()`` calls, or per frame from each frame's own capture time (:meth:`follow_frames`).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from imp import log
from imp.errors import InvalidArgument, NotSupported
from imp.osd.attrs import GroupRegionAttr, RegionAttr
from imp.osd.colour import PICTURE_FORMAT_NAMES, PICTURE_FORMATS, PIX_FMT_BGRA, split_argb
from imp.osd.module import get_osd
from imp.system import get_system

if TYPE_CHECKING:
    from imp.osd.group import OsdGroup
    from imp.osd.region import Region

_log = log.get("osd")

FONT_ENV = "IMP_OSD_FONT"
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
    "/usr/share/fonts/TTF/DejaVuSansMono.ttf",
    "/usr/share/fonts/dejavu/DejaVuSansMono.ttf",
    "/usr/share/fonts/dejavu-sans-mono-fonts/DejaVuSansMono.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationMono-Regular.ttf",
    "/usr/share/fonts/liberation-mono/LiberationMono-Regular.ttf",
    "/usr/share/fonts/truetype/freefont/FreeMono.ttf",
    "/usr/share/fonts/truetype/noto/NotoSansMono-Regular.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/System/Library/Fonts/Menlo.ttc",
    "/Library/Fonts/Courier New.ttf",
    "C:/Windows/Fonts/consola.ttf",
)
DEFAULT_CLOCK_FORMAT = "%Y-%m-%d %H:%M:%S"
DEFAULT_FONT_SIZE = 24  # px, for text overlays sized to their text


def find_font() -> str | None:
    """Path of a TrueType font to use, or None (then Pillow's built-in font is used)."""
    wanted = os.environ.get(FONT_ENV, "").strip()
    if wanted:
        if Path(wanted).is_file():
            return wanted
        _log.warning("%s=%s: no such file; looking for a system font", FONT_ENV, wanted)
    return next((p for p in FONT_CANDIDATES if Path(p).is_file()), None)


def load_font(size: int, path: str | None = None) -> Any:
    """A FreeType font of ``size`` pixels: ``path``, else :func:`find_font`, else Pillow's."""
    try:
        from PIL import ImageFont
    except ImportError as exc:  # pragma: no cover - pillow is a dependency
        raise NotSupported("text overlays need Pillow (pip install pillow)") from exc
    chosen = path or find_font()
    if chosen is not None:
        return ImageFont.truetype(chosen, size)
    try:
        return ImageFont.load_default(size)
    except TypeError as exc:  # Pillow < 10.1: only a fixed bitmap font
        raise NotSupported(
            "no TrueType font found and this Pillow has no scalable built-in font; install "
            f"fonts-dejavu-core or set {FONT_ENV}"
        ) from exc


def _rgba(colour: int) -> tuple[int, int, int, int]:
    a, r, g, b = split_argb(colour)
    return r, g, b, a


class TextRenderer:
    """Renders strings into a ``size`` (w, h) picture of format ``fmt`` (default BGRA).

    ``colour``/``background``/``outline`` are ``0xAARRGGBB``; the background fills the whole box
    (transparent by default), the outline is a ``stroke`` pixels wide halo around the glyphs.
    ``font_size`` None picks the largest size whose line fits the box height.
    """

    def __init__(
        self,
        size: tuple[int, int],
        font_size: int | None = None,
        font_path: str | None = None,
        colour: int = 0xFFFFFFFF,
        background: int = 0x00000000,
        outline: int = 0xFF000000,
        stroke: int = 1,
        padding: int = 2,
        fmt: int = PIX_FMT_BGRA,
    ) -> None:
        w, h = size
        if w <= 0 or h <= 0:
            raise InvalidArgument(f"text box {w}x{h} must have a positive size")
        if fmt not in PICTURE_FORMATS:
            raise InvalidArgument(
                f"text pixel format {fmt}: use one of {sorted(PICTURE_FORMAT_NAMES.values())}"
            )
        from PIL import Image, ImageDraw

        self.size = (w, h)
        self.fmt = fmt
        self.colour, self.background, self.outline = colour, background, outline
        self.stroke = max(0, stroke)
        self.padding = padding
        self.font_path = font_path or find_font()
        self.font_size = font_size or self._fit_height(h)
        self.font = load_font(self.font_size, self.font_path)
        self._image = Image.new("RGBA", (w, h))
        self._draw = ImageDraw.Draw(self._image)
        self._pixels = np.zeros((h, w, 4), dtype=np.uint8)

    def _fit_height(self, height: int) -> int:
        room = height - 2 * self.padding
        for size in range(max(room, 6), 5, -1):
            ascent, descent = load_font(size, self.font_path).getmetrics()
            if ascent + descent + 2 * self.stroke <= room + 2:
                return size
        return 6

    def measure(self, text: str) -> tuple[int, int]:
        """(width, height) the text needs, with padding and outline; width rounded up to even
        (an NV12 chroma sample spans two pixels)."""
        left, _, right, _ = self.font.getbbox(text, stroke_width=self.stroke)
        ascent, descent = self.font.getmetrics()
        w = max(1, right - min(left, 0)) + 2 * self.padding
        h = ascent + descent + 2 * self.stroke + 2 * self.padding
        return w + (w % 2), h

    def render(self, text: str) -> np.ndarray:
        """The picture of ``text`` (clipped to the box), an (h, w, 4) array in ``fmt``.

        The same array is reused by the next call: copy it (or hand it to the OSD, which
        copies) before rendering again."""
        w, h = self.size
        self._draw.rectangle((0, 0, w - 1, h - 1), fill=_rgba(self.background))
        ascent, descent = self.font.getmetrics()
        top = (h - (ascent + descent)) // 2
        self._draw.text(
            (self.padding + self.stroke, top),
            text,
            font=self.font,
            fill=_rgba(self.colour),
            stroke_width=self.stroke,
            stroke_fill=_rgba(self.outline),
        )
        rgba = np.asarray(self._image)
        ri, gi, bi, ai = PICTURE_FORMATS[self.fmt]
        px = self._pixels
        px[..., ri], px[..., gi], px[..., bi] = rgba[..., 0], rgba[..., 1], rgba[..., 2]
        if ai is not None:
            px[..., ai] = rgba[..., 3]
        else:  # an opaque format: pad byte
            px[..., 6 - ri - gi - bi] = 0
        return px


class TextOverlay:
    """A PIC region of ``group`` showing ``text`` at ``position`` (top-left corner).

    ``size`` None sizes the region to the text (``font_size`` default 24 px; the rect is set
    anew when the text's size changes); a fixed ``size`` clips and fits the font to its
    height. ``attr`` are the region's group attributes (default: shown, layer 0); ``style``
    goes to :class:`TextRenderer`.
    """

    def __init__(
        self,
        group: OsdGroup,
        position: tuple[int, int],
        text: str = "",
        size: tuple[int, int] | None = None,
        attr: GroupRegionAttr | None = None,
        rmem: bool = False,
        **style: Any,
    ) -> None:
        self.group = group
        self.position = position
        self.rmem = rmem
        if size is None:  # sized to the text: the font size must not follow the box
            style.setdefault("font_size", DEFAULT_FONT_SIZE)
        self._style = style
        self._fixed = size
        box = size or TextRenderer((8, 8), **style).measure(text or " ")
        self.renderer = TextRenderer(box, **style)
        self.text = text
        self.updates = 0
        osd = get_osd()
        pixels = self.renderer.render(text)
        self.region: Region = osd.create_region(
            RegionAttr.picture(position, pixels, self.renderer.fmt, rmem=rmem)
        )
        try:
            group.register(self.region, attr or GroupRegionAttr(show=True))
        except BaseException:
            osd.destroy_region(self.region)
            raise

    @property
    def size(self) -> tuple[int, int]:
        return self.renderer.size

    def set_text(self, text: str) -> None:
        """Show ``text``: same size -> UpdateRgnAttrData; new size -> SetRgnAttr."""
        osd = get_osd()
        if self._fixed is None:
            box = self.renderer.measure(text or " ")
            if box != self.renderer.size:
                self.renderer = TextRenderer(box, **self._style)
                pixels = self.renderer.render(text)
                attr = RegionAttr.picture(self.position, pixels, self.renderer.fmt, self.rmem)
                osd.set_region_attr(self.region, attr)
                self.text = text
                self.updates += 1
                return
        osd.update_region_data(self.region, self.renderer.render(text))
        self.text = text
        self.updates += 1

    def close(self) -> None:
        """Unregister and destroy the region (ignores a group or region already gone)."""
        osd = get_osd()
        try:
            if self.region.handle in osd.regions:
                osd.destroy_region(self.region)
        except Exception as exc:
            _log.warning("text overlay: %s", exc)

    def __enter__(self) -> TextOverlay:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ClockOverlay(TextOverlay):
    """A ``strftime`` clock in a fixed box (default 320x34, like the vendor sample).

    Drive it one of three ways: :meth:`tick` (call it as often as you like; it re-renders only
    when the shown second changes), :meth:`start` (a thread that ticks just after each
    wall-clock second), or :meth:`follow_frames` (the group calls it with each frame's capture
    time, so every frame shows the second it was captured in — also under a virtual clock).
    """

    def __init__(
        self,
        group: OsdGroup,
        position: tuple[int, int] = (10, 10),
        size: tuple[int, int] = (320, 34),
        time_format: str = DEFAULT_CLOCK_FORMAT,
        attr: GroupRegionAttr | None = None,
        clock: Callable[[], float] = time.time,
        **style: Any,
    ) -> None:
        self.time_format = time_format
        self.clock = clock
        super().__init__(group, position, self.format_time(clock()), size=size, attr=attr, **style)
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._epoch_offset: float | None = None

    def format_time(self, seconds: float) -> str:
        return time.strftime(self.time_format, time.localtime(seconds))

    def tick(self, now: float | None = None) -> bool:
        """Show the time ``now`` (default: ``clock()``); True if the text changed."""
        text = self.format_time(self.clock() if now is None else now)
        if text == self.text:
            return False
        self.set_text(text)
        return True

    # -- once a second, on a thread -------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="imp-osd-clock", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception as exc:
                _log.error("clock overlay: %s", exc)
            now = self.clock()
            self._stop.wait(1.0 - (now % 1.0) + 0.002)  # just after the next second begins

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None

    # -- per frame ------------------------------------------------------------------------------
    def follow_frames(self) -> None:
        """Show each frame's own capture time: IMP timestamps (µs since System_Init) are mapped
        to wall-clock seconds once, now."""
        self._epoch_offset = self.clock() - get_system().timestamp() / 1e6
        self.group.add_frame_hook(self.on_frame)

    def on_frame(self, timestamp_us: int) -> None:
        offset = self._epoch_offset
        if offset is not None:
            self.tick(offset + timestamp_us / 1e6)

    def close(self) -> None:
        self.stop()
        self.group.remove_frame_hook(self.on_frame)
        super().close()


__all__ = [
    "DEFAULT_CLOCK_FORMAT",
    "DEFAULT_FONT_SIZE",
    "FONT_CANDIDATES",
    "FONT_ENV",
    "ClockOverlay",
    "TextOverlay",
    "TextRenderer",
    "find_font",
    "load_font",
]
