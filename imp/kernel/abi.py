"""The T31 kernel ABI: literal ioctl numbers and 32-bit little-endian struct layouts.

Facts from ``shared/reference/kernel_abi.md``. The numbers are written out literally (never derived
with the host's ``_IOC``: MIPS encodes direction differently from x86); :func:`ioc` re-derives them
per architecture only so a test can cross-check the table. Layouts are ctypes
``LittleEndianStructure`` classes built from fixed-width fields only, so they have the MIPS o32
size on every host.
"""

from __future__ import annotations

import ctypes
from ctypes import c_int32, c_uint8, c_uint16, c_uint32, c_uint64
from typing import Literal

Arch = Literal["mips", "generic"]

# --- _IOC ----------------------------------------------------------------------------------------
# MIPS: dir is 3 bits at 29 (NONE=1, READ=2, WRITE=4), size 13 bits at 16.
# asm-generic (x86, arm): dir is 2 bits at 30 (NONE=0, WRITE=1, READ=2), size 14 bits at 16.
IOC_NONE, IOC_READ, IOC_WRITE = "none", "r", "w"
_DIR_BITS = {
    "mips": {"": 1, "r": 2, "w": 4, "rw": 6},
    "generic": {"": 0, "w": 1, "r": 2, "rw": 3},
}


def ioc(direction: str, type_: str | int, nr: int, size: int, arch: Arch = "mips") -> int:
    """Encode an ioctl number like the kernel's ``_IOC`` for ``arch``.

    ``direction`` is ``""`` (``_IO``), ``"r"`` (``_IOR``), ``"w"`` (``_IOW``) or ``"rw"``.
    """
    t = ord(type_) if isinstance(type_, str) else type_
    d = _DIR_BITS[arch][direction]
    if arch == "mips":
        if size >= 1 << 13:
            raise ValueError(f"ioctl size {size} does not fit MIPS' 13 bits")
        return (d << 29) | (size << 16) | (t << 8) | nr
    if size >= 1 << 14:
        raise ValueError(f"ioctl size {size} does not fit 14 bits")
    return (d << 30) | (size << 16) | (t << 8) | nr


def decode_mips(cmd: int) -> tuple[str, str, int, int]:
    """Split a MIPS ioctl number into (direction, type char, nr, size), for messages and checks."""
    d = (cmd >> 29) & 0x7
    direction = {1: "", 2: "r", 4: "w", 6: "rw"}.get(d, f"?{d}")
    return direction, chr((cmd >> 8) & 0xFF), cmd & 0xFF, (cmd >> 16) & 0x1FFF


# --- /dev/framechanN (kernel_abi.md §2.1) --------------------------------------------------------
VIDIOC_SET_FRAME_FORMAT = 0xC07056C3  # 540 build, 0x70-byte frame_image_format
VIDIOC_GET_FRAME_FORMAT = 0x407056C4
VIDIOC_SET_FRAME_FORMAT_472 = 0xC06056C3  # 472 build, 0x60-byte layout
VIDIOC_GET_FRAME_FORMAT_472 = 0x406056C4
VIDIOC_REQBUFS = 0xC0145608
VIDIOC_QUERYBUF = 0xC0445609
VIDIOC_QBUF = 0xC044560F
VIDIOC_DQBUF = 0xC0445611
VIDIOC_STREAMON = 0x80045612
VIDIOC_STREAMOFF = 0x80045613
VIDIOC_DEFAULT_CMD_SET_BANKS = 0x800456C5
VIDIOC_DEFAULT_CMD_LISTEN_BUF = 0x400456BF

# --- /dev/tx-isp (§3.2) --------------------------------------------------------------------------
VIDIOC_REGISTER_SENSOR = 0x805056C1
VIDIOC_RELEASE_SENSOR = 0x805056C2
VIDIOC_ENUMINPUT = 0xC050561A
VIDIOC_G_INPUT = 0x40045626
VIDIOC_S_INPUT = 0xC0045627
# VIDIOC_STREAMON/OFF are shared with framechan (same numbers, arg ignored on tx-isp).
VIDIOC_CREATE_SUBDEV_LINKS = 0x800456D0
VIDIOC_DESTROY_SUBDEV_LINKS = 0x800456D1
VIDIOC_LINKS_STREAMON = 0x800456D2
VIDIOC_LINKS_STREAMOFF = 0x800456D3
VIDIOC_SET_BUF_INFO = 0x800856D4
VIDIOC_GET_BUF_INFO = 0x800856D5  # encoded _IOW, but copies {0, size} back
VIDIOC_SET_WDR_BUF_INFO = 0x800856D6
VIDIOC_GET_WDR_BUF_INFO = 0x800856D7
VIDIOC_ISP_WDR_ENABLE = 0x800456D8
VIDIOC_ISP_WDR_DISABLE = 0x800456D9
VIDIOC_SET_DEFAULT_BIN_PATH = 0xC00456C7  # copies 0x40 bytes despite size 4
VIDIOC_GET_DEFAULT_BIN_PATH = 0xC00456C8
TISP_VIDIOC_SET_FRAME_DROP = 0xC00456E6
TISP_VIDIOC_GET_FRAME_DROP = 0xC00456E7
VIDIOC_SET_GPIO_INIT = 0xC00456E8
VIDIOC_SET_GPIO_STA = 0xC00456E9
VIDIOC_DBG_S_REGISTER = 0x8038564F
VIDIOC_DBG_G_REGISTER = 0xC0385650

# --- /dev/isp-m0 (§3.4) --------------------------------------------------------------------------
VIDIOC_G_CTRL = 0xC008561B
VIDIOC_S_CTRL = 0xC008561C
VIDIOC_DEFAULT_CMD_ISP_TUNING = 0xC00C56C6

# --- /dev/rmem (§4) ------------------------------------------------------------------------------
RMEM_CMD_FLUSH_CACHE = 0xC00C7200
DMA_BIDIRECTIONAL, DMA_TO_DEVICE, DMA_FROM_DEVICE = 0, 1, 2

# --- constants ----------------------------------------------------------------------------------
V4L2_BUF_TYPE_VIDEO_CAPTURE = 1
V4L2_MEMORY_USERPTR = 2
V4L2_FIELD_ANY = 0
V4L2_FIELD_INTERLACED = 4
V4L2_COLORSPACE_SRGB = 8
V4L2_BUF_FLAG_QUEUED = 0x2
V4L2_BUF_FLAG_DONE = 0x4
V4L2_BUF_FLAG_ERROR = 0x40
V4L2_PIX_FMT_NV12 = 0x3231564E  # 'NV12'
V4L2_PIX_FMT_RG12 = 0x32314752  # 'RG12', ISP bypass (raw)
MAX_FRAME_BUFFERS = 64
TX_SENSOR_CONTROL_INTERFACE_I2C = 1
TX_SENSOR_CONTROL_INTERFACE_SPI = 2
BIN_PATH_LEN = 0x40

# Open flags as the MIPS kernel defines them (§0). The seam passes them through untouched.
MIPS_O_RDWR = 0x2
MIPS_O_NONBLOCK = 0x80
MIPS_O_CLOEXEC = 0x80000
MIPS_O_SYNC = 0x4010
TX_ISP_OPEN_FLAGS = MIPS_O_RDWR | MIPS_O_CLOEXEC  # 0x80002, as libimp opens /dev/tx-isp
FRAMECHAN_OPEN_FLAGS = MIPS_O_RDWR | MIPS_O_NONBLOCK

# --- tuning control ids (§3.4) ------------------------------------------------------------------
CID_BRIGHTNESS = 0x980900
CID_CONTRAST = 0x980901
CID_SATURATION = 0x980902
CID_SHARPNESS = 0x98091B
CID_HFLIP = 0x980914
CID_VFLIP = 0x980915
CID_POWER_LINE_FREQUENCY = 0x980918
CID_HUE = 0x8000101
CID_RUNNING_MODE = 0x80000E1
CID_SENSOR_FPS = 0x80000E0
CID_EXPR = 0x8000025
CID_AE_COMP = 0x8000023
CID_TOTAL_GAIN = 0x8000027
CID_MAX_AGAIN = 0x8000028
CID_MAX_DGAIN = 0x8000029
CID_AE_ATTR = 0x8000035  # 152 B (0x8000020 is refused by the 1.1.6 kernel)
CID_AE_STATE = 0x8000036
CID_AE_ROI = 0x8000024  # 225 B weights
CID_BACKLIGHT = 0x8000037
CID_WB_ATTR = 0x8000004
CID_WB_STATS = 0x8000005
CID_AWB_CT = 0x800000D
CID_GAMMA = 0x800002B
CID_DEFOG_STRENGTH = 0x8000039
CID_DEFOG_ENABLE = 0x80000A4
CID_DPC_STRENGTH = 0x8000062
CID_TEMPER_STRENGTH = 0x8000085  # 3DNS
CID_SINTER_STRENGTH = 0x8000086  # 2DNS
CID_DRC_STRENGTH = 0x80000A2
CID_BLC_ATTR = 0x80000A5
CID_CSC_ATTR = 0x80000A6
CID_CCM_ATTR = 0x8000100
CID_WDR_OUTPUT_MODE = 0x80000EA
CID_MASK = 0x80000E5
CID_SCALER_LEVEL = 0x80000E9
CID_ISP_PROCESS = 0x8000164  # ISP bypass
TUNING_DIR_SET, TUNING_DIR_GET = 0, 1


# --- layouts ------------------------------------------------------------------------------------
class _LE(ctypes.LittleEndianStructure):
    """Base: fixed-width little-endian fields, natural alignment (4 bytes max here)."""

    def pack(self) -> bytearray:
        return bytearray(bytes(self))

    @classmethod
    def unpack(cls, data: bytes | bytearray | memoryview) -> _LE:
        if len(data) < ctypes.sizeof(cls):
            raise ValueError(f"{cls.__name__} needs {ctypes.sizeof(cls)} bytes, got {len(data)}")
        return cls.from_buffer_copy(bytes(data[: ctypes.sizeof(cls)]))


class V4L2PixFormat(_LE):
    """``v4l2_pix_format`` of the 540 build: 12 words (flags..xfer_func only with GCC 5.4)."""

    _fields_ = [
        ("width", c_uint32),
        ("height", c_uint32),
        ("pixelformat", c_uint32),
        ("field", c_uint32),
        ("bytesperline", c_uint32),
        ("sizeimage", c_uint32),
        ("colorspace", c_uint32),
        ("priv", c_uint32),
        ("flags", c_uint32),
        ("ycbcr_enc", c_uint32),
        ("quantization", c_uint32),
        ("xfer_func", c_uint32),
    ]


class V4L2PixFormat472(_LE):
    """``v4l2_pix_format`` of the 472 build: 8 words."""

    _fields_ = V4L2PixFormat._fields_[:8]


def _frame_format_fields(pix: type) -> list[tuple[str, type]]:
    # bools are one byte followed by 3 bytes of padding (gotcha 2): c_uint8 + natural alignment
    # of the next u32 reproduces that without ever writing into the padding.
    return [
        ("type", c_uint32),
        ("pix", pix),
        ("crop_enable", c_uint8),
        ("crop_top", c_uint32),
        ("crop_left", c_uint32),
        ("crop_width", c_uint32),
        ("crop_height", c_uint32),
        ("scaler_enable", c_uint8),
        ("scaler_out_width", c_uint32),
        ("scaler_out_height", c_uint32),
        ("rate_bits", c_uint32),
        ("rate_mask", c_uint32),
        ("fcrop_enable", c_uint8),
        ("fcrop_top", c_uint32),
        ("fcrop_left", c_uint32),
        ("fcrop_width", c_uint32),
        ("fcrop_height", c_uint32),
    ]


class FrameImageFormat(_LE):
    """``frame_image_format`` (0x70), argument of SET_FMT / GET_FMT on the 540 build."""

    _fields_ = _frame_format_fields(V4L2PixFormat)


class FrameImageFormat472(_LE):
    """``frame_image_format`` (0x60) of the 472 build."""

    _fields_ = _frame_format_fields(V4L2PixFormat472)


class V4L2RequestBuffers(_LE):
    _fields_ = [
        ("count", c_uint32),
        ("type", c_uint32),
        ("memory", c_uint32),
        ("reserved", c_uint32 * 2),
    ]


class V4L2Timecode(_LE):
    _fields_ = [
        ("type", c_uint32),
        ("flags", c_uint32),
        ("frames", c_uint8),
        ("seconds", c_uint8),
        ("minutes", c_uint8),
        ("hours", c_uint8),
        ("userbits", c_uint8 * 4),
    ]


class V4L2Buffer(_LE):
    """``v4l2_buffer`` with 32-bit ``timeval`` and ``m.userptr`` = physical address (0x44)."""

    _fields_ = [
        ("index", c_uint32),
        ("type", c_uint32),
        ("bytesused", c_uint32),
        ("flags", c_uint32),
        ("field", c_uint32),
        ("tv_sec", c_uint32),
        ("tv_usec", c_uint32),
        ("timecode", V4L2Timecode),
        ("sequence", c_uint32),
        ("memory", c_uint32),
        ("userptr", c_uint32),
        ("length", c_uint32),
        ("reserved2", c_uint32),
        ("reserved", c_uint32),
    ]


class SensorRegisterInfo(_LE):
    """``tx_isp_sensor_register_info`` (0x50); byte-identical to ``IMPSensorInfo``."""

    _fields_ = [
        ("name", ctypes.c_char * 32),
        ("cbus_type", c_uint32),
        # union @0x24: i2c{type[20], addr, i2c_adapter_id} / spi{modalias[32], bus_num}
        ("bus", c_uint8 * 36),
        ("rst_gpio", c_uint16),
        ("pwdn_gpio", c_uint16),
        ("power_gpio", c_uint16),
        ("_pad", c_uint16),
    ]

    @property
    def i2c_type(self) -> bytes:
        return bytes(self.bus[:20]).split(b"\0", 1)[0]

    @property
    def i2c_addr(self) -> int:
        return int.from_bytes(bytes(self.bus[20:24]), "little", signed=True)


class V4L2Input(_LE):
    """``v4l2_input`` (0x50): ENUMINPUT uses index (in) and name (out)."""

    _fields_ = [
        ("index", c_uint32),
        ("name", ctypes.c_char * 32),
        ("type", c_uint32),
        ("audioset", c_uint32),
        ("tuner", c_uint32),
        ("std", c_uint64),  # u64: 8-aligned on o32, lands at 0x30
        ("status", c_uint32),
        ("capabilities", c_uint32),
        ("reserved", c_uint32 * 3),
    ]


class BufInfo(_LE):
    """``{paddr, size}`` of SET/GET_BUF_INFO (ISP work buffer)."""

    _fields_ = [("paddr", c_uint32), ("size", c_uint32)]


class V4L2Control(_LE):
    _fields_ = [("id", c_uint32), ("value", c_int32)]


class IspTuningCtrl(_LE):
    """``isp_image_tuning_default_ctrl {dir, id, value}`` (12 bytes); dir 0 = set, 1 = get."""

    _fields_ = [("dir", c_uint32), ("id", c_uint32), ("value", c_int32)]


class RmemFlush(_LE):
    """Argument of RMEM_CMD_FLUSH_CACHE: user virtual address in the rmem mapping, length, dir."""

    _fields_ = [("addr", c_uint32), ("len", c_uint32), ("dir", c_uint32)]


class FrameDropAttr(_LE):
    """``IMPISPFrameDropAttr`` as SET/GET_FRAME_DROP copy it (0x24 bytes)."""

    _fields_ = [("raw", c_uint8 * 0x24)]


def int_arg(value: int = 0) -> bytearray:
    """A 4-byte ``int`` argument buffer (for STREAMON, SET_BANKS, S_INPUT, ...)."""
    return bytearray(int(value & 0xFFFFFFFF).to_bytes(4, "little"))


def int_of(buf: bytes | bytearray | memoryview, signed: bool = True) -> int:
    return int.from_bytes(bytes(buf[:4]), "little", signed=signed)


def nv12_sizeimage(width: int, height: int) -> int:
    """sizeimage as the T31 core fills it for NV12: bytesperline (1.5 W) x align16(H)."""
    return (width * 3 // 2) * ((height + 15) & ~15)


def nv12_uv_offset(width: int, height: int) -> int:
    """Offset of the interleaved CbCr plane: W x align16(H) (kernel_abi.md §2.6)."""
    return width * ((height + 15) & ~15)


def isp_buf_size(width: int, height: int, memopt: int = 0) -> int:
    """Required ISP work-buffer size (VIDIOC_GET_BUF_INFO), kernel_abi.md Appendix A."""

    def c8(x: int) -> int:
        return (x + 7) & ~7

    def ceil_div(a: int, b: int) -> int:
        return -(-a // b)

    f = c8(width) * height + (c8(width) * height) // 2
    s = ((ceil_div(width, 32) + 7) >> 3) * 8 * (ceil_div(height, 16) + 1)
    if memopt:
        return f + s
    c = c8(width >> 1) * height
    m = (c8(width >> 5) * height) >> 5
    return f + c + c // 2 + m + 4 * s
