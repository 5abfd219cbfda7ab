"""The synthetic sensor: a pre-rendered scene with scripted moving objects.

Everything expensive (crop, scale, sharpness, colour controls, noise) is done once per
(geometry, controls) and cached. A frame is then a copy of the cached picture, a few solid
boxes and the frame mark: about a millisecond at 1080p.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from kernel_stubs.isp3a.render import PhysicsRenderer

from .background import render_background
from .base import ChannelGeometry, IspControls, SensorBase, check_planes
from .framing import BuildCache, background_planes, output_box
from .mark import stamp_frame_mark
from .scene import Scene, Yuv
from .tuning import (
    C_MAX,
    C_MIN,
    Y_MAX,
    Y_MIN,
    adjust_chroma,
    adjust_color,
    adjust_luma,
    sharpen,
    to_u8,
)

if TYPE_CHECKING:
    from kernel_stubs.isp3a.model import Isp3a

__all__ = ["SyntheticSensor"]

_NOISE_PHASES = 4  # pre-rendered noise planes, cycled by frame number
_NIGHT_NOISE = 2.5  # an IR-lit picture runs at high gain: noisier


@dataclass(frozen=True)
class _Prepared:
    """One channel's picture under one set of controls, ready to copy."""

    y_planes: tuple[np.ndarray, ...]  # one per noise phase
    uv: np.ndarray  # interleaved CbCr
    colors: tuple[Yuv, ...]  # the scene's object colours after the controls
    source: tuple[int, int, int, int]  # the sensor rect shown


class SyntheticSensor(SensorBase):
    """A ``width`` x ``height`` sensor looking at ``scene`` (default: ``Scene.default``)."""

    def __init__(
        self,
        width: int = 1920,
        height: int = 1080,
        scene: Scene | None = None,
        *,
        cache_size: int = 8,
    ) -> None:
        if width <= 0 or height <= 0 or width % 2 or height % 2:
            raise ValueError(f"sensor size {width}x{height} must be positive and even")
        self.name = "synthetic"
        self.width = width
        self.height = height
        self._scene = scene if scene is not None else Scene.default(width, height)
        self._cache: BuildCache[_Prepared] = BuildCache(cache_size)
        self._physics: PhysicsRenderer | None = None

    def attach_isp(self, isp: Isp3a) -> None:
        """Render through the physics model and 3A of ``isp`` (the scene must have lighting)."""
        self._physics = PhysicsRenderer(self.width, self.height, self._scene, isp)

    @property
    def physics(self) -> PhysicsRenderer | None:
        return self._physics

    @property
    def scene(self) -> Scene:
        """Fixed for the sensor's life: cached pictures depend on it."""
        return self._scene

    def render_nv12(
        self,
        frame_no: int,
        geometry: ChannelGeometry,
        controls: IspControls,
        y: np.ndarray,
        uv: np.ndarray,
    ) -> None:
        if self._physics is not None:
            self._physics.render_nv12(frame_no, geometry, controls, y, uv)
            return
        check_planes(geometry, y, uv)
        prepared = self._prepared(geometry, controls)
        flicker = self.scene.flicker
        offset = flicker.offset(frame_no) if flicker is not None else 0
        _copy_with_offset(y, prepared.y_planes[frame_no % len(prepared.y_planes)], offset)
        np.copyto(uv, prepared.uv)
        for obj, color in zip(self.scene.objects, prepared.colors, strict=True):
            rect = obj.rect_at(frame_no)
            if rect is not None:
                box = output_box(rect, prepared.source, geometry, controls)
                if box is not None:
                    _fill_box(y, uv, box, color, offset)
        stamp_frame_mark(y, frame_no, uv)

    def warm_up(self) -> None:
        # The still picture at sensor size (~0.1 s at 1080p) is the same for every channel:
        # rendered when the sensor starts, a channel's STREAMON only resamples it.
        scene = self.scene
        render_background(self.width, self.height, scene.background, scene.seed)

    def prepare(self, geometry: ChannelGeometry, controls: IspControls) -> None:
        # The background resampled to the channel costs ~0.2 s at 1080p: built at STREAMON, the
        # first frame is on time (built by the engine, it made frames 0-6 late and the burst
        # after them left a consumer without buffers).
        if self._physics is not None:
            self._physics.prepare(geometry, controls)
        else:
            self._prepared(geometry, controls)

    def _prepared(self, geometry: ChannelGeometry, controls: IspControls) -> _Prepared:
        return self._cache.get((geometry, controls), lambda: self._prepare(geometry, controls))

    def _prepare(self, geometry: ChannelGeometry, controls: IspControls) -> _Prepared:
        source, luma, u, v = background_planes(self.width, self.height, self.scene, geometry)
        out_w, out_h = geometry.out_width, geometry.out_height

        luma = adjust_luma(sharpen(luma, controls.sharpness), controls)
        u, v = adjust_chroma(u, v, controls)

        sigma = max(self.scene.noise_sigma, _NIGHT_NOISE if controls.night else 0.0)
        if sigma > 0:
            rng = np.random.default_rng([self.scene.seed, out_w, out_h, round(sigma * 1000)])
            noise = rng.standard_normal((_NOISE_PHASES, out_h, out_w), dtype=np.float32)
            y_planes = tuple(to_u8(luma + sigma * n, Y_MIN, Y_MAX) for n in noise)
        else:
            y_planes = (to_u8(luma, Y_MIN, Y_MAX),)

        uv = np.empty((out_h // 2, out_w), dtype=np.uint8)
        uv[:, 0::2] = to_u8(u, C_MIN, C_MAX)
        uv[:, 1::2] = to_u8(v, C_MIN, C_MAX)
        y_planes = tuple(_flipped(p, controls) for p in y_planes)
        # Flip CbCr pairs, not bytes: view each pair as one 16-bit sample.
        uv = _flipped(uv.view(np.uint16), controls).view(np.uint8)
        for plane in (*y_planes, uv):
            plane.flags.writeable = False

        colors = tuple(adjust_color(obj.color, controls) for obj in self.scene.objects)
        return _Prepared(y_planes, uv, colors, source)


def _flipped(plane: np.ndarray, controls: IspControls) -> np.ndarray:
    if controls.hflip:
        plane = plane[:, ::-1]
    if controls.vflip:
        plane = plane[::-1]
    return np.ascontiguousarray(plane)


def _copy_with_offset(dst: np.ndarray, src: np.ndarray, offset: int) -> None:
    """dst = clip(src + offset) within video range, with two fast uint8 passes, no lookup."""
    if offset > 0:
        np.minimum(src, Y_MAX - offset, out=dst)
        dst += np.uint8(offset)
    elif offset < 0:
        np.maximum(src, Y_MIN - offset, out=dst)
        dst -= np.uint8(-offset)
    else:
        np.copyto(dst, src)


def _fill_box(
    y: np.ndarray, uv: np.ndarray, box: tuple[int, int, int, int], color: Yuv, offset: int
) -> None:
    x0, y0, x1, y1 = box
    y[y0:y1, x0:x1] = min(max(color[0] + offset, Y_MIN), Y_MAX)
    chroma = uv[y0 // 2 : y1 // 2, x0:x1]
    chroma[:, 0::2] = color[1]
    chroma[:, 1::2] = color[2]
