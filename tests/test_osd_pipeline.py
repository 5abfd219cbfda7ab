"""OSD groups in the frame graph: drawing in place when the group is a frame's only holder, on a
copy when another branch holds it too (that branch never sees OSD pixels), exact pixels through
the pipeline, dropping (and counting) when the worker falls behind, Start/Stop, teardown."""

from __future__ import annotations

import threading
import time
from itertools import pairwise
from typing import Any

import numpy as np
import pytest

from imp.capi import *
from tests.conftest import running_system
from tests.test_osd_reference import RefGroupAttr, RefRegion, ref_draw

W, H = 320, 180


def _fs_attr(nr_vbs: int = 2) -> IMPFSChnAttr:
    a = IMPFSChnAttr()
    a.picWidth, a.picHeight, a.pixFmt = W, H, PIX_FMT_NV12
    a.outFrmRateNum, a.outFrmRateDen, a.nrVBs, a.type = 25, 1, nr_vbs, FS_PHY_CHANNEL
    return a


class _Sink:
    """A downstream group (device ENC/IVS): copies what it is given. With ``hold`` it keeps
    frames (until the next one arrives, or until :meth:`release_upto`) and checks on release
    that nobody changed them meanwhile."""

    num_outputs = 0

    def __init__(self, device: int, group: int, hold: str = "") -> None:
        self.device, self.group, self.hold = device, group, hold
        self.frames: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self.pools: set[str] = set()
        self.changed_while_held = 0
        self.lock = threading.Lock()
        self.held: dict[int, Any] = {}
        self.downstream_of: _Sink | None = None  # tell this sink what we received

    def on_frame(self, frame: Any) -> None:
        with self.lock:
            self.frames[frame.timestamp] = (frame.y.copy(), frame.uv.copy())
            self.pools.add(frame.pool.name)
            if self.hold:
                self.held[frame.timestamp] = frame
        if self.hold == "next":
            self.release_upto(frame.timestamp - 1)
        elif not self.hold:
            frame.release()
        if self.downstream_of is not None:
            self.downstream_of.release_upto(frame.timestamp)

    def release_upto(self, timestamp: float) -> None:
        with self.lock:
            done = [f for ts, f in self.held.items() if ts <= timestamp]
            for f in done:
                del self.held[f.timestamp]
        for frame in done:
            y, uv = self.frames[frame.timestamp]
            if not (np.array_equal(frame.y, y) and np.array_equal(frame.uv, uv)):
                self.changed_while_held += 1
            frame.release()

    def release_all(self) -> None:
        self.release_upto(float("inf"))


def _regions() -> list[tuple[RefRegion, RefGroupAttr]]:
    rng = np.random.default_rng(4)
    logo = rng.integers(0, 256, (21, 33, 4), dtype=np.uint8)
    return [
        (RefRegion("cover", (101, 61, 170, 120), 0xFF000000), RefGroupAttr(galpha=True, fg=0x7F)),
        (RefRegion("pic", (151, 99, 183, 119), pixels=logo), RefGroupAttr(galpha=True, layer=2)),
        (RefRegion("rect", (31, 51, 90, 110), 0xFF00FF00, 5), RefGroupAttr(layer=1)),
        (RefRegion("line", (200, 150, 300, 70), 0xFFFF0000, 3), RefGroupAttr(layer=3)),
    ]


def _setup_osd(regions: list[tuple[RefRegion, RefGroupAttr]], group: int = 0) -> list[Any]:
    keep = []
    for reg, g in regions:
        a = IMPOSDRgnAttr()
        a.type = {"cover": OSD_REG_COVER, "rect": OSD_REG_RECT, "line": OSD_REG_LINE}.get(
            reg.kind, OSD_REG_PIC
        )
        a.rect.p0.x, a.rect.p0.y, a.rect.p1.x, a.rect.p1.y = reg.rect
        a.fmt = reg.fmt
        if reg.kind == "pic":
            assert reg.pixels is not None
            keep.append(reg.pixels)
            a.data.picData.pData = reg.pixels.ctypes.data
        else:
            a.data.lineRectData.color, a.data.lineRectData.linewidth = reg.colour, reg.linewidth
        h = IMP_OSD_CreateRgn(a)
        c = IMPOSDGrpRgnAttr()
        c.show, c.gAlphaEn, c.fgAlhpa, c.layer = int(g.show), int(g.galpha), g.fg, g.layer
        assert h >= 0 and IMP_OSD_RegisterRgn(h, group, c) == 0
    return keep


def _bind(src: tuple[int, int, int], dst: tuple[int, int, int]) -> None:
    assert IMP_System_Bind(IMPCell(*src), IMPCell(*dst)) == 0


def _unbind(src: tuple[int, int, int], dst: tuple[int, int, int]) -> None:
    assert IMP_System_UnBind(IMPCell(*src), IMPCell(*dst)) == 0


def _wait(cond: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def _stats(group: int = 0) -> Any:
    from imp.osd import get_osd

    return get_osd().group(group).stats


def _only_holder(frames: int, chain: tuple[str, ...] = ("osd",)) -> tuple[list[Any], _Sink]:
    """FS0 -> ``chain`` -> a sink standing for ENC0, until the sink has ``frames`` frames:
    (each OSD group's stats, the sink). ``chain`` names the groups in order: "osd" (the next
    OSD group, an opaque cover of its own) or "ivs" (IVS group 0, no channel: it passes frames
    on)."""
    cells = []
    with running_system("virtual", sensor_size=(W, H)):
        from imp.system import get_system

        sink = _Sink(DEV_ID_ENC, 0)
        get_system().graph.register(sink)
        assert IMP_FrameSource_CreateChn(0, _fs_attr()) == 0
        osd_groups = 0
        for kind in chain:
            if kind == "ivs":
                assert IMP_IVS_CreateGroup(0) == 0
                cells.append((DEV_ID_IVS, 0, 0))
                continue
            g = osd_groups
            osd_groups += 1
            assert IMP_OSD_CreateGroup(g) == 0
            box = (100 + 20 * g, 60, 159 + 20 * g, 99)
            _setup_osd([(RefRegion("cover", box, 0xFFFFFFFF), RefGroupAttr())], g)
            assert IMP_OSD_Start(g) == 0
            cells.append((DEV_ID_OSD, g, 0))
        links = list(pairwise([(DEV_ID_FS, 0, 0), *cells, (DEV_ID_ENC, 0, 0)]))
        for src, dst in links:
            _bind(src, dst)
        assert IMP_FrameSource_EnableChn(0) == 0
        _wait(lambda: len(sink.frames) >= frames)
        assert IMP_FrameSource_DisableChn(0) == 0
        stats = [_stats(g) for g in range(osd_groups)]
        for src, dst in reversed(links):
            _unbind(src, dst)
        for g in range(osd_groups):
            assert IMP_OSD_DestroyGroup(g) == 0
        if "ivs" in chain:
            assert IMP_IVS_DestroyGroup(0) == 0
        assert IMP_FrameSource_DestroyChn(0) == 0
    return stats, sink


def _slow_to_let_go(monkeypatch: pytest.MonkeyPatch, device: int) -> None:
    """Groups of ``device`` stall 20 ms after each dispatch, before they drop the reference
    they handed the frame on with (a loaded host)."""
    from imp.core.graph import Graph

    dispatch = Graph.dispatch

    def slow(self: Graph, src: tuple[int, int, int], frame: Any) -> int:
        n = dispatch(self, src, frame)
        if src[0] == device:
            time.sleep(0.02)
        return n

    monkeypatch.setattr(Graph, "dispatch", slow)


def test_only_holder_draws_in_place_and_makes_no_copy() -> None:
    [stats], sink = _only_holder(60)
    print(
        f"only holder: {stats.drawn} frames drawn, {stats.in_place} in place, {stats.copied} "
        f"copies, mean draw {stats.mean_draw_ms:.3f} ms"
    )
    assert stats.copied == 0 and stats.in_place == stats.drawn >= 60
    assert sink.pools == {"fs0"}  # the FrameSource's own buffers went downstream
    for y, uv in sink.frames.values():
        assert (y[60:100, 100:160] == 235).all() and (uv[30:50, 100:160] == 128).all()


def test_only_holder_makes_no_copy_when_the_capture_thread_is_slow_to_let_go(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The capture thread drops its own reference after the fan-out; on a loaded host that can
    come long after the OSD worker has the frame. The OSD waits for it (Frame.transit) instead
    of guessing: with a 2 ms guess, a 20 ms stall made it copy every frame it alone held (the
    2-hour soak's 3 MiB step: the copy pool made mid-run)."""
    _slow_to_let_go(monkeypatch, DEV_ID_FS)
    [stats], sink = _only_holder(20)
    assert stats.copied == 0 and stats.in_place == stats.drawn >= 20, stats
    assert sink.pools == {"fs0"}  # the FrameSource's own buffers went downstream


@pytest.mark.parametrize("chain", [("osd", "osd"), ("ivs", "osd"), ("osd", "ivs", "osd")])
def test_only_holder_makes_no_copy_when_a_group_before_it_is_slow_to_let_go(
    chain: tuple[str, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every publisher marks the reference it hands a frame on with (Frame.handing_on), not
    only the capture thread: an OSD group feeding another OSD (directly or through an IVS
    group) drops its reference after its dispatch, in its own thread; stalled there, the next
    OSD used to take it for a second holder and copy every frame. Publishers nest (IVS passes
    frames on inside the capture thread's fan-out), so the mark is a count."""
    _slow_to_let_go(monkeypatch, DEV_ID_OSD)
    _slow_to_let_go(monkeypatch, DEV_ID_IVS)
    stats, sink = _only_holder(20, chain)
    for s in stats:
        assert s.copied == 0 and s.in_place == s.drawn >= 20, s
    assert sink.pools == {"fs0"}  # the FrameSource's own buffers went downstream


@pytest.mark.parametrize("hold", ["until-drawn", "next"])
def test_fan_out_branch_never_sees_osd_pixels_and_the_osd_branch_is_exact(hold: str) -> None:
    """``until-drawn``: the other branch holds each frame until the OSD branch has delivered
    it, so the OSD must draw on a copy. ``next``: it lets go when the next frame comes, which
    the OSD may wait for (its grace period) and then draw in place — either way the other
    branch must never see an overlay pixel."""
    regions = _regions()
    with running_system("virtual", sensor_size=(W, H)):
        from imp.system import get_system

        drawn = _Sink(DEV_ID_ENC, 0)  # FS0 out0 -> OSD0 -> ENC0
        other = _Sink(DEV_ID_IVS, 0, hold=hold)  # FS0 out1 -> "IVS0"
        if hold == "until-drawn":
            drawn.downstream_of = other
        get_system().graph.register(drawn)
        get_system().graph.register(other)
        assert IMP_FrameSource_CreateChn(0, _fs_attr(nr_vbs=3)) == 0
        assert IMP_OSD_CreateGroup(0) == 0
        keep = _setup_osd(regions)
        assert IMP_OSD_Start(0) == 0
        _bind((DEV_ID_FS, 0, 0), (DEV_ID_OSD, 0, 0))
        _bind((DEV_ID_OSD, 0, 0), (DEV_ID_ENC, 0, 0))
        _bind((DEV_ID_FS, 0, 1), (DEV_ID_IVS, 0, 0))
        assert IMP_FrameSource_EnableChn(0) == 0
        _wait(lambda: len(drawn.frames) >= 40)
        assert IMP_FrameSource_DisableChn(0) == 0
        other.release_all()
        stats = _stats()
        for src, dst in (
            ((DEV_ID_OSD, 0, 0), (DEV_ID_ENC, 0, 0)),
            ((DEV_ID_FS, 0, 0), (DEV_ID_OSD, 0, 0)),
            ((DEV_ID_FS, 0, 1), (DEV_ID_IVS, 0, 0)),
        ):
            _unbind(src, dst)
        assert IMP_OSD_DestroyGroup(0) == 0
        assert IMP_FrameSource_DestroyChn(0) == 0
    del keep
    placed = [(i, reg, g) for i, (reg, g) in enumerate(regions)]
    common = sorted(set(drawn.frames) & set(other.frames))
    print(
        f"fan-out ({hold}): {stats.drawn} frames drawn, {stats.copied} on copies, "
        f"{stats.in_place} in place; {len(common)} frames seen by both branches, "
        f"{other.changed_while_held} changed under the other branch"
    )
    assert other.changed_while_held == 0
    assert other.pools == {"fs0"}
    if hold == "until-drawn":
        # Only frames still queued when release_all() let go at the end may be drawn in place:
        # at most the channel's 3 buffers.
        assert stats.copied >= 30 and stats.in_place <= 3
        assert "osd0-copy" in drawn.pools
    assert len(common) >= 30
    for ts in common:
        pristine_y, pristine_uv = other.frames[ts]
        ey, euv = ref_draw(pristine_y, pristine_uv, placed)
        y, uv = drawn.frames[ts]
        assert np.array_equal(y, ey) and np.array_equal(uv, euv), f"frame {ts} differs"
        assert not np.array_equal(y, pristine_y)  # and the overlay is really there


def test_worker_behind_drops_oldest_and_counts_every_frame() -> None:
    from imp.framesource import get_framesource
    from imp.osd import get_osd

    with running_system("virtual", sensor_size=(W, H)):
        from imp.system import get_system

        sink = _Sink(DEV_ID_ENC, 0)
        get_system().graph.register(sink)
        assert IMP_FrameSource_CreateChn(0, _fs_attr(nr_vbs=8)) == 0
        assert IMP_OSD_CreateGroup(0) == 0
        _setup_osd(_regions()[:1])
        assert IMP_OSD_Start(0) == 0
        get_osd().group(0).add_frame_hook(lambda ts: time.sleep(0.02))  # a slow overlay
        _bind((DEV_ID_FS, 0, 0), (DEV_ID_OSD, 0, 0))
        _bind((DEV_ID_OSD, 0, 0), (DEV_ID_ENC, 0, 0))
        assert IMP_FrameSource_EnableChn(0) == 0
        _wait(lambda: len(sink.frames) >= 20)
        pool = get_framesource().channel(0)._pool
        assert IMP_FrameSource_DisableChn(0) == 0
        stats = get_osd().group(0).stats
        # Every frame received is accounted for once the worker has emptied its queue.
        _wait(lambda: stats.received == stats.drawn + stats.passed + stats.dropped_behind)
        _unbind((DEV_ID_OSD, 0, 0), (DEV_ID_ENC, 0, 0))
        _unbind((DEV_ID_FS, 0, 0), (DEV_ID_OSD, 0, 0))
        assert IMP_OSD_DestroyGroup(0) == 0
        assert pool is not None and pool.destroyed  # every buffer came back to the source
        assert IMP_FrameSource_DestroyChn(0) == 0
    print(
        f"behind: {stats.received} received, {stats.drawn} drawn, "
        f"{stats.dropped_behind} dropped (queue full)"
    )
    assert stats.dropped_behind > 0 and stats.dropped_no_buffer == 0
    assert stats.drawn == len(sink.frames)


def test_stop_passes_frames_untouched_and_start_draws_again() -> None:
    with running_system("virtual", sensor_size=(W, H)):
        from imp.system import get_system

        sink = _Sink(DEV_ID_ENC, 0)
        get_system().graph.register(sink)
        assert IMP_FrameSource_CreateChn(0, _fs_attr()) == 0
        assert IMP_OSD_CreateGroup(0) == 0
        _setup_osd(_regions())
        _bind((DEV_ID_FS, 0, 0), (DEV_ID_OSD, 0, 0))
        _bind((DEV_ID_OSD, 0, 0), (DEV_ID_ENC, 0, 0))
        assert IMP_FrameSource_EnableChn(0) == 0
        _wait(lambda: _stats().passed >= 10)  # not started yet: passed through
        assert _stats().drawn == 0
        assert IMP_OSD_Start(0) == 0
        _wait(lambda: _stats().drawn >= 10)
        assert IMP_OSD_Stop(0) == 0
        passed = _stats().passed
        _wait(lambda: _stats().passed >= passed + 10)
        # Leave everything running and bound: System_Exit must stop the worker (the conftest
        # checks that no imp-* thread survives) and hand every frame back.


def test_clock_overlay_follows_frame_timestamps_in_the_pipeline() -> None:
    from imp.osd import ClockOverlay, get_osd

    with running_system("virtual", sensor_size=(W, H)):
        from imp.system import get_system

        sink = _Sink(DEV_ID_ENC, 0)
        get_system().graph.register(sink)
        assert IMP_FrameSource_CreateChn(0, _fs_attr()) == 0
        grp = get_osd().create_group(0)
        grp.start()
        shown: list[tuple[int, str]] = []
        with ClockOverlay(grp, position=(0, 60), size=(200, 24)) as clock:
            clock.follow_frames()
            grp.add_frame_hook(lambda ts: shown.append((ts, clock.text)))
            _bind((DEV_ID_FS, 0, 0), grp.cell)
            _bind(grp.cell, (DEV_ID_ENC, 0, 0))
            assert IMP_FrameSource_EnableChn(0) == 0
            _wait(lambda: len(shown) >= 80)
            assert IMP_FrameSource_DisableChn(0) == 0
            updates = clock.updates
        assert len(grp._hooks) == 1  # closing the overlay removed its hook
    texts = [t for _, t in shown[:80]]
    changes = [i for i in range(1, len(texts)) if texts[i] != texts[i - 1]]
    print(f"clock: {len(set(texts))} distinct seconds over 80 frames, changes at {changes}")
    # 80 frames at 25 fps = 3.2 s of video: the text changes every 25 frames exactly.
    assert len(changes) >= 3 and all(b - a == 25 for a, b in pairwise(changes))
    assert updates <= len(set(texts)) + 1  # re-rendered only when the second changed
