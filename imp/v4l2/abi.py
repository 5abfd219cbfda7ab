"""The V4L2 UAPI subset the simulator's V4L2 sensor and the loopback publisher use.

Layouts are the host's (native ctypes: ``long`` and pointers take the host's width, as
``videodev2.h`` compiled for this machine lays them out); ioctl numbers are encoded with the
host architecture's ``_IOC`` rules by :func:`imp.kernel.abi.ioc`, so the same code is right on
x86/arm (asm-generic) and MIPS. Only the fields this package reads or writes are spelled out;
the rest is kept as reserved bytes so every struct has the kernel's size.
"""

from __future__ import annotations

import ctypes
import platform
from ctypes import c_int32, c_long, c_uint8, c_uint32, c_ulong, c_void_p

from imp.kernel.abi import Arch, V4L2PixFormat, ioc

__all__ = [
    "HOST_ARCH",
    "Buffer",
    "Capability",
    "Control",
    "FmtDesc",
    "Format",
    "FrmSizeEnum",
    "PixFormat",
    "QueryCtrl",
    "RequestBuffers",
    "StreamParm",
    "fourcc",
    "fourcc_name",
]


def host_arch(machine: str | None = None) -> Arch:
    """The ``_IOC`` flavour of this machine: ``"mips"`` or ``"generic"`` (x86, arm, riscv)."""
    name = (machine if machine is not None else platform.machine()).lower()
    if name.startswith("mips"):
        return "mips"
    if name.startswith(("ppc", "powerpc", "sparc", "alpha")):
        raise OSError(f"V4L2 ioctl encoding for {name} is not supported (only asm-generic, MIPS)")
    return "generic"


HOST_ARCH: Arch = host_arch()


def fourcc(code: str) -> int:
    """``v4l2_fourcc`` of a four-character code."""
    if len(code) != 4:
        raise ValueError(f"fourcc {code!r} must have four characters")
    a, b, c, d = (ord(ch) for ch in code)
    return a | (b << 8) | (c << 16) | (d << 24)


def fourcc_name(value: int) -> str:
    return "".join(chr((value >> shift) & 0xFF) for shift in (0, 8, 16, 24))


PIX_NV12 = fourcc("NV12")
PIX_YUYV = fourcc("YUYV")
PIX_UYVY = fourcc("UYVY")
PIX_MJPEG = fourcc("MJPG")
PIX_JPEG = fourcc("JPEG")
PIX_YU12 = fourcc("YU12")  # planar I420

BUF_TYPE_VIDEO_CAPTURE = 1
BUF_TYPE_VIDEO_OUTPUT = 2
MEMORY_MMAP = 1
FIELD_NONE = 1
COLORSPACE_SMPTE170M = 1
COLORSPACE_SRGB = 8

CAP_VIDEO_CAPTURE = 0x00000001
CAP_VIDEO_OUTPUT = 0x00000002
CAP_READWRITE = 0x01000000
CAP_STREAMING = 0x04000000
CAP_DEVICE_CAPS = 0x80000000

BUF_FLAG_ERROR = 0x40
BUF_FLAG_TIMESTAMP_MASK = 0xE000
BUF_FLAG_TIMESTAMP_MONOTONIC = 0x2000

FRMSIZE_TYPE_DISCRETE = 1
FRMSIZE_TYPE_CONTINUOUS = 2
FRMSIZE_TYPE_STEPWISE = 3

CTRL_FLAG_DISABLED = 0x0001
CTRL_FLAG_NEXT_CTRL = 0x80000000


class Capability(ctypes.Structure):
    _fields_ = [
        ("driver", ctypes.c_char * 16),
        ("card", ctypes.c_char * 32),
        ("bus_info", ctypes.c_char * 32),
        ("version", c_uint32),
        ("capabilities", c_uint32),
        ("device_caps", c_uint32),
        ("reserved", c_uint32 * 3),
    ]


# All twelve words are fixed-width: the T31 ABI's layout is the host's on the little-endian
# machines this package runs on (x86, arm, MIPS LE), so the one definition serves both.
PixFormat = V4L2PixFormat


class _FormatUnion(ctypes.Union):
    # v4l2_window (one of the members) holds pointers: the union has pointer alignment.
    _fields_ = [("pix", PixFormat), ("raw_data", c_uint8 * 200), ("_align", c_void_p)]


class Format(ctypes.Structure):
    _fields_ = [("type", c_uint32), ("fmt", _FormatUnion)]


class FmtDesc(ctypes.Structure):
    _fields_ = [
        ("index", c_uint32),
        ("type", c_uint32),
        ("flags", c_uint32),
        ("description", ctypes.c_char * 32),
        ("pixelformat", c_uint32),
        ("mbus_code", c_uint32),
        ("reserved", c_uint32 * 3),
    ]


class _FrmSizeDiscrete(ctypes.Structure):
    _fields_ = [("width", c_uint32), ("height", c_uint32)]


class _FrmSizeStepwise(ctypes.Structure):
    _fields_ = [
        ("min_width", c_uint32),
        ("max_width", c_uint32),
        ("step_width", c_uint32),
        ("min_height", c_uint32),
        ("max_height", c_uint32),
        ("step_height", c_uint32),
    ]


class _FrmSizeUnion(ctypes.Union):
    _fields_ = [("discrete", _FrmSizeDiscrete), ("stepwise", _FrmSizeStepwise)]


class FrmSizeEnum(ctypes.Structure):
    _fields_ = [
        ("index", c_uint32),
        ("pixel_format", c_uint32),
        ("type", c_uint32),
        ("size", _FrmSizeUnion),
        ("reserved", c_uint32 * 2),
    ]


class RequestBuffers(ctypes.Structure):
    _fields_ = [
        ("count", c_uint32),
        ("type", c_uint32),
        ("memory", c_uint32),
        ("capabilities", c_uint32),
        ("flags", c_uint8),
        ("reserved", c_uint8 * 3),
    ]


class TimeVal(ctypes.Structure):
    _fields_ = [("tv_sec", c_long), ("tv_usec", c_long)]


class _TimeCode(ctypes.Structure):
    _fields_ = [("type", c_uint32), ("flags", c_uint32), ("raw", c_uint8 * 8)]


class _BufferM(ctypes.Union):
    _fields_ = [("offset", c_uint32), ("userptr", c_ulong), ("planes", c_void_p), ("fd", c_int32)]


class Buffer(ctypes.Structure):
    _fields_ = [
        ("index", c_uint32),
        ("type", c_uint32),
        ("bytesused", c_uint32),
        ("flags", c_uint32),
        ("field", c_uint32),
        ("timestamp", TimeVal),
        ("timecode", _TimeCode),
        ("sequence", c_uint32),
        ("memory", c_uint32),
        ("m", _BufferM),
        ("length", c_uint32),
        ("reserved2", c_uint32),
        ("request_fd", c_int32),
    ]


class _Fract(ctypes.Structure):
    _fields_ = [("numerator", c_uint32), ("denominator", c_uint32)]


class _CaptureParm(ctypes.Structure):
    _fields_ = [
        ("capability", c_uint32),
        ("capturemode", c_uint32),
        ("timeperframe", _Fract),
        ("extendedmode", c_uint32),
        ("readbuffers", c_uint32),
        ("reserved", c_uint32 * 4),
    ]


class _ParmUnion(ctypes.Union):
    _fields_ = [("capture", _CaptureParm), ("raw_data", c_uint8 * 200)]


class StreamParm(ctypes.Structure):
    _fields_ = [("type", c_uint32), ("parm", _ParmUnion)]


class QueryCtrl(ctypes.Structure):
    _fields_ = [
        ("id", c_uint32),
        ("type", c_uint32),
        ("name", ctypes.c_char * 32),
        ("minimum", c_int32),
        ("maximum", c_int32),
        ("step", c_int32),
        ("default_value", c_int32),
        ("flags", c_uint32),
        ("reserved", c_uint32 * 2),
    ]


class Control(ctypes.Structure):
    _fields_ = [("id", c_uint32), ("value", c_int32)]


def _iowr(nr: int, struct: type[ctypes.Structure]) -> int:
    return ioc("rw", "V", nr, ctypes.sizeof(struct), HOST_ARCH)


VIDIOC_QUERYCAP = ioc("r", "V", 0, ctypes.sizeof(Capability), HOST_ARCH)
VIDIOC_ENUM_FMT = _iowr(2, FmtDesc)
VIDIOC_G_FMT = _iowr(4, Format)
VIDIOC_S_FMT = _iowr(5, Format)
VIDIOC_REQBUFS = _iowr(8, RequestBuffers)
VIDIOC_QUERYBUF = _iowr(9, Buffer)
VIDIOC_QBUF = _iowr(15, Buffer)
VIDIOC_DQBUF = _iowr(17, Buffer)
VIDIOC_STREAMON = ioc("w", "V", 18, ctypes.sizeof(c_int32), HOST_ARCH)
VIDIOC_STREAMOFF = ioc("w", "V", 19, ctypes.sizeof(c_int32), HOST_ARCH)
VIDIOC_G_PARM = _iowr(21, StreamParm)
VIDIOC_S_PARM = _iowr(22, StreamParm)
VIDIOC_G_CTRL = _iowr(27, Control)
VIDIOC_S_CTRL = _iowr(28, Control)
VIDIOC_QUERYCTRL = _iowr(36, QueryCtrl)
VIDIOC_TRY_FMT = _iowr(64, Format)
VIDIOC_ENUM_FRAMESIZES = _iowr(74, FrmSizeEnum)
