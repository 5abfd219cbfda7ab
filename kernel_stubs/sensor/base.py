"""What the fake ISP asks of a sensor model: tuning state, channel geometry, the render call."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

__all__ = [
    "ChannelGeometry",
    "IspControls",
    "SensorBase",
    "SensorModel",
    "check_planes",
]


@dataclass(frozen=True)
class IspControls:
    """The ISP tuning state, with values as the T31 tuning API takes them (128 = neutral)."""

    brightness: int = 128
    contrast: int = 128
    saturation: int = 128
    sharpness: int = 128
    hue: int = 128
    hflip: bool = False
    vflip: bool = False
    night: bool = False  # grey picture (U=V=128), as an IR-lit sensor gives


@dataclass(frozen=True)
class ChannelGeometry:
    """What SET_FMT configured for one frame channel.

    ``crop`` is (left, top, width, height) in sensor pixels and is applied first. With ``scale``
    the cropped region is resized to the output size; without it the output size must equal
    the crop size (or the sensor size when there is no crop).
    """

    out_width: int
    out_height: int
    crop: tuple[int, int, int, int] | None = None
    scale: bool = False

    def source_rect(self, sensor_width: int, sensor_height: int) -> tuple[int, int, int, int]:
        """The sensor region this channel shows; ValueError if the geometry cannot be met."""
        if self.out_width <= 0 or self.out_height <= 0:
            raise ValueError(f"output size {self.out_width}x{self.out_height} is not positive")
        if self.out_width % 2 or self.out_height % 2:
            raise ValueError(f"output size {self.out_width}x{self.out_height} must be even (NV12)")
        if self.crop is None:
            rect = (0, 0, sensor_width, sensor_height)
        else:
            left, top, width, height = self.crop
            if left < 0 or top < 0 or width <= 0 or height <= 0:
                raise ValueError(f"crop {self.crop} is not a rectangle inside the sensor")
            if left + width > sensor_width or top + height > sensor_height:
                raise ValueError(
                    f"crop {self.crop} exceeds the {sensor_width}x{sensor_height} sensor"
                )
            rect = (left, top, width, height)
        if not self.scale and (rect[2], rect[3]) != (self.out_width, self.out_height):
            raise ValueError(
                f"scaler off: output {self.out_width}x{self.out_height} must equal the "
                f"source size {rect[2]}x{rect[3]}"
            )
        return rect


@runtime_checkable
class SensorModel(Protocol):
    """A picture source the fake ISP renders frame channels from."""

    name: str
    width: int
    height: int

    def render_nv12(
        self,
        frame_no: int,
        geometry: ChannelGeometry,
        controls: IspControls,
        y: np.ndarray,
        uv: np.ndarray,
    ) -> None:
        """Write the whole NV12 picture of sensor frame ``frame_no`` into ``y`` and ``uv``.

        ``y`` is uint8 (out_h, out_w); ``uv`` is uint8 (out_h // 2, out_w), CbCr interleaved.
        """
        ...

    def render(
        self, frame_no: int, geometry: ChannelGeometry, controls: IspControls
    ) -> tuple[np.ndarray, np.ndarray]:
        """Like render_nv12 into freshly allocated planes; returns (y, uv)."""
        ...

    def prepare(self, geometry: ChannelGeometry, controls: IspControls) -> None:
        """Build what rendering a channel of this geometry needs, before its first frame is due
        (called at the channel's STREAMON, in the caller's thread)."""
        ...

    def warm_up(self) -> None:
        """Build what every channel shares (the still picture at sensor size), when the sensor
        starts streaming (called at the ISP's STREAMON, in the caller's thread)."""
        ...


def check_planes(geometry: ChannelGeometry, y: np.ndarray, uv: np.ndarray) -> None:
    """Reject destination planes that do not match the channel, before anything is written."""
    want_y = (geometry.out_height, geometry.out_width)
    want_uv = (geometry.out_height // 2, geometry.out_width)
    if y.dtype != np.uint8 or y.shape != want_y:
        raise ValueError(f"y plane must be uint8 {want_y}, got {y.dtype} {y.shape}")
    if uv.dtype != np.uint8 or uv.shape != want_uv:
        raise ValueError(f"uv plane must be uint8 {want_uv}, got {uv.dtype} {uv.shape}")


class SensorBase:
    """Shared plumbing of the concrete models: ``render`` on top of ``render_nv12``."""

    name: str
    width: int
    height: int

    def render_nv12(
        self,
        frame_no: int,
        geometry: ChannelGeometry,
        controls: IspControls,
        y: np.ndarray,
        uv: np.ndarray,
    ) -> None:
        raise NotImplementedError

    def warm_up(self) -> None:
        """Nothing shared to build by default."""

    def prepare(self, geometry: ChannelGeometry, controls: IspControls) -> None:
        """Nothing to build ahead by default (a file or a video device has no set-up per
        channel that rendering a frame would not consume input for)."""

    def render(
        self, frame_no: int, geometry: ChannelGeometry, controls: IspControls
    ) -> tuple[np.ndarray, np.ndarray]:
        # One buffer, laid out as the DMA buffer is, so the result can be handed on as NV12.
        w, h = geometry.out_width, geometry.out_height
        buf = np.empty(w * h * 3 // 2, dtype=np.uint8)
        y = buf[: w * h].reshape(h, w)
        uv = buf[w * h :].reshape(h // 2, w)
        self.render_nv12(frame_no, geometry, controls, y, uv)
        return y, uv
