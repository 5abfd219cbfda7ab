"""Base move detection (``imp_ivs_base_move.h``): a map of SADs per 8x8 block.

``IMP_IVS_BaseMoveParam``: ``skipFrameCnt`` (as for move detection), ``referenceNum`` (how many
analysed frames back the reference frame is), ``sadMode`` (0 = 8x8 blocks, the only mode),
``sense`` 0-3 (3 = most sensitive) and ``frameInfo.width/height``. Each analysed frame gives an
``IMP_IVS_BaseMoveOutput`` with ``data`` pointing at ``datalen = (w/8)*(h/8)`` bytes, row by row:

    data[i] = SAD(block i of the frame, block i of the reference) / 64

i.e. the block's mean absolute luma difference, 0..255, after the global brightness shift
between the two frames is taken out (auto-exposure, flicker). Values at or below the noise
floor of the sensitivity (an absolute minimum, or a multiple of the picture's median block
value when the sensor is noisier) are reported as 0. ``ret`` is 1 when any block is non-zero.
"""

from __future__ import annotations

import ctypes
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from imp.errors import InvalidArgument
from imp.ivs.algorithm import Algorithm
from imp.ivs.blocks import abs_diff, add_offset, block_sums
from imp.ivs.frames import FrameView
from imp.types import IMP_IVS_BaseMoveOutput, IMP_IVS_BaseMoveParam

BLOCK = 8  # sadMode 0
MAX_SENSE = 3
MAX_REFERENCE = 32
MAX_SKIP = 1000
MIN_SIZE, MAX_SIZE = 16, 4096

# sense 0..3: a block counts when its mean |difference| exceeds max(floor, k * median block).
_FLOOR = (16, 10, 6, 4)
_K = (6.0, 4.5, 3.5, 2.5)


@dataclass(frozen=True)
class BaseMoveParams:
    """Pythonic ``IMP_IVS_BaseMoveParam``."""

    width: int
    height: int
    skip_frames: int = 0
    reference_num: int = 1
    sad_mode: int = 0
    sense: int = 3

    def validated(self) -> BaseMoveParams:
        w, h = self.width, self.height
        if not (MIN_SIZE <= w <= MAX_SIZE and MIN_SIZE <= h <= MAX_SIZE):
            raise InvalidArgument(f"frameInfo {w}x{h}: width and height must be 16..4096")
        if not 0 <= self.skip_frames <= MAX_SKIP:
            raise InvalidArgument(f"skipFrameCnt {self.skip_frames} must be 0..{MAX_SKIP}")
        if not 1 <= self.reference_num <= MAX_REFERENCE:
            raise InvalidArgument(f"referenceNum {self.reference_num} must be 1..{MAX_REFERENCE}")
        if self.sad_mode != 0:
            raise InvalidArgument(f"sadMode {self.sad_mode}: only 0 (8x8 blocks) exists")
        if not 0 <= self.sense <= MAX_SENSE:
            raise InvalidArgument(f"sense {self.sense} must be 0..{MAX_SENSE}")
        return self


@dataclass(frozen=True)
class BaseMoveResult:
    """One analysed frame: ``sad`` is the (h/8, w/8) uint8 map (a view of the C buffer)."""

    sad: np.ndarray = field(repr=False)
    motion: bool
    timestamp: int
    seq: int
    c: IMP_IVS_BaseMoveOutput = field(repr=False, compare=False)
    buffer: ctypes.Array[ctypes.c_uint8] = field(repr=False, compare=False)


def params_from_c(p: IMP_IVS_BaseMoveParam) -> BaseMoveParams:
    return BaseMoveParams(
        int(p.frameInfo.width),
        int(p.frameInfo.height),
        int(p.skipFrameCnt),
        int(p.referenceNum),
        int(p.sadMode),
        int(p.sense),
    )


def params_to_c(params: BaseMoveParams, p: IMP_IVS_BaseMoveParam) -> None:
    ctypes.memset(ctypes.addressof(p), 0, ctypes.sizeof(p))
    p.skipFrameCnt, p.referenceNum = params.skip_frames, params.reference_num
    p.sadMode, p.sense = params.sad_mode, params.sense
    p.frameInfo.width, p.frameInfo.height = params.width, params.height


def sad_map(cur: np.ndarray, ref: np.ndarray, shift: int, scratch: np.ndarray) -> np.ndarray:
    """Per 8x8 block: sum |cur - (ref + shift)| / 64, rounded, as uint8 (h/8, w/8)."""
    add_offset(ref, shift, out=scratch)
    abs_diff(cur, scratch, out=scratch)
    sums = block_sums(scratch, BLOCK)
    sums += BLOCK * BLOCK // 2
    sums >>= 6
    return sums.astype(np.uint8)


class BaseMoveDetector(Algorithm[BaseMoveParams, BaseMoveResult]):
    """The algorithm of ``IMP_IVS_CreateBaseMoveInterface``."""

    param_type = IMP_IVS_BaseMoveParam

    def __init__(self, params: BaseMoveParams) -> None:
        self._history: deque[tuple[np.ndarray, np.ndarray]] = deque()  # (luma copy, block sums)
        self._scratch: np.ndarray | None = None
        self._frames = 0
        super().__init__(params)

    def validate(self, params: BaseMoveParams) -> BaseMoveParams:
        if not isinstance(params, BaseMoveParams):
            raise InvalidArgument(f"expected BaseMoveParams, got {type(params).__name__}")
        return params.validated()

    def setup(self) -> None:
        self._history.clear()
        self._frames = 0

    def params_from_c(self, address: int) -> BaseMoveParams:
        return params_from_c(IMP_IVS_BaseMoveParam.from_address(address))

    def params_to_c(self, params: BaseMoveParams, address: int) -> None:
        params_to_c(params, IMP_IVS_BaseMoveParam.from_address(address))

    def c_result(self, result: BaseMoveResult) -> IMP_IVS_BaseMoveOutput:
        return result.c

    def analyse(self, frame: FrameView) -> BaseMoveResult | None:
        params = self.params
        if (frame.width, frame.height) != (params.width, params.height):
            raise InvalidArgument(
                f"frame {frame.width}x{frame.height} differs from the {params.width}x"
                f"{params.height} of BaseMoveParam.frameInfo"
            )
        with self._lock:
            n, self._frames = self._frames, self._frames + 1
            if n % (params.skip_frames + 1):
                return None
            return self._compare(frame, params)

    def _compare(self, frame: FrameView, params: BaseMoveParams) -> BaseMoveResult:
        cur = frame.y
        history = self._history
        if history and history[-1][0].shape != cur.shape:
            history.clear()
        if self._scratch is None or self._scratch.shape != cur.shape:
            self._scratch = np.empty_like(cur)
        sums = block_sums(cur, BLOCK)
        history.append((cur.copy(), sums))  # the DMA buffer goes back to the driver
        while len(history) > params.reference_num + 1:
            history.popleft()
        rows, cols = sums.shape
        if len(history) <= params.reference_num:
            values = np.zeros((rows, cols), np.uint8)  # no reference yet: nothing moved
        else:
            values = self._sad(cur, sums, history[0], params.sense)
        buf = (ctypes.c_uint8 * values.size)()
        sad = np.frombuffer(buf, dtype=np.uint8).reshape(rows, cols)
        sad[:] = values
        motion = bool(values.any())
        out = IMP_IVS_BaseMoveOutput()
        out.ret = int(motion)
        out.data = ctypes.cast(buf, ctypes.POINTER(ctypes.c_uint8))
        out.datalen = values.size
        return BaseMoveResult(sad, motion, frame.timestamp, frame.seq, out, buf)

    def _sad(
        self,
        cur: np.ndarray,
        sums: np.ndarray,
        reference: tuple[np.ndarray, np.ndarray],
        sense: int,
    ) -> np.ndarray:
        ref, ref_sums = reference
        # Global brightness shift: the median block-mean change (moving objects are a minority).
        delta = (sums.astype(np.int32) - ref_sums).ravel()
        shift = round(float(np.partition(delta, delta.size // 2)[delta.size // 2]) / 64)
        assert self._scratch is not None
        values = sad_map(cur, ref, shift, self._scratch)
        median = float(np.partition(values.ravel(), values.size // 2)[values.size // 2])
        values[values <= max(_FLOOR[sense], _K[sense] * median)] = 0
        return values


__all__ = ["BaseMoveDetector", "BaseMoveParams", "BaseMoveResult", "params_from_c", "sad_map"]
