"""IVS building blocks without a pipeline: numpy kernels, parameters, the background model."""

from __future__ import annotations

import ctypes
import math

import numpy as np
import pytest

from imp import ivs
from imp.errors import InvalidArgument
from imp.ivs import base_move, move
from imp.ivs.background import BackgroundModel
from imp.ivs.blocks import abs_diff, add_offset, block_sums, integral_image, rect_sums
from imp.ivs.frames import FrameView
from imp.types import IMP_IVS_BaseMoveParam, IMP_IVS_MoveParam

RNG = np.random.default_rng(7)


@pytest.mark.parametrize("size", [1, 4, 8, 16])
def test_block_sums_match_the_plain_reduction(size: int) -> None:
    y = RNG.integers(0, 256, (362, 646), dtype=np.uint8)  # partial blocks at the edges
    rows, cols = 362 // size, 646 // size
    expected = y[: rows * size, : cols * size].reshape(rows, size, cols, size).sum(axis=(1, 3))
    assert np.array_equal(block_sums(y, size), expected)
    full = np.full((32, 32), 255, np.uint8)
    assert block_sums(full, 16).max() == 16 * 16 * 255  # no overflow at the top of uint16


def test_abs_diff_and_add_offset_do_not_wrap_even_in_place() -> None:
    a = RNG.integers(0, 256, (40, 64), dtype=np.uint8)
    b = RNG.integers(0, 256, (40, 64), dtype=np.uint8)
    expected = np.abs(a.astype(int) - b.astype(int))
    assert np.array_equal(abs_diff(a, b), expected)
    for out_is in ("a", "b"):
        x, z = a.copy(), b.copy()
        got = abs_diff(x, z, out=x if out_is == "a" else z)
        assert np.array_equal(got, expected), out_is
    for offset in (-300, -7, 0, 9, 300):
        out = np.empty_like(a)
        assert np.array_equal(
            add_offset(a, offset, out), np.clip(a.astype(int) + offset, 0, 255)
        ), offset


def test_rect_sums_over_an_integral_image() -> None:
    mask = RNG.random((45, 80)) > 0.7
    rects = np.array([[0, 0, 45, 80], [3, 5, 10, 9], [44, 79, 45, 80], [7, 7, 7, 9]])
    got = rect_sums(integral_image(mask), rects)
    assert got.tolist() == [int(mask[r0:r1, c0:c1].sum()) for r0, c0, r1, c1 in rects]


def _move_param(**overrides: object) -> IMP_IVS_MoveParam:
    p = IMP_IVS_MoveParam()
    p.skipFrameCnt = 5
    p.frameInfo.width, p.frameInfo.height = 640, 360
    p.roiRectCnt = 2
    for i, (x0, y0, x1, y1) in enumerate(((0, 0, 319, 359), (320, 0, 639, 359))):
        p.sense[i] = i + 2
        r = p.roiRect[i]
        r.p0.x, r.p0.y, r.p1.x, r.p1.y = x0, y0, x1, y1
    for key, value in overrides.items():
        setattr(p, key, value)
    return p


def test_move_params_round_trip_through_the_c_struct() -> None:
    params = move.params_from_c(_move_param())
    assert params == ivs.MoveParams(
        640, 360, (ivs.Roi(0, 0, 319, 359, 2), ivs.Roi(320, 0, 639, 359, 3)), 5
    )
    out = IMP_IVS_MoveParam()
    move.params_to_c(params, out)
    assert bytes(out) == bytes(_move_param())
    assert ctypes.sizeof(IMP_IVS_MoveParam) in (1104, 1108)  # o32 size on MIPS; x86-64 pads


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (ivs.MoveParams(0, 360), "16..4096"),
        (ivs.MoveParams(640, 360, skip_frames=-1), "skipFrameCnt"),
        (ivs.MoveParams(640, 360, (ivs.Roi(0, 0, 9, 9, 5),)), "sense"),
        (ivs.MoveParams(640, 360, (ivs.Roi(10, 0, 9, 9),)), "inclusive"),
        (ivs.MoveParams(640, 360, (ivs.Roi(-1, 0, 9, 9),)), "inside"),
        (ivs.MoveParams(640, 360, (ivs.Roi(0, 0, 9, 9),) * 53), "roiRectCnt"),
    ],
)
def test_bad_move_params_are_refused(params: ivs.MoveParams, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        ivs.MoveDetector(params)


def test_move_rois_past_the_frame_are_clipped() -> None:
    det = ivs.MoveDetector(ivs.MoveParams(640, 360, (ivs.Roi(0, 0, 640, 360),)))
    assert det.params.rois == (ivs.Roi(0, 0, 639, 359),)  # prudynt-style off-by-one


def test_base_move_params_round_trip_and_validation() -> None:
    c = IMP_IVS_BaseMoveParam()
    c.skipFrameCnt, c.referenceNum, c.sadMode, c.sense = 3, 4, 0, 3
    c.frameInfo.width, c.frameInfo.height = 640, 360
    params = base_move.params_from_c(c)
    assert params == ivs.BaseMoveParams(640, 360, 3, 4, 0, 3)
    for bad in (
        ivs.BaseMoveParams(640, 360, sad_mode=1),
        ivs.BaseMoveParams(640, 360, sense=4),
        ivs.BaseMoveParams(640, 360, reference_num=0),
    ):
        with pytest.raises(InvalidArgument):
            ivs.BaseMoveDetector(bad)


def _textured(h: int = 360, w: int = 640) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w]
    base = 40 + 0.15 * xx + 0.1 * yy + 20 * np.sin(xx / 9.0) * np.cos(yy / 13.0)
    return base.astype(np.float32)


def test_background_model_ignores_noise_gain_and_offset_but_sees_an_object() -> None:
    """Auto-exposure style changes (gain 0.85..1.15, offset +-10) on a noisy picture."""
    model = BackgroundModel(640, 360)
    clean = _textured()
    flagged = 0
    for n in range(150):
        gain = 1 + 0.15 * math.sin(2 * math.pi * n / 60)
        offset = 10 * math.cos(2 * math.pi * n / 45)
        noisy = clean * gain + offset + RNG.normal(0, 3, clean.shape)
        masks = model.update(np.clip(noisy, 0, 255).astype(np.uint8), n * 40_000, [3, 4])
        if masks is not None:
            flagged += int(masks[4].sum() >= 4)
    assert flagged <= 1
    frame = np.clip(clean * 1.1 + RNG.normal(0, 3, clean.shape), 0, 255).astype(np.uint8)
    frame[100:160, 200:240] = 30  # a dark 40x60 object
    masks = model.update(frame, 150 * 40_000, [3])
    assert masks is not None
    changed = masks[3]
    assert changed[25:40, 50:60].mean() > 0.9  # the object's cells
    assert changed.sum() <= changed[25:40, 50:60].sum() + 10


def test_move_detector_runs_on_frame_views_without_a_pipeline() -> None:
    det = ivs.MoveDetector(ivs.MoveParams.whole_frame(640, 360, sense=3))
    det.init()
    clean = _textured().astype(np.uint8)
    for n in range(3):
        assert det.process_async(FrameView(clean, None, timestamp=n, seq=n, vir_addr=0)) == 0
    moved = clean.copy()
    moved[200:260, 300:340] = 240
    assert det.process_async(FrameView(moved, None, timestamp=4, seq=4, vir_addr=0)) == 0
    results = [det.get_result() for _ in range(4)]
    assert [r.motion for r in results] == [False, False, False, True]
    assert results[-1].c.retRoi[0] == 1
    for r in results:
        det.release_result(r)
    assert det.results_held == 0
    wrong = np.zeros((100, 100), np.uint8)
    assert det.process_async(FrameView(wrong, None, timestamp=5, seq=5, vir_addr=0)) == -1
