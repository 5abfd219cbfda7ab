"""The osd sample, end to end: its HEVC output decoded by PyAV shows each region where it
should be, with the expected colours and alpha blending (codec tolerance), and a clock that
changes exactly once per second of video and shows the right time (compared with renderings
of the candidate strings by the same text helper — no OCR)."""

from __future__ import annotations

import ctypes
import time
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

import av
import numpy as np
import pytest

from imp.capi import *
from imp.osd.colour import rgb_to_yuv
from imp.samples import encoder_common
from imp.samples import osd as sample
from tests.conftest import running_system

SCENE = "osd-bars"  # static colour bars: the background is the same in every frame
FRAMES = 200
BAND = 48  # rows of the simulator's frame mark at 1920 wide: differs per frame, left out


@pytest.fixture(autouse=True)
def _bars_scene(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from kernel_stubs.sensor import register_scene, unregister_scene
    from kernel_stubs.sensor.scene import Scene

    register_scene(SCENE, Scene(background="bars"))
    monkeypatch.setenv("IMP_SIM_CLOCK", "virtual")
    monkeypatch.setenv("IMP_SIM_SENSOR", f"synthetic:{SCENE}")
    monkeypatch.setattr(encoder_common, "POLL_TIMEOUT_MS", 20_000)  # x265 start-up on 2 cores
    yield
    unregister_scene(SCENE)


def _background() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Y, U, V (4:2:0 planes) of the scene as the FrameSource delivers it, without OSD."""
    with running_system("virtual", sensor=f"synthetic:{SCENE}"):
        a = IMPFSChnAttr()
        a.picWidth, a.picHeight, a.pixFmt, a.nrVBs = 1920, 1080, PIX_FMT_NV12, 2
        a.outFrmRateNum, a.outFrmRateDen = 25, 1
        assert IMP_FrameSource_CreateChn(0, a) == 0
        assert IMP_FrameSource_SetFrameDepth(0, 1) == 0
        assert IMP_FrameSource_EnableChn(0) == 0
        p = ctypes.POINTER(IMPFrameInfo)()
        assert IMP_FrameSource_GetFrame(0, p) == 0
        info = p.contents
        y = np.ctypeslib.as_array((ctypes.c_uint8 * (1920 * 1080)).from_address(info.virAddr))
        y = y.reshape(1080, 1920).copy()
        uv_addr = info.virAddr + 1920 * 1088  # UV after 16-aligned luma rows
        uv = np.ctypeslib.as_array((ctypes.c_uint8 * (1920 * 540)).from_address(uv_addr))
        uv = uv.reshape(540, 1920).copy()
        assert IMP_FrameSource_ReleaseFrame(0, p) == 0
        assert IMP_FrameSource_DisableChn(0) == 0
        assert IMP_FrameSource_DestroyChn(0) == 0
    return y, uv[:, 0::2].copy(), uv[:, 1::2].copy()


def _expected(y: np.ndarray, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, ...]:
    """A plain numpy composite of the sample's logo, cover and rect (layer 1 rect, then the
    layer-2 logo (handle 1) and cover (handle 2)), by the documented rules."""
    out_y, out_u, out_v = (p.astype(np.int64) for p in (y, u, v))
    h, w = y.shape
    logo = sample.make_logo().astype(np.int64)

    def layer(
        alpha: np.ndarray, cy: np.ndarray | int, cu: np.ndarray | int, cv: np.ndarray | int
    ) -> None:
        nonlocal out_y, out_u, out_v
        out_y = (cy * alpha + out_y * (255 - alpha) + 127) // 255
        blk_a = alpha.reshape(h // 2, 2, w // 2, 2).sum(axis=(1, 3))
        for name, c in (("u", cu), ("v", cv)):
            s = (alpha * c).reshape(h // 2, 2, w // 2, 2).sum(axis=(1, 3))
            if name == "u":
                out_u = (s + out_u * (1020 - blk_a) + 508) // 1020
            else:
                out_v = (s + out_v * (1020 - blk_a) + 508) // 1020

    green = [int(c) for c in rgb_to_yuv(0, 255, 0)]
    black = [int(c) for c in rgb_to_yuv(0, 0, 0)]
    x0, y0, x1, y1 = sample.RECT_RECT
    a = np.zeros((h, w), np.int64)
    a[y0 : y1 + 1, x0 : x1 + 1] = 255
    a[y0 + 5 : y1 - 4, x0 + 5 : x1 - 4] = 0
    layer(a, *green)
    x0, y0, x1, y1 = sample.LOGO_RECT
    a = np.zeros((h, w), np.int64)
    a[y0 : y1 + 1, x0 : x1 + 1] = (logo[..., 3] * 0x7F + 127) // 255
    cy, cu, cv = (np.zeros((h, w), np.int64) for _ in range(3))
    ly, lu, lv = rgb_to_yuv(logo[..., 2], logo[..., 1], logo[..., 0])
    cy[y0 : y1 + 1, x0 : x1 + 1], cu[y0 : y1 + 1, x0 : x1 + 1] = ly, lu
    cv[y0 : y1 + 1, x0 : x1 + 1] = lv
    layer(a, cy, cu, cv)
    x0, y0, x1, y1 = sample.COVER_RECT
    a = np.zeros((h, w), np.int64)
    a[y0 : y1 + 1, x0 : x1 + 1] = (255 * 0x7F + 127) // 255
    layer(a, *black)
    return out_y, out_u, out_v


def _decode(path: Path) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    out = []
    with av.open(str(path), format="hevc") as container:
        for frame in container.decode(video=0):
            planes = frame.to_ndarray()  # yuv420p: (1620, 1920)
            y = planes[:1080].astype(np.int64)
            uv = planes[1080:].reshape(2, 540, 960).astype(np.int64)
            out.append((y, uv[0], uv[1]))
    return out


def _clock_luma(text: str) -> np.ndarray:
    bgra = sample.clock_renderer().render(text)
    return rgb_to_yuv(bgra[..., 2], bgra[..., 1], bgra[..., 0])[0].astype(np.int64)


def test_osd_sample_output_shows_every_region_and_a_correct_clock(tmp_path: Path) -> None:
    background = _background()
    t0 = time.time()
    files = sample.run(str(tmp_path), frames=FRAMES, clock="frame")
    t1 = time.time()
    assert [Path(f).name for f in files] == ["stream-0.h265"]
    frames = _decode(tmp_path / "stream-0.h265")
    assert len(frames) == FRAMES
    ey, eu, ev = _expected(*background)
    bg_y = background[0].astype(np.int64)

    # -- regions: decoded pixels against the expected composite ---------------------------------
    def area(rect: tuple[int, int, int, int], inset: int = 0) -> tuple[slice, slice]:
        x0, y0, x1, y1 = rect
        return slice(y0 + inset, y1 + 1 - inset), slice(x0 + inset, x1 + 1 - inset)

    checks = {
        "cover": area(sample.COVER_RECT, 3),
        "logo": area(sample.LOGO_RECT, 2),
        "rect top stroke": (slice(301, 304), slice(305, 895)),
        "rect left stroke": (slice(305, 595), slice(301, 304)),
        "inside rect": area((306, 306, 893, 593), 3),
    }
    report = []
    for i in (5, FRAMES // 2, FRAMES - 1):
        y, u, v = frames[i]
        for name, (rows, cols) in checks.items():
            err = np.abs(y[rows, cols] - ey[rows, cols])
            crows = slice(rows.start // 2 + 1, rows.stop // 2 - 1)
            ccols = slice(cols.start // 2 + 1, cols.stop // 2 - 1)
            moved = np.abs(ey[rows, cols] - bg_y[rows, cols]).mean()
            report.append(f"frame {i} {name}: |Y err| mean {err.mean():.2f} max {err.max()}")
            assert err.mean() < 2.5, report[-1]
            assert np.percentile(err, 99) <= 12, report[-1]
            if name in ("cover", "logo", "rect top stroke", "rect left stroke"):
                assert moved > 15, f"{name}: the overlay should change the picture"
            if name in ("cover", "inside rect"):
                cerr = max(
                    np.abs(u[crows, ccols] - eu[crows, ccols]).mean(),
                    np.abs(v[crows, ccols] - ev[crows, ccols]).mean(),
                )
                assert cerr < 2.5, f"frame {i} {name}: |U/V err| mean {cerr:.2f}"
        # Green stroke: chroma of fully covered blocks is pure green.
        _, gu, gv = (int(c) for c in rgb_to_yuv(0, 255, 0))
        stroke_u, stroke_v = u[150:151, 160:440].mean(), v[150:151, 160:440].mean()
        assert abs(stroke_u - gu) < 6 and abs(stroke_v - gv) < 6, (stroke_u, stroke_v)
        # Outside every region (below the frame-mark band): the untouched background.
        mask = np.ones((1080, 1920), bool)
        mask[:BAND] = False
        for rect in (sample.COVER_RECT, sample.LOGO_RECT, sample.RECT_RECT, sample.FONT_RECT):
            rows, cols = area(rect)
            mask[max(rows.start - 4, 0) : rows.stop + 4, max(cols.start - 4, 0) : cols.stop + 4] = 0
        out_err = np.abs(y - bg_y)[mask]
        report.append(f"frame {i} outside: |Y err| mean {out_err.mean():.2f}")
        assert out_err.mean() < 1.5, report[-1]
    # Alpha-blended logo pixels against the formula, one by one (mid-alpha, away from edges).
    y = frames[FRAMES // 2][0]
    logo = sample.make_logo()
    rows, cols = area(sample.LOGO_RECT)
    a = (logo[..., 3].astype(np.int64) * 0x7F + 127) // 255
    sel = (a > 20) & (a < 110)
    sel[:, :52] = False  # the cover lies over the logo's left half
    err = np.abs(y[rows, cols] - ey[rows, cols])[sel]
    report.append(f"logo blended pixels (n={sel.sum()}): |Y err| mean {err.mean():.2f}")
    assert sel.sum() > 500 and err.mean() < 3.0, report[-1]

    # -- the clock: match each frame's clock box against renderings of candidate times ----------
    candidates = [
        time.strftime(sample.TIME_FORMAT, time.localtime(s))
        for s in range(int(t0) - 2, int(t1) + FRAMES // 25 + 3)
    ]
    renders = np.stack([_clock_luma(c) for c in candidates])
    varying = (renders != renders[0]).any(axis=0)  # the pixels that tell the times apart
    rows, cols = area(sample.FONT_RECT)
    shown = []
    margins = []
    for y, _, _ in frames:
        box = y[rows, cols]
        diffs = np.abs(renders[:, varying] - box[varying][None]).mean(axis=1)
        order = np.argsort(diffs)
        shown.append(int(order[0]))
        margins.append((float(diffs[order[0]]), float(diffs[order[1]])))
    best = max(m[0] for m in margins)
    gap = min(m[1] - m[0] for m in margins)
    changes = [i for i in range(1, FRAMES) if shown[i] != shown[i - 1]]
    report.append(
        f"clock: {len(set(shown))} times shown, first {candidates[shown[0]]!r}, changes at "
        f"frames {changes}; worst match {best:.2f}, smallest gap to the next candidate {gap:.2f}"
    )
    print("\n".join(report))
    assert best < 6.0 and gap > 8.0  # every frame is one rendering, clearly not another
    assert all(shown[c] - shown[c - 1] == 1 for c in changes)  # +1 s at each change
    assert len(changes) >= FRAMES // 25 - 1
    assert all(b - a == 25 for a, b in pairwise(changes))  # once per second of video
    first_second = int(t0) - 2 + shown[0]  # candidates are consecutive seconds
    assert t0 - 2 <= first_second <= t1 + 1
