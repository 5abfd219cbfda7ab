"""The synthetic sensor's picture through the physics model: one table look-up per plane.

Per (channel geometry, flips, sharpness) the scene is prepared once: the scene-code plane
(reference luma, sharpened, flipped), the (Cb, Cr) pair plane, the code histogram and, built
on first use, four phases of the code x noise-bucket index (uint16). Per frame the
:class:`~kernel_stubs.isp3a.model.Isp3a` settings select tables (:mod:`.chain`); the Y plane is
``take(luma table, index)`` (pairs of pixels per look-up when the noise is below a code), the
chroma ``take(chroma table, pairs)``; objects are filled with their code's values; statistics
come from the frame's first channel before the frame mark is stamped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from kernel_stubs.sensor.base import ChannelGeometry, IspControls, check_planes
from kernel_stubs.sensor.framing import BuildCache, background_planes, output_box
from kernel_stubs.sensor.mark import stamp_frame_mark
from kernel_stubs.sensor.scene import Scene
from kernel_stubs.sensor.tuning import sharpen, to_u8

from .chain import BUCKETS, LEVEL_BITS, build_luts
from .mask import draw_masks, mask_blocks
from .stats import STEP, ZONES, frame_statistics

if TYPE_CHECKING:
    from .model import Isp3a

__all__ = ["PhysicsRenderer"]

_PHASES = 4
_WHITE = 235  # codes above are light sources: only objects may carry them


@dataclass
class _Physical:
    code: np.ndarray  # uint8 (h, w): scene codes
    pairs: np.ndarray  # uint16 (h/2, w/2): Cb | Cr << 8
    hist: tuple[int, ...]
    zone_codes: np.ndarray  # float64 (225, 256): pixels of each code in each AE zone
    zone_of: tuple[np.ndarray, np.ndarray]  # zone row of each pixel row, column of each column
    source: tuple[int, int, int, int]
    seed: tuple[int, ...]
    noisy: dict[int, np.ndarray] = field(default_factory=dict)
    # The last planes made from each (plane, phase) with the table that made them: while the
    # frame's tables do not change (AE/AWB settled) a frame is a copy, not a look-up.
    # A plane is kept only once its table came back (while the light ramps, tables change every
    # frame and keeping each plane would only cost a copy).
    made: dict[tuple[str, int], tuple[np.ndarray, np.ndarray | None]] = field(default_factory=dict)

    def through(
        self, key: tuple[str, int], table: np.ndarray, index: np.ndarray, dst: np.ndarray
    ) -> None:
        """dst = table over the uint16/uint32 ``index`` (one entry per pixel pair)."""
        done = self.made.get(key)
        seen = done is not None and done[0] is table
        if seen and done is not None and done[1] is not None:
            np.copyto(dst, done[1])
            return
        if dst.flags.c_contiguous:
            np.take(table, index, out=dst.view(np.uint16))
        else:
            dst[...] = np.take(table, index).view(np.uint8).reshape(dst.shape)
        self.made[key] = (table, dst.copy() if seen else None)

    def noisy_index(self, phase: int) -> np.ndarray:
        """uint32 (h, w/2): per pixel pair (level a, level b) << 16 | code a | code b << 8."""
        plane = self.noisy.get(phase)
        if plane is None:
            rng = np.random.default_rng([*self.seed, phase])
            pairs = self.code.view(np.uint16)  # a | b << 8 (little endian: a is the left pixel)
            levels = rng.integers(0, BUCKETS * BUCKETS, pairs.shape, dtype=np.uint32)
            plane = (levels << 16) | pairs
            self.noisy[phase] = plane
        return plane


class PhysicsRenderer:
    """Renders ``scene`` on a ``width`` x ``height`` sensor through ``isp``."""

    def __init__(
        self, width: int, height: int, scene: Scene, isp: Isp3a, cache_size: int = 6
    ) -> None:
        self.width, self.height, self.scene, self.isp = width, height, scene, isp
        self._cache: BuildCache[_Physical] = BuildCache(cache_size)
        self._objects = [
            (obj, int(obj.color[0]), int(obj.color[1]) | (int(obj.color[2]) << 8))
            for obj in scene.objects
        ]

    def render_nv12(
        self,
        frame_no: int,
        geometry: ChannelGeometry,
        controls: IspControls,
        y: np.ndarray,
        uv: np.ndarray,
    ) -> None:
        check_planes(geometry, y, uv)
        params = self.isp.params(frame_no)
        geometry = self.isp.geometry(geometry, self.width, self.height)
        prep = self._prepared(geometry, controls)
        luts = build_luts(params, prep.hist)
        noisy = luts.noisy_pair
        if noisy is not None:
            phase = frame_no % _PHASES
            prep.through(("y", phase), noisy, prep.noisy_index(phase), y)
        else:
            assert luts.luma_pair is not None
            prep.through(("y", -1), luts.luma_pair, prep.code.view(np.uint16), y)
        prep.through(("uv", 0), luts.chroma_pair, prep.pairs, uv)
        boxes = []
        for obj, code, pair in self._objects:
            rect = obj.rect_at(frame_no)
            box = output_box(rect, prep.source, geometry, controls) if rect else None
            if box is not None:
                boxes.append((box, code))
                _fill(y, uv, box, int(luts.luma_clean[code]), int(luts.chroma_pair[pair]))
        if self.isp.wants_statistics(frame_no):
            if noisy is not None:  # the left pixel of every STEP-th pair: code a, level a
                grid = prep.noisy_index(frame_no % _PHASES)[::STEP, :: STEP // 2]
                level_a = (grid >> (16 + LEVEL_BITS)) & (BUCKETS - 1)
                per_pixel = (grid & 0xFF) * BUCKETS + level_a
                linear = np.take(luts.stat_noisy, per_pixel)
            else:
                linear = np.take(luts.stat_clean, prep.code[::STEP, ::STEP])
            for (x0, y0, x1, y1), code in boxes:
                linear[-(-y0 // STEP) : -(-y1 // STEP), -(-x0 // STEP) : -(-x1 // STEP)] = (
                    luts.stat_clean[code]
                )
            zones = _ae_zones(prep, boxes, luts.stat_mean)
            self.isp.publish(frame_statistics(linear, y, uv, frame_no, zones))
        channel = self.isp.channel_of(y)
        if channel is not None:
            blob = self.isp.store.blob("mask")
            draw_masks(y, uv, mask_blocks(blob, channel, geometry.out_width, geometry.out_height))
        stamp_frame_mark(y, frame_no, uv)

    def prepare(self, geometry: ChannelGeometry, controls: IspControls) -> None:
        """Build a channel's picture ahead of its first frame (see SyntheticSensor.prepare)."""
        self._prepared(self.isp.geometry(geometry, self.width, self.height), controls)

    def _prepared(self, geometry: ChannelGeometry, controls: IspControls) -> _Physical:
        key = (geometry, controls.hflip, controls.vflip, controls.sharpness)
        return self._cache.get(key, lambda: self._prepare(geometry, controls))

    def _prepare(self, geometry: ChannelGeometry, controls: IspControls) -> _Physical:
        source, luma, u_plane, v_plane = background_planes(
            self.width, self.height, self.scene, geometry
        )
        out_w, out_h = geometry.out_width, geometry.out_height
        luma = sharpen(luma, controls.sharpness)
        u, v = to_u8(u_plane, 0, 255), to_u8(v_plane, 0, 255)
        code = to_u8(luma, 0, _WHITE)
        pairs = u.astype(np.uint16) | (v.astype(np.uint16) << 8)
        if controls.hflip:
            code, pairs = code[:, ::-1], pairs[:, ::-1]
        if controls.vflip:
            code, pairs = code[::-1], pairs[::-1]
        code, pairs = np.ascontiguousarray(code), np.ascontiguousarray(pairs)
        hist = tuple(int(n) for n in np.bincount(code[::STEP, ::STEP].ravel(), minlength=256))
        rows = np.arange(out_h) * ZONES // out_h
        cols = np.arange(out_w) * ZONES // out_w
        zone_index = (rows[:, None] * ZONES + cols[None, :]) * 256 + code
        counts = np.bincount(zone_index.ravel(), minlength=ZONES * ZONES * 256)
        zone_codes = counts.reshape(ZONES * ZONES, 256).astype(np.float64)
        seed = (self.scene.seed, out_w, out_h)
        return _Physical(code, pairs, hist, zone_codes, (rows, cols), source, seed)


def _ae_zones(
    prep: _Physical, boxes: list[tuple[tuple[int, int, int, int], int]], linear: np.ndarray
) -> np.ndarray:
    """Mean linear value of every pixel of each zone: the zones' code counts x the frame's
    linear value per code (objects replace the background codes they cover)."""
    counts = prep.zone_codes
    if boxes:
        counts = counts.copy()
        rows, cols = prep.zone_of
        for (x0, y0, x1, y1), code in boxes:
            covered = (rows[y0:y1, None] * ZONES + cols[None, x0:x1]) * 256 + prep.code[
                y0:y1, x0:x1
            ]
            under = np.bincount(covered.ravel(), minlength=counts.size).reshape(counts.shape)
            counts -= under
            counts[:, code] += under.sum(axis=1)
    means: np.ndarray = (counts @ linear) / np.maximum(counts.sum(axis=1), 1)
    return means.reshape(ZONES, ZONES)


def _fill(
    y: np.ndarray, uv: np.ndarray, box: tuple[int, int, int, int], luma: int, pair: int
) -> None:
    x0, y0, x1, y1 = box
    y[y0:y1, x0:x1] = luma
    chroma = uv[y0 // 2 : y1 // 2, x0:x1]
    chroma[:, 0::2] = pair & 0xFF
    chroma[:, 1::2] = pair >> 8
