"""FrameSource channel attributes and constants (``IMPFSChnAttr``, ``IMPFSChnFifoAttr``)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

from imp.core.vbm import PIX_FMT_NV12
from imp.errors import InvalidArgument, NotSupported

MAX_CHANNELS = 6  # framechan0..2 are physical; 3.. are extension channels
PHYSICAL_CHANNELS = 3
NUM_OUTPUTS = 2  # prudynt binds output 1 of a channel while output 0 feeds OSD -> ENC
FS_PHY_CHANNEL, FS_EXT_CHANNEL = 0, 1
PIX_FMT_RGBA, PIX_FMT_BGRA, PIX_FMT_HSV = 15, 17, 35
CONVERTED_FORMATS = (PIX_FMT_RGBA, PIX_FMT_BGRA, PIX_FMT_HSV)  # extension channels only
MAX_VBS = 64
DEFAULT_GETFRAME_TIMEOUT = 2.0  # libimp's GetFrame gives up after 2 s


class _Default(enum.Enum):
    TIMEOUT = "DEFAULT_GETFRAME_TIMEOUT"


# Read at call time (not bound as a default argument) so a test can shorten libimp's 2 s.
_DEFAULT_TIMEOUT = _Default.TIMEOUT

Rect = tuple[int, int, int, int]  # (left, top, width, height)


@dataclass(frozen=True)
class ChannelAttr:
    """Pythonic ``IMPFSChnAttr``. ``crop``/``fcrop`` are (left, top, width, height)."""

    width: int
    height: int
    pixfmt: int = PIX_FMT_NV12
    crop: Rect | None = None
    scaler: tuple[int, int] | None = None
    fps: tuple[int, int] = (25, 1)
    nr_vbs: int = 2
    type: int = FS_PHY_CHANNEL
    fcrop: Rect | None = None

    def validate(self, chn: int, emulated: bool = False) -> None:
        """InvalidArgument/NotSupported naming the field; ``emulated``: an EmuFrameSource
        channel (any number may be "physical": no ISP output stands behind it)."""
        where = f"channel {chn}"
        if not (16 <= self.width <= 4096 and 16 <= self.height <= 4096):
            raise InvalidArgument(
                f"{where}: picture size {self.width}x{self.height} must be 16..4096"
            )
        if self.width % 2 or self.height % 2:
            raise InvalidArgument(
                f"{where}: NV12 needs an even size, got {self.width}x{self.height}"
            )
        if self.pixfmt != PIX_FMT_NV12 and (
            self.pixfmt not in CONVERTED_FORMATS or self.type != FS_EXT_CHANNEL
        ):
            raise NotSupported(
                f"{where}: pixel format {self.pixfmt} — the T31 ISP outputs NV12 (10) only; "
                "RGBA (15), BGRA (17) and HSV (35) are converted by an extension channel "
                "(type FS_EXT_CHANNEL)"
            )
        if self.type not in (FS_PHY_CHANNEL, FS_EXT_CHANNEL):
            raise InvalidArgument(
                f"{where}: type {self.type} must be FS_PHY_CHANNEL or FS_EXT_CHANNEL"
            )
        if self.type == FS_PHY_CHANNEL and chn >= PHYSICAL_CHANNELS and not emulated:
            raise InvalidArgument(
                f"{where}: only channels 0..{PHYSICAL_CHANNELS - 1} are physical; "
                "use FS_EXT_CHANNEL"
            )
        num, den = self.fps
        if num <= 0 or den <= 0:
            raise InvalidArgument(f"{where}: frame rate {num}/{den} must be positive")
        if not 1 <= self.nr_vbs <= MAX_VBS:
            raise InvalidArgument(f"{where}: nrVBs {self.nr_vbs} must be 1..{MAX_VBS}")
        for name, rect in (("crop", self.crop), ("fcrop", self.fcrop)):
            if rect is not None:
                left, top, w, h = rect
                if left < 0 or top < 0 or w <= 0 or h <= 0:
                    raise InvalidArgument(
                        f"{where}: {name} {rect} needs left/top >= 0 and a positive size"
                    )
        if self.scaler is not None:
            sw, sh = self.scaler
            if (sw, sh) != (self.width, self.height):
                raise InvalidArgument(
                    f"{where}: scaler output {sw}x{sh} must equal the picture size "
                    f"{self.width}x{self.height}"
                )
        elif self.crop is not None and (self.crop[2], self.crop[3]) != (self.width, self.height):
            raise InvalidArgument(
                f"{where}: crop {self.crop[2]}x{self.crop[3]} differs from the picture size "
                f"{self.width}x{self.height}; enable the scaler"
            )

    def check_against_sensor(self, chn: int, sensor: tuple[int, int]) -> None:
        sw, sh = sensor
        for name, rect in (("crop", self.crop), ("fcrop", self.fcrop)):
            if rect is not None and (rect[0] + rect[2] > sw or rect[1] + rect[3] > sh):
                raise InvalidArgument(f"channel {chn}: {name} {rect} exceeds the {sw}x{sh} sensor")
        if self.scaler is None and self.crop is None and (self.width, self.height) != (sw, sh):
            raise InvalidArgument(
                f"channel {chn}: {self.width}x{self.height} differs from the {sw}x{sh} sensor; "
                "enable the scaler (or crop)"
            )


@dataclass
class ChannelStats:
    captured: int = 0  # frames DQBUF'd from the driver
    delivered: int = 0  # frames published (after frame-rate decimation)
    skipped: int = 0  # frames dropped by frame-rate decimation
    fifo_dropped: int = 0  # frames evicted from the GetFrame FIFO unread
    corrupt: int = 0  # buffers the ISP returned with V4L2_BUF_FLAG_ERROR, re-queued unseen
    errors: int = 0
    last_timestamp: int = 0


@dataclass
class FifoAttr:
    maxdepth: int = 0
    type: int = 0  # FIFO_CACHE_PRIORITY


def attr_replace(attr: ChannelAttr, **changes: object) -> ChannelAttr:
    return replace(attr, **changes)  # type: ignore[arg-type]
