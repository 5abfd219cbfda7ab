"""Text and clock overlays: font discovery and fallback, TrueType rendering, once-a-second
updates that keep the region (handle, rect, pool block) instead of reallocating it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from imp.osd import ClockOverlay, GroupRegionAttr, TextOverlay, TextRenderer, get_osd
from imp.osd import text as text_mod


@pytest.fixture
def group() -> Iterator[object]:
    from imp.kernel import sim_overrides
    from imp.system import get_system

    sim_overrides(clock="virtual")
    get_system().init()
    try:
        get_osd().set_pool_size(1 << 20)
        grp = get_osd().create_group(0)
        grp.start()
        yield grp
    finally:
        get_system().exit()


def test_font_discovery_env_and_fallback(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    found = text_mod.find_font()
    print(f"system font: {found}")
    monkeypatch.setenv(text_mod.FONT_ENV, str(tmp_path / "missing.ttf"))
    assert text_mod.find_font() == found  # a wrong setting falls back to the search
    if found is not None:
        monkeypatch.setenv(text_mod.FONT_ENV, found)
        assert text_mod.find_font() == found
    monkeypatch.delenv(text_mod.FONT_ENV)
    monkeypatch.setattr(text_mod, "FONT_CANDIDATES", ())
    assert text_mod.find_font() is None
    # No font on the machine: Pillow's built-in scalable font still renders.
    r = TextRenderer((120, 30), background=0xFF000000)
    px = r.render("12:34:56")
    assert r.font_path is None and (px[..., 2] > 128).sum() > 50  # white-ish glyph pixels


def test_renderer_is_deterministic_and_reuses_its_buffer() -> None:
    r = TextRenderer((320, 34), background=0xFF000000)
    first = r.render("2024-01-02 03:04:05").copy()
    again = r.render("2024-01-02 03:04:05")
    assert np.array_equal(first, again)
    assert r.render("x") is again  # one buffer
    assert first.shape == (34, 320, 4) and (first[..., 3] == 255).all()  # opaque box
    lit = first[..., :3].max(axis=2) > 200
    assert 300 < lit.sum() < 4000  # glyphs, not a blank or full box
    assert r.measure("2024-01-02 03:04:05")[0] % 2 == 0  # even width for NV12 chroma
    transparent = TextRenderer((100, 20)).render("A")
    assert transparent[0, 0, 3] == 0 and transparent[..., 3].max() == 255


def test_text_overlay_updates_in_place_and_resizes_only_when_needed(group: object) -> None:
    osd = get_osd()
    t = TextOverlay(group, (10, 20), "host")  # type: ignore[arg-type]
    handle, rect = t.region.handle, osd.region(t.region).attr.rect
    t.set_text("hoss")  # same size in a monospaced font: UpdateRgnAttrData
    assert osd.region(handle).attr.rect == rect and t.region.handle == handle
    t.set_text("a much longer host name")  # new size: SetRgnAttr with a new rect
    new_rect = osd.region(handle).attr.rect
    assert new_rect[:2] == rect[:2] and new_rect[2] > rect[2]
    assert t.region.handle == handle and t.updates == 2
    t.close()
    assert handle not in osd.regions


def test_clock_ticks_once_per_second_without_reallocating(group: object) -> None:
    osd = get_osd()
    now = [1_700_000_000.2]
    clock = ClockOverlay(
        group,  # type: ignore[arg-type]
        size=(320, 34),
        clock=lambda: now[0],
        attr=GroupRegionAttr(show=True, layer=3),
        rmem=True,
        background=0xFF000000,
    )
    region = osd.region(clock.region)
    block, rect, handle = region.block, region.attr.rect, region.handle
    assert block is not None and clock.text == clock.format_time(now[0])
    changes = []
    for step in range(40):  # 4 s in 100 ms steps, as prudynt's OSD thread ticks
        now[0] = 1_700_000_000.2 + step * 0.1
        changes.append(clock.tick())
    assert sum(changes) == 4  # once per second
    assert [i for i, c in enumerate(changes) if c] == [8, 18, 28, 38]
    region = osd.region(handle)
    assert region.block is block and region.attr.rect == rect  # same pool block, same rect
    assert osd.pool_used == 320 * 34 * 4
    assert clock.updates == 4
    # The pixels in the region are the clock's current text.
    y = np.zeros((60, 400), np.uint8)
    uv = np.full((30, 400), 128, np.uint8)
    group.draw_onto(y, uv)  # type: ignore[attr-defined]
    expected = TextRenderer((320, 34), background=0xFF000000).render(clock.text)
    white = expected[..., :3].min(axis=2) == 255
    assert (y[10:44, 10:330][white] == 235).all() and (y[10:44, 10:330][~white] < 235).all()
    clock.close()


def test_clock_thread_updates_each_wall_second(group: object) -> None:
    clock = ClockOverlay(group, size=(200, 24))  # type: ignore[arg-type]
    clock.start()
    try:
        first = clock.updates
        deadline = time.monotonic() + 2.5
        while clock.updates == first and time.monotonic() < deadline:
            time.sleep(0.01)
        changed_at = time.time()
        assert clock.updates == first + 1  # a second boundary passed: one update
        # ... right after the boundary (the thread sleeps until it, plus 2 ms)
        assert changed_at % 1.0 < 0.5
        assert clock.text in (clock.format_time(changed_at), clock.format_time(changed_at - 0.5))
    finally:
        clock.close()
    assert clock._thread is None
