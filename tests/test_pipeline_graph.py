"""The Pythonic pipeline: nodes composed with objects, closed in every order, closed handles."""

from __future__ import annotations

import itertools
import threading
import time

import numpy as np
import pytest

import imp
from imp.encoder import get_encoder
from imp.framesource import get_framesource
from imp.ivs import get_ivs
from imp.osd import get_osd
from imp.output.packet import Packet
from imp.pipeline import Node
from imp.system import get_system
from kernel_stubs import read_frame_mark


class ListOutput:
    """The smallest Output: keeps every packet."""

    def __init__(self) -> None:
        self.packets: list[Packet] = []
        self.closed = False

    def write(self, packet: Packet) -> None:
        self.packets.append(packet)

    def close(self) -> None:
        self.closed = True


def decode(data: bytes, fmt: str) -> list[np.ndarray]:
    """Luma planes of every picture of a raw stream, decoded with PyAV."""
    import io

    import av

    with av.open(io.BytesIO(data), mode="r", format=fmt) as container:
        return [f.to_ndarray(format="gray") for f in container.decode(video=0)]


def _threads() -> set[str]:
    return {t.name for t in threading.enumerate() if t.name.startswith("imp-")}


def _build(cam: imp.Camera, out: ListOutput) -> dict[str, Node]:
    main = cam.framesource(size=(640, 360))
    osd = cam.overlay(main)
    osd.cover((0, 100, 64, 64), colour=0xFFFFFFFF)
    h264 = cam.encoder(osd, imp.H264(bitrate_kbps=300, gop=10), output=out)
    snap = cam.encoder(h264, imp.JPEG(quality=50, fps=5))
    motion = cam.motion(main, sense=2)
    return {"main": main, "osd": osd, "h264": h264, "snap": snap, "motion": motion}


ORDERS = list(itertools.permutations(["main", "osd", "h264", "motion"]))


@pytest.mark.parametrize("order", ORDERS)
def test_close_in_any_order_leaves_no_bind_buffer_or_thread(order: tuple[str, ...]) -> None:
    imp.kernel.sim_overrides(clock="virtual")
    with imp.open() as cam:
        before = _threads()
        out = ListOutput()
        nodes = _build(cam, out)
        while len(out.packets) < 10:
            threading.Event().wait(0.01)
        main = nodes["main"]
        assert isinstance(main, imp.FrameSourceChannel)
        fs_pool = main.channel._pool  # test instrument: the driver buffers
        for name in order:
            nodes[name].close()
            assert nodes[name].closed
            with pytest.raises(imp.Closed, match="closed"):
                nodes[name].check()
        nodes["snap"].close()
        assert get_system().graph.bindings() == []
        assert not get_encoder().channels and not get_encoder().groups
        assert not get_osd().groups and not get_ivs().groups and not get_ivs().channels
        assert not get_framesource().channels
        assert fs_pool is not None and all(f.refcount == 0 for f in fs_pool.frames)
        assert _threads() <= before | {"imp-osd-clock"}
        assert out.closed
        assert cam.nodes == ()


def test_closed_handle_never_reaches_the_channel_that_replaced_it() -> None:
    imp.kernel.sim_overrides(clock="virtual")
    with imp.open() as cam:
        main = cam.framesource(0, size=(640, 360))
        old = cam.encoder(main, imp.H264(bitrate_kbps=300), chn=0)
        old.close()
        new = cam.encoder(main, imp.H265(bitrate_kbps=300), chn=0)  # same channel number
        for use in (old.get_stream, old.request_idr, old.fileno, lambda: old.attr):
            with pytest.raises(imp.Closed, match="is closed"):
                use()
        with new.get_stream() as s:
            assert s.codec.name == "H265"
        main.close()
        with pytest.raises(imp.Closed):
            main.get_frame()
        # the encoder outlives its closed source, detached
        assert new.source is None and not new.closed
    assert new.closed  # the camera closed it (System_Exit would have too)


def test_graph_fs_osd_h264_into_an_output_with_marks_and_overlay() -> None:
    imp.kernel.sim_overrides(clock="virtual")
    out = ListOutput()
    with imp.open() as cam:
        main = cam.framesource(size=(640, 360))
        osd = cam.overlay(main)
        box = osd.cover((320, 200, 64, 64), colour=0xFFFFFFFF)
        h264 = cam.encoder(osd, imp.H264(bitrate_kbps=800, gop=25), output=out)
        cam.run(seconds=2)
        box.move(100, 200)
        assert box.position == (100, 200)
        drops = h264.drops
    assert out.closed and len(out.packets) == 50
    assert out.packets[0].keyframe and out.packets[0].codec == "h264"
    assert all(b.pts - a.pts == 40_000 for a, b in itertools.pairwise(out.packets))
    assert drops == {"behind": 0, "buffer_full": 0, "upstream": 0, "output_errors": 0}
    frames = decode(b"".join(p.data for p in out.packets), "h264")
    assert len(frames) == 50
    y = frames[10]
    marks = [read_frame_mark(f) for f in frames]
    assert np.all(np.diff(marks) == 1)
    assert y[210:250, 330:370].mean() > 200  # the white cover is in the pixels


def test_refused_settings_say_what_to_fix() -> None:
    imp.kernel.sim_overrides(clock="virtual")
    with pytest.raises(imp.InvalidArgument, match=r"1\.\.100"):
        imp.JPEG(quality=0)
    with imp.open() as cam:
        with pytest.raises(imp.InvalidArgument, match="above the sensor"):
            cam.framesource(size=(640, 360), fps=30)
        with pytest.raises(imp.InvalidArgument, match="larger than"):
            cam.framesource(size=(3840, 2160))
        main = cam.framesource(size=(640, 360), fps=25)
        with pytest.raises(imp.InvalidArgument, match="above the source"):
            cam.encoder(main, imp.H264(fps=30))
        assert not get_encoder().channels


@pytest.mark.parametrize("where", ["top", "bottom", "off"])
def test_frame_mark_band_can_move_or_go(where: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMP_SIM_MARK", where)
    imp.kernel.sim_overrides(clock="virtual")
    with imp.open() as cam:
        main = cam.framesource(size=(640, 360))
        with main.get_frame() as f1, main.get_frame() as f2:
            y1, y2 = f1.y.copy(), f2.y.copy()
    band = 16  # 640 / 40 cells
    # the band is pure black/white cells (16/235); the scene never is
    top_marked = bool(np.isin(y1[:band], (16, 235)).all())
    bottom_marked = bool(np.isin(y1[-band:], (16, 235)).all())
    if where == "off":
        with pytest.raises(ValueError, match="no frame mark"):
            read_frame_mark(y1)
    else:
        assert read_frame_mark(y2) > read_frame_mark(y1)
        assert (top_marked, bottom_marked) == (where == "top", where == "bottom")


def test_one_selector_loop_serves_streams_and_motion_and_the_bus_reports() -> None:
    import selectors

    imp.kernel.sim_overrides(clock="virtual")
    states: list[imp.Event] = []
    with imp.open() as cam:
        cam.bus.subscribe(lambda e: states.append(e) if e.kind is imp.EventKind.STATE else None)
        main, lores = cam.streams(main=(640, 360), lores=(320, 180))
        assert lores is not None
        h264 = cam.encoder(main, imp.H264(bitrate_kbps=300))
        motion = cam.motion(lores, rois=[(0, 20, 320, 160)])
        assert h264.state is imp.State.RUNNING and motion.state is imp.State.RUNNING
        sel = selectors.DefaultSelector()
        sel.register(h264.fileno(), selectors.EVENT_READ, "stream")
        sel.register(motion.fileno(), selectors.EVENT_READ, "motion")
        seen = {"stream": 0, "motion": 0}
        while min(seen.values()) < 3:
            for key, _ in sel.select(timeout=10):
                if key.data == "stream":
                    h264.get_stream(timeout=0).release()
                else:
                    event = motion.get_event(timeout=0)
                    assert event.rois == (0,) and event.seq >= 0
                seen[key.data] += 1
        sel.close()
        h264.stop()
        assert h264.state is imp.State.PAUSED
        assert h264.flush() >= 0
        h264.close()
    changes = [(e.source.split()[0], e.detail) for e in states]
    assert ("<EncoderHandle", "ready -> running") in changes
    assert ("<EncoderHandle", "running -> paused") in changes
    assert ("<EncoderHandle", "paused -> closed") in changes
    assert ("<MotionDetector", "running -> closed") in changes


def test_overlay_regions_are_objects_you_add_move_hide_and_remove() -> None:
    imp.kernel.sim_overrides(clock="virtual")
    out = ListOutput()
    green = np.zeros((32, 32, 4), np.uint8)
    green[..., 1] = 255  # BGRA: opaque pure green
    green[..., 3] = 255
    with imp.open() as cam:
        main = cam.framesource(size=(640, 360))
        osd = cam.overlay(main)
        cover = osd.cover((64, 64, 64, 64), colour=0xFFFFFFFF)
        osd.image(green, position=(400, 64))
        text = osd.text("HELLO", position=(16, 200))
        frame_box = osd.rect((300, 200, 100, 100), colour=0xFF000000, width=4)
        cam.encoder(osd, imp.H264(bitrate_kbps=1500, gop=25, qp=20), output=out)
        cam.wait(1)
        seen_before = len(out.packets)
        cover.hide()
        text.set_text("WORLD!")
        frame_box.move(100, 200)
        frame_box.remove()
        with pytest.raises(imp.Closed):
            frame_box.show()
        cam.wait(1)
        assert len(osd.regions) == 3
        osd.close()
        with pytest.raises(imp.Closed):
            cover.show()
    frames = decode(b"".join(p.data for p in out.packets), "h264")
    first, last = frames[seen_before - 1], frames[-1]
    assert first[72:120, 72:120].mean() > 220  # the white cover, shown
    assert last[72:120, 72:120].mean() < 200  # ... hidden
    for y in (first, last):
        assert abs(float(y[70:90, 408:424].mean()) - 145) < 12  # pure green: Y' = 145
        glyphs = y[200:230, 16:120]
        assert (glyphs > 200).mean() > 0.03 and (glyphs < 40).mean() > 0.03
    assert first[204:296, 300:304].mean() < 40  # the black outline's left edge, drawn


def test_camera_isp_is_the_tuning_object() -> None:
    imp.kernel.sim_overrides(clock="virtual")
    with imp.open() as cam:
        assert cam.isp is imp.isp.tuning()
        cam.isp.brightness = 140
        assert cam.get_control("brightness") == 140


def test_every_node_is_a_source_fs_motion_osd_encoder_chain() -> None:
    imp.kernel.sim_overrides(clock="virtual")
    out = ListOutput()
    with imp.open() as cam:
        lores = cam.framesource(size=(640, 360))
        motion = cam.motion(lores)
        osd = cam.overlay(motion)  # IVS group output -> OSD
        osd.cover((0, 300, 32, 32), colour=0xFFFFFFFF)
        h264 = cam.encoder(osd, imp.H264(bitrate_kbps=500), output=out)
        assert h264.frame_format() == ((640, 360), (25, 1))
        cam.run(seconds=1)
        # the IVS group passes a frame on before its detector thread counts it: wait for that
        deadline = time.monotonic() + 30
        while motion.analysed < 25 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert motion.analysed >= 25
        # the OSD drew on copies (the IVS channel shares each frame) and lost none of them
        assert osd.group.stats.copied > 0 and osd.group.stats.drawn >= 25
        assert osd.drops == {"behind": 0, "no_buffer": 0} and motion.drops == {"behind": 0}
        assert osd.flush() >= 0 and motion.flush() >= 0
    frames = decode(b"".join(p.data for p in out.packets), "h264")
    assert len(frames) == 25 and frames[-1][304:328, 4:28].mean() > 220
    assert np.all(np.diff([read_frame_mark(y) for y in frames]) == 1)
