"""What a node delivers and tells: rotated sizes reach the encoder, end of stream and format
changes reach the bus."""

from __future__ import annotations

import io
import itertools

import av
import pytest

import imp
from imp.output.packet import Packet


class ListOutput:
    def __init__(self) -> None:
        self.packets: list[Packet] = []

    def write(self, packet: Packet) -> None:
        self.packets.append(packet)

    def close(self) -> None:
        pass


def _decode(data: bytes) -> list[av.VideoFrame]:
    with av.open(io.BytesIO(data), mode="r", format="h264") as container:
        return list(container.decode(video=0))


@pytest.mark.parametrize("degrees", [90, 270])
def test_rotated_channel_encodes_at_the_turned_size(degrees: int) -> None:
    imp.kernel.sim_overrides(clock="virtual")
    out = ListOutput()
    with imp.open() as cam:
        main = cam.framesource(size=(640, 360), rotate=degrees)
        assert main.size == (360, 640) and main.rotation == degrees
        assert main.frame_format()[0] == (360, 640)
        h264 = cam.encoder(main, imp.H264(bitrate_kbps=500, gop=25), output=out)
        cam.run(seconds=1)
        assert h264.frame_format()[0] == (360, 640)
    frames = _decode(b"".join(p.data for p in out.packets))
    assert len(frames) == 25
    assert {(f.width, f.height) for f in frames} == {(360, 640)}
    assert {(p.width, p.height) for p in out.packets if p.keyframe} == {(360, 640)}


def test_a_refused_rotation_leaves_no_channel() -> None:
    imp.kernel.sim_overrides(clock="virtual")
    with imp.open() as cam:
        with pytest.raises(imp.errors.InvalidArgument, match="0, 90 or 270"):
            cam.framesource(size=(640, 360), rotate=180)
        assert cam.framesource(size=(640, 360)).chn == 0  # the number is free again


def test_import_imp_exports_every_pythonic_node_without_loading_pyav() -> None:
    """``import imp`` (and touching every exported name) leaves PyAV unloaded: a process that
    only captures or only speaks the C API does not pay for FFmpeg's libraries."""
    import subprocess
    import sys

    code = (
        "import imp, sys\n"
        "names = ['EmuSource', 'VideoDecoder', 'Microphone', 'Speaker', 'open_audio_encoder',\n"
        "         'open_audio_decoder', 'AudioPayload', 'IspTuning']\n"
        "assert set(names) <= set(imp.__all__), set(names) - set(imp.__all__)\n"
        "for name in imp.__all__: getattr(imp, name)\n"
        "assert imp.open_audio_encoder.__module__ == 'imp.audio.aenc'\n"
        "print('av' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.strip() == "False"


def _events_over(motion: imp.MotionDetector, seen: list[object], frames: int) -> int:
    """Events of the ``frames`` frames analysed after the next 3 (a frame in analysis when the
    parameters changed used the old ones)."""
    import time

    def analysed_past(n: int) -> None:
        deadline = time.monotonic() + 60
        while motion.analysed < n:
            assert time.monotonic() < deadline, f"detector stuck at {motion.analysed} frames"
            time.sleep(0.01)

    start = motion.analysed
    analysed_past(start + 3)
    before = len(seen)
    analysed_past(start + 3 + frames)
    return len(seen) - before


def test_motion_sensitivity_and_regions_change_while_running() -> None:
    """The same detector (same IVS group, background kept) follows set_sensitivity() and
    set_rois(): on a static scene the frame-mark band's last cells move a little — seen at
    sense 4, not at sense 0 — and a region away from the band sees nothing."""
    from imp.ivs import get_ivs

    imp.kernel.sim_overrides(clock="virtual", sensor="synthetic:static")
    with imp.open() as cam:
        lores = cam.framesource(size=(640, 360))
        motion = cam.motion(lores, rois=[(600, 0, 40, 16)], sense=0)
        group = get_ivs().groups[motion.num]
        seen: list[imp.MotionEvent] = []
        motion.on_motion(seen.append)
        assert _events_over(motion, seen, 25) == 0
        motion.set_sensitivity(4)
        assert motion.sensitivity == (4,)
        assert get_ivs().channels[motion.chn].get_param().rois[0].sense == 4
        assert _events_over(motion, seen, 25) >= 10
        motion.set_sensitivity(0)
        assert _events_over(motion, seen, 25) == 0
        motion.set_rois([(0, 200, 640, 160)], sense=4)  # static part of the picture
        assert _events_over(motion, seen, 25) == 0
        motion.set_rois([(0, 300, 640, 60), (0, 0, 640, 16)])  # sense stays 4
        assert motion.sensitivity == (4, 4)
        assert _events_over(motion, seen, 25) >= 10
        last = seen[-1]
        assert last.rois == (1,) and (last.regions[0].y0, last.regions[0].y1) == (0, 15)
        with pytest.raises(imp.InvalidArgument, match="sense"):
            motion.set_sensitivity(5)
        assert motion.sensitivity == (4, 4)  # a refused change leaves the detector as it was
        assert get_ivs().groups[motion.num] is group  # never rebuilt


def _wait_for(bus_events: list[imp.Event], kind: imp.EventKind, timeout: float = 60) -> imp.Event:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [e for e in bus_events if e.kind is kind]
        if found:
            return found[0]
        time.sleep(0.01)
    raise AssertionError(f"no {kind} event within {timeout} s: {bus_events}")


def test_end_of_stream_of_an_emulated_source_reaches_the_camera_bus() -> None:
    """30 pictures through EmuSource -> H.264: every picture encoded, then EOS on cam.bus
    (read as a user would: the iterator and a callback see the same event)."""
    import numpy as np

    imp.kernel.sim_overrides(clock="virtual")
    out = ListOutput()
    pictures = [np.full((96, 128), 16 + 6 * i, dtype=np.uint8) for i in range(30)]
    with imp.open() as cam:
        heard: list[imp.Event] = []
        cam.bus.subscribe(heard.append)
        clip = imp.EmuSource.from_arrays(pictures, size=(128, 96), bus=cam.bus)
        cam.encoder(clip, imp.H264(bitrate_kbps=200, gop=10), output=out)
        clip.start()
        assert clip.wait(timeout=60) == 30
        eos = _wait_for(heard, imp.EventKind.EOS)
        assert eos.source == repr(clip) and "30 pictures" in eos.detail
        assert imp.EventKind.EOS in {e.kind for e in cam.bus.events(timeout=0.5)}
        assert _wait_packets(out, 30) == 30  # the last pictures are encoded after EOS
    frames = _decode(b"".join(p.data for p in out.packets))
    means = [float(f.to_ndarray(format="gray").mean()) for f in frames]
    assert len(means) == 30 and all(b > a + 3 for a, b in itertools.pairwise(means))


def _wait_packets(out: ListOutput, n: int, timeout: float = 60) -> int:
    import time

    deadline = time.monotonic() + timeout
    while len(out.packets) < n and time.monotonic() < deadline:
        time.sleep(0.01)
    return len(out.packets)


def test_a_size_or_rate_change_is_a_format_event_on_the_bus() -> None:
    imp.kernel.sim_overrides(clock="virtual")
    with imp.open() as cam:
        heard: list[imp.Event] = []
        cam.bus.subscribe(heard.append)
        main = cam.framesource(size=(640, 360))
        cam.wait(0.2)
        assert not [e for e in heard if e.kind is imp.EventKind.FORMAT]  # the first start is none
        main.reconfigure(size=(320, 180), fps=(15, 1))
        event = _wait_for(heard, imp.EventKind.FORMAT)
        assert event.source == repr(main)
        assert event.detail == "320x180 at 15/1 fps (was 640x360 at 25/1 fps)"
        with main.get_frame() as frame:
            assert frame.size == (320, 180)
        with pytest.raises(imp.InvalidArgument, match="positive"):
            main.reconfigure(fps=(0, 1))
        with pytest.raises(imp.InvalidArgument, match="above the sensor's 25/1"):
            main.reconfigure(fps=30)
        with pytest.raises(imp.InvalidArgument, match="larger than the 1920x1080 sensor picture"):
            main.reconfigure(size=(3840, 2160))
        assert main.enabled and main.size == (320, 180)  # a refused change leaves it running
