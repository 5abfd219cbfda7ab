"""Port of sample-OSD: 1080p HEVC (channel 0) with four OSD regions drawn by OSD group 0.

Output, in ``--out`` (default: the current directory): ``stream-0.h265`` (200 frames).

The regions of usage.md §2.5, created with ``CreateRgn(NULL)`` / ``RegisterRgn(h, 0, NULL)``:

- handle 0, a clock: PIC 320x34 at (10, 10), BGRA, group alpha 0xff, layer 3. The C sample
  blits 16x34 glyphs; this port renders ``strftime("%Y-%m-%d %I:%M:%S")`` with a TrueType font
  (white on black) into the same 320x34 BGRA buffer every second and calls
  ``UpdateRgnAttrData`` with that buffer, as the C sample does;
- handle 1, a 100x100 logo: PIC at (1820, 980), group alpha 0x7f, layer 2 (drawn
  procedurally: no binary assets);
- handle 2, a cover (860, 440)-(1869, 1029), OSD_BLACK, group alpha 0x7f, layer 2;
- handle 3, a rect (300, 300)-(899, 599), OSD_GREEN, linewidth 5, layer 1.

``--clock frame`` makes the clock show each frame's own capture time (a frame hook of the OSD
group) instead of the wall clock at the moment the update thread woke up; under the simulator's
virtual clock, where frames run faster than real time, that is what a viewer should see.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import sys
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from imp.capi import (
    DEV_ID_FS,
    DEV_ID_OSD,
    OSD_BLACK,
    OSD_GREEN,
    OSD_REG_COVER,
    OSD_REG_PIC,
    OSD_REG_RECT,
    PIX_FMT_BGRA,
    PIX_FMT_MONOWHITE,
    IMP_FrameSource_SetFrameDepth,
    IMP_OSD_CreateGroup,
    IMP_OSD_CreateRgn,
    IMP_OSD_DestroyGroup,
    IMP_OSD_DestroyRgn,
    IMP_OSD_GetGrpRgnAttr,
    IMP_OSD_RegisterRgn,
    IMP_OSD_SetGrpRgnAttr,
    IMP_OSD_SetRgnAttr,
    IMP_OSD_ShowRgn,
    IMP_OSD_Start,
    IMP_OSD_UnRegisterRgn,
    IMP_OSD_UpdateRgnAttrData,
    IMP_System_Bind,
    IMP_System_GetTimeStamp,
    IMP_System_UnBind,
    IMPCell,
    IMPOSDGrpRgnAttr,
    IMPOSDRgnAttr,
    IMPOSDRgnAttrData,
)
from imp.osd.text import TextRenderer
from imp.samples import common
from imp.samples import encoder_common as enc
from imp.samples.common import SampleError, check

GROUP = 0
FONT_RECT = (10, 10, 329, 43)  # 20 glyph cells of 16x34 in the C sample
LOGO_RECT = (1820, 980, 1919, 1079)
COVER_RECT = (860, 440, 1869, 1029)
RECT_RECT = (300, 300, 899, 599)
RECT_LINEWIDTH = 5
TIME_FORMAT = "%Y-%m-%d %I:%M:%S"  # the C sample's (12-hour, no AM/PM)
FONT_SIZE = (FONT_RECT[2] - FONT_RECT[0] + 1, FONT_RECT[3] - FONT_RECT[1] + 1)
LOGO_SIZE = LOGO_RECT[2] - LOGO_RECT[0] + 1


def clock_renderer() -> TextRenderer:
    """The clock's text style: white on an opaque black box (320x34, BGRA)."""
    return TextRenderer(FONT_SIZE, colour=0xFFFFFFFF, background=OSD_BLACK, outline=OSD_BLACK)


def make_logo(size: int = LOGO_SIZE) -> np.ndarray:
    """A (size, size, 4) BGRA logo: a colour wheel in a white ring, alpha fading outwards,
    anti-aliased edge, transparent corners. Many colours and alphas: a good blending test."""
    c = (size - 1) / 2
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    r = np.hypot(xx - c, yy - c) / (size / 2)
    angle = np.arctan2(yy - c, xx - c)
    rgb = np.stack(
        [127.5 + 127.5 * np.cos(angle - k * 2 * np.pi / 3) for k in range(3)], axis=-1
    )  # hue wheel
    ring = (r > 0.78) & (r < 0.9)
    rgb[ring] = 255.0
    rgb[r < 0.18] = (20.0, 20.0, 20.0)
    alpha = np.clip(255 * (1.1 - 0.6 * r), 0, 255) * np.clip((0.97 - r) * size / 2, 0, 1)
    logo = np.empty((size, size, 4), dtype=np.uint8)
    logo[..., 0] = np.rint(rgb[..., 2])  # B
    logo[..., 1] = np.rint(rgb[..., 1])  # G
    logo[..., 2] = np.rint(rgb[..., 0])  # R
    logo[..., 3] = np.rint(alpha)
    return logo


def _set_rect(attr: IMPOSDRgnAttr, rect: tuple[int, int, int, int]) -> None:
    attr.rect.p0.x, attr.rect.p0.y, attr.rect.p1.x, attr.rect.p1.y = rect


@dataclass
class OsdRegions:
    """The handles and the buffers they point at (kept alive for the regions' lifetime)."""

    font: int
    logo: int
    cover: int
    rect: int
    logo_pixels: np.ndarray
    clock_buffer: ctypes.Array[ctypes.c_uint8]
    renderer: TextRenderer = field(default_factory=clock_renderer)

    @property
    def handles(self) -> list[int]:
        return [self.font, self.logo, self.cover, self.rect]


def _group_attr(handle: int, grp: int, *, alpha: int | None, layer: int) -> None:
    gattr = IMPOSDGrpRgnAttr()
    check(IMP_OSD_GetGrpRgnAttr(handle, grp, gattr), f"IMP_OSD_GetGrpRgnAttr({handle})")
    gattr.show = 0
    if alpha is not None:
        gattr.gAlphaEn, gattr.fgAlhpa = 1, alpha
    gattr.layer = layer
    gattr.scalex = gattr.scaley = 1.0
    check(IMP_OSD_SetGrpRgnAttr(handle, grp, gattr), f"IMP_OSD_SetGrpRgnAttr({handle})")


def osd_init(grp: int) -> OsdRegions:
    """sample_osd_init: four regions created, registered, set; then ``IMP_OSD_Start``."""
    handles = []
    for _ in range(4):
        h = IMP_OSD_CreateRgn(None)
        if h < 0:
            raise SampleError("IMP_OSD_CreateRgn failed")
        check(IMP_OSD_RegisterRgn(h, grp, None), f"IMP_OSD_RegisterRgn({h})")
        handles.append(h)
    font, logo_h, cover, rect = handles

    attr = IMPOSDRgnAttr()
    attr.type, attr.fmt = OSD_REG_PIC, PIX_FMT_BGRA
    _set_rect(attr, FONT_RECT)
    attr.data.picData.pData = None  # filled by the update thread
    check(IMP_OSD_SetRgnAttr(font, attr), "IMP_OSD_SetRgnAttr(font)")
    _group_attr(font, grp, alpha=0xFF, layer=3)

    logo = make_logo()
    attr = IMPOSDRgnAttr()
    attr.type, attr.fmt = OSD_REG_PIC, PIX_FMT_BGRA
    _set_rect(attr, LOGO_RECT)
    attr.data.picData.pData = logo.ctypes.data
    check(IMP_OSD_SetRgnAttr(logo_h, attr), "IMP_OSD_SetRgnAttr(logo)")
    _group_attr(logo_h, grp, alpha=0x7F, layer=2)

    attr = IMPOSDRgnAttr()
    attr.type, attr.fmt = OSD_REG_COVER, PIX_FMT_BGRA
    _set_rect(attr, COVER_RECT)
    attr.data.coverData.color = OSD_BLACK
    check(IMP_OSD_SetRgnAttr(cover, attr), "IMP_OSD_SetRgnAttr(cover)")
    _group_attr(cover, grp, alpha=0x7F, layer=2)

    attr = IMPOSDRgnAttr()
    attr.type, attr.fmt = OSD_REG_RECT, PIX_FMT_MONOWHITE
    _set_rect(attr, RECT_RECT)
    attr.data.lineRectData.color = OSD_GREEN
    attr.data.lineRectData.linewidth = RECT_LINEWIDTH
    check(IMP_OSD_SetRgnAttr(rect, attr), "IMP_OSD_SetRgnAttr(rect)")
    _group_attr(rect, grp, alpha=None, layer=1)

    check(IMP_OSD_Start(grp), f"IMP_OSD_Start({grp})")
    buffer = (ctypes.c_uint8 * (FONT_SIZE[0] * FONT_SIZE[1] * 4))()
    return OsdRegions(font, logo_h, cover, rect, logo, buffer)


def osd_exit(regions: OsdRegions, grp: int) -> None:
    """sample_osd_exit (no OSD_Stop, as in the C sample)."""
    for h in regions.handles:
        check(IMP_OSD_ShowRgn(h, grp, 0), f"IMP_OSD_ShowRgn({h}, 0)")
    for h in regions.handles:
        check(IMP_OSD_UnRegisterRgn(h, grp), f"IMP_OSD_UnRegisterRgn({h})")
    for h in regions.handles:
        IMP_OSD_DestroyRgn(h)
    check(IMP_OSD_DestroyGroup(grp), f"IMP_OSD_DestroyGroup({grp})")


class ClockUpdater:
    """update_thread: show the regions, then put the time into the clock region every second.

    ``mode`` "wall": a thread renders ``strftime`` just after each wall-clock second and calls
    ``UpdateRgnAttrData`` with the same buffer every time. "frame": the OSD group asks before
    each frame (a frame hook) and the clock shows that frame's capture time.
    """

    def __init__(self, regions: OsdRegions, grp: int, mode: str = "wall") -> None:
        if mode not in ("wall", "frame"):
            raise ValueError(f"clock mode {mode!r}: use 'wall' or 'frame'")
        self.regions, self.grp, self.mode = regions, grp, mode
        self.text = ""
        self.updates = 0
        self._pixels = np.frombuffer(regions.clock_buffer, dtype=np.uint8).reshape(
            FONT_SIZE[1], FONT_SIZE[0], 4
        )
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._epoch = time.time() - IMP_System_GetTimeStamp() / 1e6  # IMP µs -> wall seconds

    def show(self, seconds: float) -> None:
        """Render the time ``seconds`` and hand the buffer to the region if the text changed."""
        text = time.strftime(TIME_FORMAT, time.localtime(seconds))
        if text == self.text:
            return
        np.copyto(self._pixels, self.regions.renderer.render(text))
        data = IMPOSDRgnAttrData()
        data.picData.pData = ctypes.addressof(self.regions.clock_buffer)
        check(IMP_OSD_UpdateRgnAttrData(self.regions.font, data), "IMP_OSD_UpdateRgnAttrData")
        self.text = text
        self.updates += 1

    def start(self) -> None:
        self.show(time.time())
        for h in self.regions.handles:
            check(IMP_OSD_ShowRgn(h, self.grp, 1), f"IMP_OSD_ShowRgn({h}, 1)")
        if self.mode == "frame":
            from imp.osd import get_osd

            get_osd().group(self.grp).add_frame_hook(self._on_frame)
        else:
            self._thread = threading.Thread(target=self._run, name="osd-update", daemon=True)
            self._thread.start()

    def _on_frame(self, timestamp_us: int) -> None:
        self.show(self._epoch + timestamp_us / 1e6)

    def _run(self) -> None:
        while not self._stop.wait(1.0 - time.time() % 1.0 + 0.002):
            try:
                self.show(time.time())
            except SampleError as exc:
                common.log.error("clock update: %s", exc)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None
        if self.mode == "frame":
            from imp.osd import get_osd

            try:
                get_osd().group(self.grp).remove_frame_hook(self._on_frame)
            except Exception as exc:
                common.log.warning("clock hook: %s", exc)


def run(
    out_dir: str = ".",
    frames: int = common.NR_FRAMES_TO_SAVE,
    by_fd: bool = False,
    clock: str = "wall",
) -> list[str]:
    """Run the sample; returns the files written."""
    os.makedirs(out_dir, exist_ok=True)
    chns = common.default_channels()
    for c in chns:
        c.enable = c.index == 0  # sample-OSD: only chn0
    fs_cell = IMPCell(DEV_ID_FS, 0, 0)
    osd_cell = IMPCell(DEV_ID_OSD, GROUP, 0)
    enc_cell = chns[0].enc_cell

    def body() -> list[str]:
        common.framesource_init(chns)
        enc.create_groups(chns)
        enc.encoder_init(chns)
        check(IMP_OSD_CreateGroup(GROUP), f"IMP_OSD_CreateGroup({GROUP})")
        regions = osd_init(GROUP)
        check(IMP_System_Bind(fs_cell, osd_cell), "IMP_System_Bind(FS0, OSD0)")
        check(IMP_System_Bind(osd_cell, enc_cell), "IMP_System_Bind(OSD0, ENC0)")
        updater = ClockUpdater(regions, GROUP, clock)
        updater.start()
        check(IMP_FrameSource_SetFrameDepth(0, 0), "IMP_FrameSource_SetFrameDepth(0, 0)")
        common.framesource_streamon(chns)
        path = enc.stream_path(out_dir, 0, enc.PAYLOAD_TYPE)
        try:
            if by_fd:
                enc.get_video_stream_byfd([0], {0: path}, frames)
            else:
                enc.get_video_stream(0, path, frames)
        finally:
            common.framesource_streamoff(chns)
            updater.stop()
        check(IMP_System_UnBind(osd_cell, enc_cell), "IMP_System_UnBind(OSD0, ENC0)")
        check(IMP_System_UnBind(fs_cell, osd_cell), "IMP_System_UnBind(FS0, OSD0)")
        osd_exit(regions, GROUP)
        enc.encoder_exit(chns)
        common.framesource_exit(chns)
        return [path]

    return common.run_sample(body)


def add_args(p: argparse.ArgumentParser) -> None:
    common.add_frames_arg(p, help=None)
    common.add_by_fd_args(p)
    p.add_argument(
        "--clock",
        choices=("wall", "frame"),
        default="wall",
        help="clock source: wall time each second (default) or each frame's capture time",
    )


def main(argv: list[str] | None = None) -> int:
    return common.sample_main(
        __doc__,
        lambda args: run(args.out, args.frames, common.by_fd(args), args.clock),
        add_args,
        name="sample-OSD",
        argv=argv,
    )


if __name__ == "__main__":
    sys.exit(main())
