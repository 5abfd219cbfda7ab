"""Move detection (``imp_ivs_move.h``): motion yes/no for up to 52 regions of interest.

``IMP_IVS_MoveParam``: ``sense[i]`` 0-4 per region (4 = most sensitive), ``skipFrameCnt``
(analyse one frame, skip that many), ``frameInfo.width/height`` (the frames to expect) and
``roiRect[i]`` (inclusive corners p0-p1) for i < ``roiRectCnt``. Each analysed frame gives an
``IMP_IVS_MoveOutput`` whose ``retRoi[i]`` is 1 while something moves in region i; skipped frames
give nothing (processAsync returns 1), so a result comes every ``skipFrameCnt + 1`` frames and
motion is reported at most ``skipFrameCnt`` frames after it starts.

How a region decides: see :mod:`imp.ivs.background` (changed 4x4 cells against an adaptive
background, light changes removed); a region is flagged when enough of its cells changed
(``Sensitivity.min_cells`` / ``min_fraction``).
"""

from __future__ import annotations

import ctypes
import math
from dataclasses import dataclass, field, replace

import numpy as np

from imp import log
from imp.errors import InvalidArgument
from imp.ivs.algorithm import Algorithm
from imp.ivs.background import CELL, SENSE_LEVELS, BackgroundModel
from imp.ivs.blocks import integral_image, rect_sums
from imp.ivs.frames import FrameView
from imp.types import IMP_IVS_MoveOutput, IMP_IVS_MoveParam

_log = log.get("ivs.move")

MAX_ROI = 52  # IMP_IVS_MOVE_MAX_ROI_CNT
MAX_SENSE = 4
MAX_SKIP = 1000
MIN_SIZE, MAX_SIZE = 16, 4096


@dataclass(frozen=True)
class Roi:
    """A region: inclusive pixel corners (x0, y0)-(x1, y1), as ``IMPRect`` p0/p1."""

    x0: int
    y0: int
    x1: int
    y1: int
    sense: int = 3


@dataclass(frozen=True)
class MoveParams:
    """Pythonic ``IMP_IVS_MoveParam``."""

    width: int
    height: int
    rois: tuple[Roi, ...] = ()
    skip_frames: int = 0

    @classmethod
    def whole_frame(
        cls, width: int, height: int, sense: int = 3, skip_frames: int = 0
    ) -> MoveParams:
        """One region covering the whole frame."""
        return cls(width, height, (Roi(0, 0, width - 1, height - 1, sense),), skip_frames)

    def validated(self) -> MoveParams:
        """Checked copy; regions reaching past the frame are clipped to it (with a warning)."""
        w, h = self.width, self.height
        if not (MIN_SIZE <= w <= MAX_SIZE and MIN_SIZE <= h <= MAX_SIZE):
            raise InvalidArgument(f"frameInfo {w}x{h}: width and height must be 16..4096")
        if not 0 <= self.skip_frames <= MAX_SKIP:
            raise InvalidArgument(f"skipFrameCnt {self.skip_frames} must be 0..{MAX_SKIP}")
        if len(self.rois) > MAX_ROI:
            raise InvalidArgument(f"roiRectCnt {len(self.rois)} must be 0..{MAX_ROI}")
        rois = []
        for i, r in enumerate(self.rois):
            if not 0 <= r.sense <= MAX_SENSE:
                raise InvalidArgument(f"sense[{i}] = {r.sense} must be 0..{MAX_SENSE}")
            if min(r.x0, r.y0) < 0 or r.x1 < r.x0 or r.y1 < r.y0 or r.x0 >= w or r.y0 >= h:
                raise InvalidArgument(
                    f"roiRect[{i}] ({r.x0},{r.y0})-({r.x1},{r.y1}) is not a rectangle inside "
                    f"the {w}x{h} frame (corners are inclusive: p0 <= p1)"
                )
            if r.x1 >= w or r.y1 >= h:
                clipped = replace(r, x1=min(r.x1, w - 1), y1=min(r.y1, h - 1))
                _log.warning(
                    "roiRect[%d] (%d,%d)-(%d,%d) reaches past the %dx%d frame: clipped",
                    i, r.x0, r.y0, r.x1, r.y1, w, h,
                )  # fmt: skip
                r = clipped
            rois.append(r)
        return replace(self, rois=tuple(rois))


@dataclass(frozen=True)
class MoveResult:
    """One analysed frame: ``regions[i]`` is True while something moves in ROI i."""

    regions: tuple[bool, ...]
    changed_cells: tuple[int, ...]  # per ROI: the 4x4 cells that changed
    timestamp: int
    seq: int
    c: IMP_IVS_MoveOutput = field(repr=False, compare=False)

    @property
    def motion(self) -> bool:
        return any(self.regions)


def params_from_c(p: IMP_IVS_MoveParam) -> MoveParams:
    cnt = int(p.roiRectCnt)
    if not 0 <= cnt <= MAX_ROI:
        raise InvalidArgument(f"roiRectCnt {cnt} must be 0..{MAX_ROI}")
    rois = tuple(
        Roi(r.p0.x, r.p0.y, r.p1.x, r.p1.y, int(p.sense[i])) for i, r in enumerate(p.roiRect[:cnt])
    )
    return MoveParams(int(p.frameInfo.width), int(p.frameInfo.height), rois, int(p.skipFrameCnt))


def params_to_c(params: MoveParams, p: IMP_IVS_MoveParam) -> None:
    ctypes.memset(ctypes.addressof(p), 0, ctypes.sizeof(p))
    p.skipFrameCnt = params.skip_frames
    p.frameInfo.width, p.frameInfo.height = params.width, params.height
    p.roiRectCnt = len(params.rois)
    for i, r in enumerate(params.rois):
        p.sense[i] = r.sense
        rect = p.roiRect[i]
        rect.p0.x, rect.p0.y, rect.p1.x, rect.p1.y = r.x0, r.y0, r.x1, r.y1


class _Regions:
    """ROIs turned into cell rectangles and per-level thresholds, for vectorised counting."""

    def __init__(self, params: MoveParams) -> None:
        rows, cols = params.height // CELL, params.width // CELL
        rects = [_cells_of(r, rows, cols) for r in params.rois]
        self.rects = np.array(rects, dtype=np.intp).reshape(-1, 4)
        areas = (self.rects[:, 2] - self.rects[:, 0]) * (self.rects[:, 3] - self.rects[:, 1])
        self.levels = np.array([r.sense for r in params.rois], dtype=np.intp)
        self.need = np.array(
            [
                max(SENSE_LEVELS[lvl].min_cells, math.ceil(SENSE_LEVELS[lvl].min_fraction * a))
                for lvl, a in zip(self.levels.tolist(), areas.tolist(), strict=True)
            ],
            dtype=np.int64,
        )
        self.distinct = sorted(set(self.levels.tolist()))


def _cells_of(r: Roi, rows: int, cols: int) -> tuple[int, int, int, int]:
    """Cells whose centre lies in the ROI, as [r0, r1) x [c0, c1); at least the centre cell."""

    def span(lo: int, hi: int, n: int) -> tuple[int, int]:
        first = max(0, math.ceil((lo - (CELL - 1) / 2) / CELL))
        last = min(n - 1, math.floor((hi - (CELL - 1) / 2) / CELL))
        if last < first:
            first = last = min(n - 1, ((lo + hi) // 2) // CELL)
        return first, last + 1

    c0, c1 = span(r.x0, r.x1, cols)
    r0, r1 = span(r.y0, r.y1, rows)
    return r0, c0, r1, c1


class MoveDetector(Algorithm[MoveParams, MoveResult]):
    """The algorithm of ``IMP_IVS_CreateMoveInterface``."""

    param_type = IMP_IVS_MoveParam

    def __init__(self, params: MoveParams) -> None:
        self._model: BackgroundModel | None = None
        self._built_for: MoveParams | None = None
        self._regions: _Regions | None = None
        self._frames = 0
        super().__init__(params)

    def validate(self, params: MoveParams) -> MoveParams:
        if not isinstance(params, MoveParams):
            raise InvalidArgument(f"expected MoveParams, got {type(params).__name__}")
        return params.validated()

    def setup(self) -> None:
        self._model = None
        self._built_for = None
        self._frames = 0

    def params_from_c(self, address: int) -> MoveParams:
        return params_from_c(IMP_IVS_MoveParam.from_address(address))

    def params_to_c(self, params: MoveParams, address: int) -> None:
        params_to_c(params, IMP_IVS_MoveParam.from_address(address))

    def c_result(self, result: MoveResult) -> IMP_IVS_MoveOutput:
        return result.c

    def analyse(self, frame: FrameView) -> MoveResult | None:
        params = self.params
        if (frame.width, frame.height) != (params.width, params.height):
            raise InvalidArgument(
                f"frame {frame.width}x{frame.height} differs from the {params.width}x"
                f"{params.height} of MoveParam.frameInfo"
            )
        with self._lock:  # init()/SetParam from the application's thread wait for this frame
            n, self._frames = self._frames, self._frames + 1
            if n % (params.skip_frames + 1):
                return None
            if self._built_for is not params:
                self._rebuild(params)
            assert self._model is not None and self._regions is not None
            regions = self._regions
            masks = self._model.update(frame.y, frame.timestamp, regions.distinct)
        counts = np.zeros(len(params.rois), dtype=np.int64)
        # masks is None for the first frame (it only starts the background): "nothing moved".
        for lvl, mask in (masks or {}).items():
            sel = regions.levels == lvl
            counts[sel] = rect_sums(integral_image(mask), regions.rects[sel])
        flags = counts >= regions.need
        out = IMP_IVS_MoveOutput()
        for i, flag in enumerate(flags.tolist()):
            out.retRoi[i] = int(flag)
        return MoveResult(
            tuple(bool(f) for f in flags.tolist()),
            tuple(int(c) for c in counts.tolist()),
            frame.timestamp,
            frame.seq,
            out,
        )

    def _rebuild(self, params: MoveParams) -> None:
        old = self._built_for
        size_changed = old is None or (old.width, old.height) != (params.width, params.height)
        if self._model is None or size_changed:
            self._model = BackgroundModel(params.width, params.height)
        self._regions = _Regions(params)
        self._built_for = params


__all__ = ["MAX_ROI", "MoveDetector", "MoveParams", "MoveResult", "Roi", "params_from_c"]
