"""The ISP core's side of SET_FMT: the pixel-format table and the channel's picture geometry."""

from __future__ import annotations

from imp.kernel import abi
from kernel_stubs.sensor import ChannelGeometry

__all__ = ["fill_sizes", "fourcc", "geometry_of", "is_nv12"]


def fourcc(code: str) -> int:
    return int.from_bytes(code.encode("ascii"), "little")


# Bits per pixel of the formats the core's table knows. Only NV12 is ever produced (§2.6);
# the others get their sizes filled in and then never complete a buffer (gotcha 11).
_DEPTH = {
    abi.V4L2_PIX_FMT_NV12: 12,
    fourcc("NV21"): 12,
    fourcc("YUYV"): 16,
    fourcc("UYVY"): 16,
    fourcc("RGBP"): 16,  # RGB565
    fourcc("RGB3"): 24,
    fourcc("BGR3"): 24,
    abi.V4L2_PIX_FMT_RG12: 16,
}
_ALIGNED_HEIGHT = {abi.V4L2_PIX_FMT_NV12, fourcc("NV21")}
# ``priv`` is a kernel pointer to the format-table entry: garbage to user space, but stable.
_TABLE_KSEG0 = 0x80F1_2000


def is_nv12(fmt: abi.FrameImageFormat) -> bool:
    return int(fmt.pix.pixelformat) == abi.V4L2_PIX_FMT_NV12


def fill_sizes(fmt: abi.FrameImageFormat) -> None:
    """Fill bytesperline, sizeimage and priv as the core does for the format in ``fmt``."""
    pix = fmt.pix
    depth = _DEPTH.get(int(pix.pixelformat), 0)
    pix.bytesperline = pix.width * depth // 8
    height = (pix.height + 15) & ~15 if pix.pixelformat in _ALIGNED_HEIGHT else pix.height
    pix.sizeimage = pix.bytesperline * height
    known = list(_DEPTH)
    slot = known.index(int(pix.pixelformat)) if pix.pixelformat in _DEPTH else len(known)
    pix.priv = _TABLE_KSEG0 + 0x20 * slot


def geometry_of(fmt: abi.FrameImageFormat, sensor_w: int, sensor_h: int) -> ChannelGeometry:
    """The sensor region and scaling that produce this channel's picture.

    The T31 pipeline per channel is: front crop (fcrop, in sensor pixels), scaler (to
    scaler_out), crop (in scaled pixels), output (pix width x height). The sensor models take
    one rectangle in sensor pixels plus a scale flag, so the stages are folded into one
    rectangle; a resize is requested whenever that rectangle differs from the output size.
    """
    x, y, w, h = 0.0, 0.0, float(sensor_w), float(sensor_h)
    if fmt.fcrop_enable & 1:
        x, y = float(fmt.fcrop_left), float(fmt.fcrop_top)
        w, h = float(fmt.fcrop_width), float(fmt.fcrop_height)
    if fmt.scaler_enable & 1 and fmt.scaler_out_width and fmt.scaler_out_height:
        fx, fy = w / fmt.scaler_out_width, h / fmt.scaler_out_height
    else:
        fx = fy = 1.0
    if fmt.crop_enable & 1:
        x += fmt.crop_left * fx
        y += fmt.crop_top * fy
        w, h = fmt.crop_width * fx, fmt.crop_height * fy
    rect = (round(x), round(y), round(w), round(h))
    out_w, out_h = int(fmt.pix.width), int(fmt.pix.height)
    crop = None if rect == (0, 0, sensor_w, sensor_h) else rect
    return ChannelGeometry(out_w, out_h, crop, scale=(rect[2], rect[3]) != (out_w, out_h))
