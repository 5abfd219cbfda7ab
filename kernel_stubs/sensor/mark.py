"""The frame mark: the sensor frame number written into the picture as a test instrument.

A band across the top edge of the luma plane, ``CELLS`` equal cells wide, each cell black or
white. Cells 0 and 39 are white and cells 1 and 38 black: they give the reader its threshold
and tell a marked frame from a picture that happens to be dark and light up there. Between them
sit 24 bits of the frame number (MSB first) and a 12-bit CRC of those bits.

Cell edges and the band height are fractions of the plane width only, so the reader finds the
mark in any copy of the picture that keeps its proportions horizontally (a decoded frame, a
downscaled one, a Y plane with extra rows below it). Cells are large (16 px at 640 wide), flat
and full contrast, so they live through heavy H.264/H.265/JPEG quantisation.
"""

from __future__ import annotations

import os
from functools import lru_cache

import numpy as np

__all__ = [
    "MARK_BITS",
    "MARK_ENV",
    "mark_band_height",
    "mark_position",
    "read_frame_mark",
    "stamp_frame_mark",
]

MARK_ENV = "IMP_SIM_MARK"
_POSITIONS = ("top", "bottom", "off")

MARK_BITS = 24
CELLS = 40
_CRC_BITS = 12
_CRC_POLY = 0x80F  # CRC-12 (x^12 + x^11 + x^3 + x^2 + x + 1)
_CRC_XOR = 0xA5A  # so frame 0 is not an all-black codeword, which dark pictures could fake
_BLACK, _WHITE = 16, 235  # video range
_MIN_WIDTH = 2 * CELLS  # narrower pictures would have cells under two pixels wide


def _crc12(value: int) -> int:
    crc = 0
    for i in range(MARK_BITS - 1, -1, -1):
        feedback = ((crc >> (_CRC_BITS - 1)) & 1) ^ ((value >> i) & 1)
        crc = (crc << 1) & ((1 << _CRC_BITS) - 1)
        if feedback:
            crc ^= _CRC_POLY
    return crc ^ _CRC_XOR


def _cell_bits(frame_no: int) -> list[int]:
    value = frame_no & ((1 << MARK_BITS) - 1)
    word = (value << _CRC_BITS) | _crc12(value)
    payload = [(word >> i) & 1 for i in range(MARK_BITS + _CRC_BITS - 1, -1, -1)]
    return [1, 0, *payload, 0, 1]


def mark_band_height(width: int) -> int:
    """Rows the mark occupies at the top of a plane ``width`` pixels wide (even, >= 2)."""
    return max(2, 2 * round(width / (2 * CELLS)))


@lru_cache(maxsize=16)
def _cell_edges(width: int) -> np.ndarray:
    edges: np.ndarray = np.rint(np.arange(CELLS + 1) * (width / CELLS)).astype(np.intp)
    return edges


@lru_cache(maxsize=16)
def _cell_of_column(width: int) -> np.ndarray:
    columns: np.ndarray = np.repeat(np.arange(CELLS), np.diff(_cell_edges(width)))
    return columns


def mark_position() -> str:
    """Where the band goes: ``$IMP_SIM_MARK`` = top (default), bottom, or off. A whole-frame
    motion region sees the changing band as motion in every frame: move it out of the
    region, or switch it off, when that matters more than reading frame numbers back."""
    value = os.environ.get(MARK_ENV, "").strip().lower() or "top"
    if value not in _POSITIONS:
        raise ValueError(f"{MARK_ENV}={value!r}: use top, bottom or off")
    return value


def stamp_frame_mark(y: np.ndarray, frame_no: int, uv: np.ndarray | None = None) -> None:
    """Write the mark for ``frame_no`` (modulo 2**24) into the top rows of luma plane ``y``.

    With ``uv`` (the NV12 chroma plane of the same picture) the band is made colourless too,
    so the mark looks the same whatever the picture's colours. Planes narrower than 80 pixels
    are left unmarked.
    """
    height, width = y.shape
    band = mark_band_height(width)
    where = mark_position()
    if width < _MIN_WIDTH or band > height or where == "off":
        return
    levels = np.where(np.array(_cell_bits(frame_no), dtype=bool), _WHITE, _BLACK).astype(np.uint8)
    if where == "bottom":
        y[height - band :] = levels[_cell_of_column(width)]
        if uv is not None:
            uv[uv.shape[0] - band // 2 :] = 128
        return
    y[:band] = levels[_cell_of_column(width)]
    if uv is not None:
        uv[: band // 2] = 128


def read_frame_mark(y_plane: np.ndarray) -> int:
    """The frame number stamped in ``y_plane``; ValueError if it carries no valid mark.

    ``y_plane`` may be any 2-D luma array of the picture (any size, extra rows below allowed
    for a mark at the top; with ``IMP_SIM_MARK=bottom`` the plane must end with the picture).
    """
    plane = np.asarray(y_plane)
    if plane.ndim != 2:
        raise ValueError(f"expected a 2-D luma plane, got shape {plane.shape}")
    height, width = plane.shape
    band = mark_band_height(width)
    if width < _MIN_WIDTH or band > height:
        raise ValueError(f"a {width}x{height} plane is too small to carry a frame mark")
    # Sample the middle of each cell only: coding blurs and rings at the cell edges.
    top = height - band if mark_position() == "bottom" else 0  # bottom: no rows below it
    rows = plane[top + band // 4 : top + band - band // 4].astype(np.float32)
    edges = np.arange(CELLS + 1) * (width / CELLS)
    means = np.empty(CELLS, dtype=np.float32)
    for i in range(CELLS):
        inset = (edges[i + 1] - edges[i]) * 0.3
        x0 = round(edges[i] + inset)
        x1 = max(x0 + 1, round(edges[i + 1] - inset))
        means[i] = rows[:, x0:x1].mean()

    white = (means[0] + means[-1]) / 2
    black = (means[1] + means[-2]) / 2
    contrast = white - black
    if contrast < 48:
        raise ValueError("no frame mark: reference cells lack contrast")
    if abs(means[0] - means[-1]) > contrast / 4 or abs(means[1] - means[-2]) > contrast / 4:
        raise ValueError("no frame mark: reference cells disagree")
    payload = means[2:-2]
    threshold = (white + black) / 2
    if np.any(np.abs(payload - threshold) < contrast * 0.2):
        raise ValueError("no frame mark: ambiguous cells")
    word = 0
    for bit in payload > threshold:
        word = (word << 1) | int(bit)
    value, crc = word >> _CRC_BITS, word & ((1 << _CRC_BITS) - 1)
    if _crc12(value) != crc:
        raise ValueError("no frame mark: check code mismatch")
    return value
