"""Statistics of the simulated ISP describe the delivered frames; AWB neutralises the light;
a custom AE algorithm registered through ctypes gets them every frame and its exposure shows."""

from __future__ import annotations

import ctypes
import time

import numpy as np
import pytest

import imp.isp
from imp.capi import IMP_ISP_SetAeAlgoFunc, IMPISPAeAlgoFunc, IMPISPAwbAttr, IMPISPAwbInfo
from kernel_stubs.isp3a.lighting import Lighting
from kernel_stubs.sensor import MovingObject, Scene
from tests.isp_physics_support import (
    BAND,
    FIRST_ZONE_ROW,
    STEP,
    Held,
    frame,
    frames_until,
    linear,
    lit_system,
    metered,
    pixel_zones,
    store,
    zone_means,
)


def _rgb(y: float, u: float, v: float) -> tuple[float, float, float]:
    c, d, e = y - 16, u - 128, v - 128
    return 1.164 * c + 1.596 * e, 1.164 * c - 0.392 * d - 0.813 * e, 1.164 * c + 2.017 * d


def _grey_patch_ratios(y: np.ndarray, uv: np.ndarray) -> tuple[float, float]:
    patch_y = y[200:260, 420:520].mean()
    patch_u = uv[100:130, 420:520:2].mean()
    patch_v = uv[100:130, 421:520:2].mean()
    r, g, b = _rgb(patch_y, patch_u, patch_v)
    return r / g, b / g


@pytest.mark.parametrize("cct", [2800, 6500])
def test_awb_makes_a_grey_patch_neutral_under_tungsten_and_daylight(cct: int) -> None:
    objects = (
        MovingObject.appear(0, 1 << 30, (40, 60, 120, 90), (82, 90, 240)),  # red
        MovingObject.appear(0, 1 << 30, (200, 250, 120, 80), (41, 240, 110)),  # blue
        MovingObject.appear(0, 1 << 30, (60, 230, 100, 100), (145, 54, 34)),  # green
        MovingObject.appear(0, 1 << 30, (410, 190, 120, 80), (170, 128, 128)),  # grey patch
    )
    scene = Scene(background="flat", objects=objects, lighting=Lighting.constant(400, cct))
    with lit_system(scene):
        t = imp.isp.tuning()
        y0, uv0, _ = frame()
        before = _grey_patch_ratios(y0, uv0)
        frames_until(40)
        y, uv, _ = frame()
        after = _grey_patch_ratios(y, uv)
        ct = t.awb_ct
        # Manual WB at 1x brings the cast of the light back.
        t.set_wb(1, 256, 256)
        frames_until(frame()[2] + 4)
        y2, uv2, _ = frame()
        manual = _grey_patch_ratios(y2, uv2)
    warm = cct < 5000
    assert (before[0] > 1.1) == warm and (before[1] < 0.9) == warm  # the light's cast showed
    assert after == pytest.approx((1.0, 1.0), abs=0.05)
    assert abs(ct - cct) < 0.25 * cct  # the CT estimate follows the light
    assert (manual[0] > 1.1) == warm and (manual[1] < 0.9) == warm


def _hold_two() -> tuple[Held, Held]:
    """Hold both buffers: the engine stops, and the published statistics are those of the
    newest held frame until one is released."""
    first = Held()
    second = Held()
    deadline = time.monotonic() + 10
    while store().statistics().frame != second.n and time.monotonic() < deadline:
        time.sleep(0.02)
    assert store().statistics().frame == second.n
    return first, second


def test_statistics_equal_an_independent_computation_at_their_stage() -> None:
    boxes = tuple(
        MovingObject.appear(0, 1 << 30, (x, yy, 90, 70), (luma, 128, 128))
        for x, yy, luma in ((30, 40, 40), (250, 60, 220), (480, 150, 70), (100, 250, 190))
    )
    scene = Scene(background="texture", seed=5, objects=boxes, lighting=Lighting.constant(300))
    with lit_system(scene):
        frames_until(30)
        t = imp.isp.tuning()
        first, held = _hold_two()
        try:
            zones = t.ae_zones().astype(float)
            hist = t.ae_histogram_256()
            awb = t.awb_zones().astype(float)
            af = t.af_zones().astype(float)
            assert store().statistics().frame == held.n  # all of one frame
        finally:
            first.release()
            held.release()
    y, uv = held.y, held.uv
    rows = slice(FIRST_ZONE_ROW, 15)  # zones below the frame mark
    # AE zones: the linear picture before gamma, every pixel of each zone.
    assert np.abs(pixel_zones(linear(y))[rows] - zones[rows]).max() <= 2.0
    # The histogram: the same values on the 4x4 grid.
    lin = linear(y[::STEP, ::STEP])
    assert hist.sum() == lin.size
    below = lin[BAND // STEP + 1 :]
    mean_hist = np.dot(np.arange(256), hist) / hist.sum()
    assert abs(mean_hist - lin.mean()) <= 2.0 and abs(mean_hist - below.mean()) <= 3.0
    # AWB zones: R, G, B of the delivered YUV.
    yz = zone_means(y[::STEP, ::STEP].astype(float))
    uz = zone_means(uv[:: STEP // 2, 0::STEP].astype(float))
    vz = zone_means(uv[:: STEP // 2, 1::STEP].astype(float))
    r, g, b = (np.clip(c, 0, 255) for c in _rgb(yz, uz, vz))  # type: ignore[arg-type]
    for got, want in zip((awb[..., 0], awb[..., 1], awb[..., 2]), (r, g, b), strict=True):
        assert np.abs(got[rows] - want[rows]).max() <= 1.0
    # AF: gradient energy of the delivered luma.
    grad = np.abs(np.diff(y[::STEP, ::STEP].astype(int), axis=1))
    assert np.abs(zone_means(grad)[rows] * 16 - af[rows]).max() <= 1.0
    # The AE zones rank like the delivered picture's 15x15 block means.
    blocks = pixel_zones(y)[rows].ravel()
    ranks = np.argsort(np.argsort(zones[rows].ravel()))
    block_ranks = np.argsort(np.argsort(blocks))
    assert np.corrcoef(ranks, block_ranks)[0, 1] > 0.95


def test_a_gamma_change_shows_in_the_picture_not_in_the_ae_statistics() -> None:
    with lit_system(Scene(background="texture", lighting=Lighting.constant(300))):
        t = imp.isp.tuning()
        frames_until(30)
        y0, _, _ = frame()
        zones0 = t.ae_zones().astype(float)
        t.gamma = (4095 * (np.arange(129) / 128) ** (1 / 1.4)).astype(np.uint16)
        frames_until(frame()[2] + 10)
        y1, _, _ = frame()
        zones1 = t.ae_zones().astype(float)
    assert y1[BAND:].mean() < y0[BAND:].mean() - 15  # a flatter gamma: a darker picture
    assert np.abs(zones1 - zones0).mean() < 2.0  # AE meters before gamma: unchanged


class _Cell:
    lines = 150
    calls = 0
    zone_means: list[float] = []


def test_ctypes_custom_ae_gets_statistics_every_frame_and_its_exposure_shows() -> None:
    cell = _Cell()
    cell.zone_means = []
    handle_type = dict(IMPISPAeAlgoFunc._fields_)["handle"]

    def handle(priv: int, info: object, attr: object) -> None:
        cell.calls += 1
        i = info.contents  # type: ignore[attr-defined]
        cell.zone_means.append(float(np.ctypeslib.as_array(i.ae_zone.zone).mean()))
        a = attr.contents  # type: ignore[attr-defined]
        a.change, a.AeIntegrationTime = 1, cell.lines
        a.AeAGain = a.AeDGain = a.AeIspDGain = 1024

    algo = IMPISPAeAlgoFunc()
    algo.handle = handle_type(handle)
    scene = Scene(background="texture", lighting=Lighting.constant(2000))
    with lit_system(scene):
        assert IMP_ISP_SetAeAlgoFunc(ctypes.byref(algo)) == 0
        t = imp.isp.tuning()

        def settle_on(lines: int) -> float:
            cell.lines = lines
            for _ in range(300):
                frame()
                time.sleep(0.005)  # let the algorithm's worker take each AE cycle
                if t.exposure.integration_time == lines:
                    break
            values = []
            for _ in range(6):
                y, _, _ = frame()
                time.sleep(0.005)
                values.append(metered(y))
            return float(np.median(values))

        short = settle_on(100)
        start_calls, start_frame = cell.calls, frame()[2]
        long = settle_on(200)
        frames = frame()[2] - start_frame
        calls = cell.calls - start_calls
    assert long / short == pytest.approx(2.0, rel=0.06)  # twice the time, twice the light
    assert calls >= 0.5 * frames and calls > 5  # called per AE cycle (a loaded host may skip)
    assert max(cell.zone_means) > 10  # with statistics of real frames


class _RedAwb:
    """A Python AWB algorithm: R gain 2x, B gain 1x, whatever the statistics say."""

    def __init__(self) -> None:
        self.calls = 0

    def open(self) -> int:
        return 0

    def handle(self, info: IMPISPAwbInfo, attr: IMPISPAwbAttr) -> None:
        self.calls += 1
        attr.change, attr.r_gain, attr.b_gain, attr.ct = 1, 512, 256, 4000

    def close(self) -> None:
        pass


def test_a_custom_awb_algorithm_decides_the_colour_of_the_picture() -> None:
    patch = (MovingObject.appear(0, 1 << 30, (410, 190, 120, 80), (170, 128, 128)),)
    with lit_system(Scene(background="flat", objects=patch, lighting=Lighting.constant(400))):
        frames_until(20)
        y0, uv0, _ = frame()
        neutral = _grey_patch_ratios(y0, uv0)
        algo = _RedAwb()
        imp.isp.tuning().set_awb_algorithm(algo)
        for _ in range(200):
            frame()
            time.sleep(0.005)  # let the algorithm's worker take the AWB cycle
            if algo.calls >= 3:
                break
        frames_until(frame()[2] + 3)
        y1, uv1, _ = frame()
        red = _grey_patch_ratios(y1, uv1)
    assert neutral == pytest.approx((1.0, 1.0), abs=0.05)
    assert algo.calls >= 3 and red[0] > 1.25 and red[1] == pytest.approx(1.0, abs=0.1)
