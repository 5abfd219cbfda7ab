"""v4l2loopback both ways: a known clip written by an independent writer (FFmpeg's v4l2 muxer via
PyAV) comes out of FrameSource and H.264 frame by frame; imp publishing a channel is read back
by an independent reader (FFmpeg's v4l2 demuxer via PyAV) at the channel's rate."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import av
import numpy as np
import pytest
from vmlib import LOOP_IN, LOOP_OUT, luma, mark_or_none, psnr, report, sensor_model

import imp
from imp.v4l2.publish import LoopbackWriter, publish_channel

W, H = 640, 360
CLIP = 250
WRITE_FPS = 8  # the writer's pace, when imp keeps up
# Flow control: the writer stays at most this many frames ahead of what imp's sensor has
# dequeued. v4l2loopback has no back-pressure: a reader more than 2 frames behind the writer
# jumps to the newest frame (get_capture_buffer), and a TCG guest on a loaded 2-core host
# sometimes runs slower than any fixed rate for seconds (on a quiet host all 250 frames
# arrived at a fixed 8 fps without it).
# 1, not 2: with an encoder behind the sensor a writer 2 ahead still lost a frame now and then.
AHEAD = 1
DIAG: list[tuple[int | None, int | None]] = []
POST_ROLL = 2 * WRITE_FPS  # frames read after the writer finished the clip


def clip_frame(i: int) -> np.ndarray:
    """Frame ``i`` of the known clip as a (H*3/2, W) yuv420p array: smooth texture panning
    6 px per frame, so every frame differs from its neighbours everywhere."""
    rng = np.random.default_rng(7)
    coarse = rng.integers(30, 220, size=(9, 30)).astype(np.float32)
    texture = av.VideoFrame.from_ndarray(coarse.astype(np.uint8), format="gray").reformat(
        width=W * 2, height=H, interpolation="BICUBIC"
    )
    y = np.roll(texture.to_ndarray(), -6 * i, axis=1)[:, :W]
    chroma = np.full((H // 2, W), 128, dtype=np.uint8)
    chroma[:, : W // 2] = 100 + (i % 50)
    return np.concatenate([y, chroma])


@pytest.fixture(scope="module")
def clip() -> list[np.ndarray]:
    return [clip_frame(i) for i in range(CLIP)]


def thumbs(frames: list[np.ndarray]) -> np.ndarray:
    return np.stack([f[40:H:8, ::8].astype(np.float32) for f in frames])


class ClipWriter(threading.Thread):
    """At WRITE_FPS: grey pre-roll frames until ``go`` is set, the clip once, then grey
    post-roll frames until stopped (so the reader never waits on a silent device)."""

    def __init__(self, clip: list[np.ndarray]) -> None:
        super().__init__(name="vm-clip-writer", daemon=True)
        self.clip = clip
        self.go = threading.Event()
        self.done = threading.Event()
        self.stop = threading.Event()
        self.ready = threading.Event()
        self.written = 0
        self.progress: Callable[[], int] = lambda: 0  # frames imp's sensor has dequeued

    def _settled_progress(self) -> int:
        """imp's dequeue count once the pre-roll frames still in flight are read: unchanged for
        a whole second (a count taken while they still arrive would let the writer run ahead
        of the clip frames imp has really taken, and v4l2loopback would skip one)."""
        last, quiet_since = self.progress(), time.monotonic()
        while not self.stop.is_set() and time.monotonic() - quiet_since < 1.0:
            self.stop.wait(0.05)
            now = self.progress()
            if now != last:
                last, quiet_since = now, time.monotonic()
        return last

    def run(self) -> None:
        out = av.open(LOOP_IN, "w", format="v4l2")
        stream = out.add_stream("rawvideo", rate=WRITE_FPS)
        stream.width, stream.height, stream.pix_fmt = W, H, "yuyv422"
        grey = np.concatenate([np.full((H, W), 60, np.uint8), np.full((H // 2, W), 128, np.uint8)])
        try:
            period, t = 1.0 / WRITE_FPS, time.monotonic()
            index, base = -1, 0
            while not self.stop.is_set():
                if index < 0 and self.go.is_set():
                    index, base = 0, self._settled_progress()
                if index >= CLIP:
                    self.done.set()
                if index >= 0 and index - (self.progress() - base) >= AHEAD:
                    self.stop.wait(0.02)  # imp is behind: let it catch up
                    t = time.monotonic()
                    continue
                picture = grey if not 0 <= index < CLIP else self.clip[index]
                frame = av.VideoFrame.from_ndarray(picture, format="yuv420p")
                for packet in stream.encode(frame):
                    out.mux(packet)
                self.ready.set()
                if 0 <= index < CLIP:
                    self.written += 1
                if index >= 0:
                    index += 1
                # never catch up in a burst after a stall: v4l2loopback would overwrite frames
                # the reader has not taken yet (a real camera would drop them, not speed up)
                t = max(t + period, time.monotonic())
                self.stop.wait(max(0.0, t - time.monotonic()))
        finally:
            out.close()


@pytest.fixture
def writer(clip: list[np.ndarray]) -> Iterator[ClipWriter]:
    thread = ClipWriter(clip)
    thread.start()
    assert thread.ready.wait(20), "the writer could not start on the loopback device"
    yield thread
    thread.stop.set()
    thread.join(10)


def match(pictures: list[np.ndarray], clip: list[np.ndarray]) -> list[int]:
    """The clip index each picture shows (-1: the grey pre-roll)."""
    ref = thumbs(clip)
    found = []
    for y in pictures:
        if float(y[40:H].mean()) < 70 and float(y[40:H].std()) < 3:
            found.append(-1)
            continue
        err = np.abs(ref - y[40:H:8, ::8].astype(np.float32)).mean(axis=(1, 2))
        found.append(int(np.argmin(err)))
    return found


def run_loopback_in(writer: ClipWriter, encode: bool) -> list[np.ndarray]:
    imp.kernel.sim_overrides(
        clock="virtual",
        sensor=f"v4l2:{LOOP_IN}?pace=fifo&timeout=10&buffers=8",
        sensor_size=(W, H),
    )
    pictures: list[np.ndarray] = []
    with imp.open() as cam:
        main = cam.framesource(0, size=(W, H), nr_vbs=4)
        if encode:
            h264 = cam.encoder(main, imp.H264())
            chunks, after = [], 0
            sensor = sensor_model()
            writer.progress = lambda: sensor.frames_captured
            for s in h264.streams(limit=None, timeout=10.0):
                writer.go.set()  # the capture is streaming: nothing written from now is missed
                chunks.append(s.data)
                after += writer.done.is_set()
                if after > POST_ROLL or len(chunks) > CLIP + 300:
                    break
            codec = av.CodecContext.create("h264", "r")  # one access unit per picture
            for unit in chunks:
                pictures += [luma(f) for f in codec.decode(av.Packet(unit))]
            pictures += [luma(f) for f in codec.decode(None)]
        else:
            main.depth = 3
            after = 0
            sensor = sensor_model()
            writer.progress = lambda: sensor.frames_captured
            for frame in main.frames(limit=None, timeout=10.0):
                writer.go.set()
                pictures.append(frame.y.copy())
                mark = mark_or_none(frame.y)
                DIAG.append(
                    (mark, sensor_model().device_sequence(mark) if mark is not None else None)
                )
                after += writer.done.is_set()
                if after > POST_ROLL or len(pictures) > CLIP + 300:
                    break
    return pictures


@pytest.mark.parametrize("encode", [False, True], ids=["framesource", "h264"])
def test_loopback_in_clip_frames_in_order(
    writer: ClipWriter, clip: list[np.ndarray], encode: bool
) -> None:
    pictures = run_loopback_in(writer, encode)
    indices = match(pictures, clip)
    shown = [(i, y) for i, y in zip(indices, pictures, strict=True) if i >= 0]
    order = [i for i, _ in shown]
    missing = sorted(set(range(CLIP)) - set(order))
    assert order == list(range(CLIP)), f"clip frames missing {missing} or out of order {DIAG}"
    scores = [psnr(y, clip[i][:H]) for i, y in shown]
    marks = [mark_or_none(y) for _, y in shown]
    assert None not in marks and marks == sorted(marks)
    need = 30.0 if encode else 35.0
    stage = "H.264 (2000 kbit/s) -> PyAV" if encode else "FrameSource"
    report(
        f"v4l2loopback in ({W}x{H} YUYV from FFmpeg's v4l2 muxer, <= {WRITE_FPS} fps, "
        f"<= {AHEAD} frames ahead) -> {stage}: "
        f"{len(order)}/{CLIP} clip frames, each once, in order; PSNR min {min(scores):.1f} dB "
        f"(>= {need:g}, at clip frame {order[int(np.argmin(scores))]}), mean {np.mean(scores):.1f}"
    )
    assert min(scores) >= need


def wait_published(out: LoopbackWriter, frames: int = 5, timeout: float = 120.0) -> None:
    """Until the publisher has written ``frames`` frames: before that the loopback device has no
    format, and a reader opening it gets EINVAL (a camera, encoder and decoder take seconds to
    come up under TCG on a loaded host)."""
    deadline = time.monotonic() + timeout
    while out.stats.written < frames:
        assert time.monotonic() < deadline, f"{out.stats.written} frames published in {timeout} s"
        time.sleep(0.05)


def read_marks(seconds: float) -> tuple[list[int | None], float]:
    """An independent reader: FFmpeg's v4l2 demuxer on imp's output device."""
    container = av.open(LOOP_OUT, format="v4l2")
    marks: list[int | None] = []
    try:
        t0 = time.monotonic()
        for frame in container.decode(video=0):
            if not marks:
                t0 = time.monotonic()
            marks.append(mark_or_none(luma(frame)))
            if time.monotonic() - t0 >= seconds:
                break
        elapsed = time.monotonic() - t0
    finally:
        container.close()
    return marks, elapsed


def test_loopback_out_read_by_an_independent_reader() -> None:
    fps = 5  # the channel's rate; the realtime simulator under TCG holds it on a loaded host
    imp.kernel.sim_overrides(clock="realtime", sensor="synthetic", sensor_size=(W, H), fps=fps)
    stop = threading.Event()
    result: dict[str, object] = {}
    with LoopbackWriter(LOOP_OUT, W, H, "yuyv") as out:

        def publish() -> None:
            try:
                result["stats"] = publish_channel(out, size=(W, H), fps=fps, stop=stop)
            except BaseException as exc:  # reported by the test thread
                result["error"] = exc

        thread = threading.Thread(target=publish, name="vm-publisher", daemon=True)
        thread.start()
        try:
            wait_published(out)  # the camera opens and frames flow before any reader exists
            w0 = out.stats.written
            first, elapsed = read_marks(30.0)
            published = out.stats.written - w0
            time.sleep(2)  # no reader at all for a while
            w1 = out.stats.written
            time.sleep(2)
            assert out.stats.written > w1, "publishing stalled without a reader"
            second, _ = read_marks(5.0)
        finally:
            stop.set()
            thread.join(30)
    assert not thread.is_alive(), "the publisher did not stop"
    assert "error" not in result, result.get("error")
    stats = result["stats"]
    got = [m for m in first[1:] if m is not None]  # the first read may be a stale buffer
    received = len(set(got))
    share = received / max(1, published - 2)  # the window's edges may cut a frame each side
    rate = published / elapsed
    later = [m for m in second[1:] if m is not None]
    report(
        f"imp -> v4l2loopback out ({W}x{H} YUYV, channel {fps} fps) -> FFmpeg's v4l2 demuxer: "
        f"{received} frames read of {published} published in {elapsed:.1f} s "
        f"({100 * min(1.0, share):.1f} %, >= 99), marks in order; publishing at {rate:.2f} fps; "
        f"a reader leaving and another joining: marks resume at {later[0] if later else None} "
        f"after {got[-1]}; publisher errors {stats.errors}"  # type: ignore[attr-defined]
    )
    assert got == sorted(got) and share >= 0.99
    # The rate is reported, not asserted: under TCG on a loaded host the realtime simulator
    # publishes 2.5 of 5 fps (a timing figure, for a benchmark); what must hold is that frames
    # flowed and every one published in the window was read, in order.
    assert published >= 10, f"only {published} frames published in {elapsed:.1f} s"
    assert later and later == sorted(later) and later[0] > got[-1]
    assert stats.errors == 0  # type: ignore[attr-defined]
