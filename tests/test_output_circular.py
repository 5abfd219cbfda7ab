"""CircularOutput: clips begin >= N s (by frame marks) before the trigger with an IDR, have no
frame missing or duplicated across the ring->live seam while a pipeline thread keeps writing,
restart, and the ring's memory stays within max_bytes."""

from __future__ import annotations

import threading
import tracemalloc
from pathlib import Path

import pytest

from imp.errors import InvalidArgument, InvalidState
from imp.output import CircularOutput, Mp4Output, Packet
from tests.test_output_helpers import (
    PERIOD_US,
    VideoSource,
    audio_packets,
    decode_annexb,
    read_video,
    stream_count,
    synthetic_packets,
    video_packets,
)

FPS = 25
WAIT_S = 60  # bound for every wait on the feeder thread (a loaded machine is slow, not stuck)


class Feeder:
    """A pipeline thread encoding marked pictures and writing each packet to the output.

    It writes frames 0..``end`` and, after each frame in ``holds``, waits for :meth:`go_on`:
    the trigger frame stays the newest one while the application reacts to it (in a camera
    the next frame is 40 ms away; a loaded test machine could otherwise run seconds ahead).
    ``written(n)`` blocks until frame n has been written.
    """

    def __init__(
        self, out: CircularOutput, end: int, holds: tuple[int, ...] = (), gop: int = 25
    ) -> None:
        self.out = out
        self.src = VideoSource("h264", gop=gop)
        self.end, self.holds = end, holds
        self.last = -1
        self.holding = False
        self.cond = threading.Condition()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="test-feeder")
        self.thread.start()

    def _run(self) -> None:
        try:
            while self.src.next_frame <= self.end:
                packet = self.src.packet()
                self.out.write(packet)
                with self.cond:
                    self.last = packet.seq
                    self.holding = packet.seq in self.holds
                    self.cond.notify_all()
                    if not self.cond.wait_for(lambda: not self.holding, WAIT_S):
                        raise TimeoutError(f"held at frame {packet.seq} for {WAIT_S} s")
        except BaseException as exc:
            self.error = exc
            with self.cond:
                self.cond.notify_all()
        finally:
            self.src.close()

    def written(self, n: int) -> None:
        with self.cond:
            assert self.cond.wait_for(lambda: self.last >= n or self.error, WAIT_S)
        assert self.error is None, self.error

    def go_on(self) -> None:
        with self.cond:
            self.holding = False
            self.cond.notify_all()

    def finish(self) -> None:
        self.written(self.end)
        self.thread.join(WAIT_S)
        assert not self.thread.is_alive()


class SlowFile(Mp4Output):
    """An Mp4Output on a slow card: the pre-roll takes long enough to write that live packets
    arrive while start() is still busy with it (the seam's hard case)."""

    def __init__(self, path: Path, writing: threading.Event, go_on: threading.Event) -> None:
        super().__init__(path)
        self.preroll_left = 10
        self.writing, self.go_on = writing, go_on

    def write(self, packet: Packet) -> None:
        if self.preroll_left:
            self.writing.set()  # start() has taken its copy of the ring
            self.preroll_left -= 1
            if self.preroll_left == 0:
                self.go_on.wait(WAIT_S)  # hold start() until the feeder has written more
        super().write(packet)


def _assert_clip(path: Path, trigger: int, seconds: float, last: int) -> list[int]:
    track = read_video(path)
    marks = track.marks
    assert track.keyframes[0], "a clip must begin with an IDR"
    assert marks[0] <= trigger - seconds * FPS, f"pre-roll {trigger - marks[0]} frames only"
    assert marks == list(range(marks[0], marks[0] + len(marks))), "frame missing or duplicated"
    assert marks[-1] == last
    assert track.pts_us == [(m - marks[0]) * PERIOD_US for m in marks]
    return marks


def test_clip_begins_n_seconds_before_the_trigger_and_continues_without_a_seam(
    tmp_path: Path,
) -> None:
    ring = CircularOutput(seconds=5)
    trigger = 200
    feeder = Feeder(ring, end=trigger + 60, holds=(trigger,))
    writing, go_on = threading.Event(), threading.Event()
    feeder.written(trigger)
    clip = SlowFile(tmp_path / "clip.mp4", writing, go_on)
    starter = threading.Thread(target=ring.start, args=(clip,))
    starter.start()
    assert writing.wait(WAIT_S)
    # While start() is stuck in the pre-roll, the pipeline thread keeps writing.
    feeder.go_on()
    feeder.written(trigger + 10)
    go_on.set()
    starter.join(WAIT_S)
    assert ring.recording
    feeder.finish()
    assert ring.stop() is clip
    assert not ring.recording
    marks = _assert_clip(clip.path, trigger, 5, trigger + 60)
    assert trigger + 10 in marks  # those frames went through the pending queue
    assert ring.errors == 0 and clip.errors == 0


def test_clips_restart_from_a_free_running_pipeline(tmp_path: Path) -> None:
    ring = CircularOutput(seconds=2)
    triggers = (60, 130, 140)  # the third starts within the second's pre-roll
    feeder = Feeder(ring, end=200, holds=triggers, gop=10)
    for i, trigger in enumerate(triggers):
        feeder.written(trigger)
        ring.start(tmp_path / f"clip{i}.mp4")
        feeder.go_on()
        with pytest.raises(InvalidState, match="stop"):
            ring.start(tmp_path / "other.mp4")
        feeder.written(trigger + 5)
        ring.stop()
    feeder.finish()
    ring.close()
    for i, trigger in enumerate(triggers):
        marks = read_video(tmp_path / f"clip{i}.mp4").marks
        assert marks[0] <= trigger - 2 * FPS
        assert marks == list(range(marks[0], marks[0] + len(marks)))
        assert marks[-1] >= trigger + 5
    with pytest.raises(InvalidState, match="closed"):
        ring.start(tmp_path / "late.mp4")


def test_raw_clip_by_extension(tmp_path: Path) -> None:
    ring = CircularOutput(seconds=1)
    packets = video_packets("h265", 80, gop=20)
    for p in packets[:60]:
        ring.write(p)
    ring.start(tmp_path / "clip.h265")
    for p in packets[60:]:
        ring.write(p)
    ring.stop()
    marks = decode_annexb((tmp_path / "clip.h265").read_bytes(), "hevc")
    # newest 59: the IDR at or before 59 - 25 is frame 20
    assert marks == list(range(20, 80))


def test_short_history_and_audio_in_the_preroll(tmp_path: Path) -> None:
    video = video_packets("h264", 50, gop=25)
    audio = audio_packets("aac", 2.0, 16000)
    ring = CircularOutput(seconds=5)
    stream = sorted(video + audio, key=lambda p: p.pts)
    ring.write(video[3])  # not a keyframe: no pre-roll can start with it
    assert ring.held() == []
    for p in stream[: len(stream) // 2]:
        ring.write(p)
    ring.start(tmp_path / "av.mp4")  # only ~1 s held: the clip has what there is
    for p in stream[len(stream) // 2 :]:
        ring.write(p)
    ring.close()
    assert stream_count(tmp_path / "av.mp4") == (1, 1)
    assert read_video(tmp_path / "av.mp4").marks == list(range(50))


def test_memory_stays_within_max_bytes_over_a_long_run() -> None:
    """30 minutes of a 2 Mbit/s stream with GOP 50: ring covering 5 s needs ~1.5 MB."""
    limit = 1_000_000
    tight = CircularOutput(seconds=5, max_bytes=limit)
    ample = CircularOutput(seconds=5, max_bytes=4_000_000)
    peak = 0
    for p in synthetic_packets(30 * 60 * FPS):
        tight.write(p)
        ample.write(p)
        peak = max(peak, tight.bytes_held)
        assert tight.bytes_held <= limit
        if p.seq >= 5 * FPS + 50:
            assert 5.0 <= ample.seconds_held <= 5.0 + 50 / FPS
    assert peak > 0.8 * limit
    assert tight.ring_stats.evicted > 0
    assert ample.ring_stats.evicted == 0 and ample.bytes_held <= 4_000_000
    assert ample.held()[0].keyframe and tight.held()[0].keyframe


def test_bytes_held_is_the_memory_held() -> None:
    """bytes_held counts payload and per-packet overhead: tracemalloc agrees within 10 %."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        ring = CircularOutput(seconds=5)
        for p in synthetic_packets(400, kbps=500):  # small packets: overhead matters
            ring.write(p)
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert abs(held - ring.bytes_held) <= 0.1 * ring.bytes_held, (held, ring.bytes_held)


def test_a_failing_target_is_counted_and_the_ring_goes_on(tmp_path: Path) -> None:
    class Broken:
        def write(self, packet: Packet) -> None:
            raise OSError(28, "No space left on device")

        def close(self) -> None:
            pass

    ring = CircularOutput(seconds=1)
    packets = list(synthetic_packets(100))
    for p in packets[:50]:
        ring.write(p)
    ring.start(Broken())
    for p in packets[50:]:
        ring.write(p)  # never raises into the pipeline
    ring.stop()
    assert ring.errors > 0 and ring.last_error is not None and "No space" in ring.last_error
    assert ring.bytes_held > 0


def test_bad_arguments() -> None:
    with pytest.raises(InvalidArgument):
        CircularOutput(seconds=-1)
    with pytest.raises(InvalidArgument):
        CircularOutput(max_bytes=0)
    with pytest.raises(InvalidArgument, match="Output"):
        CircularOutput().start(42)  # type: ignore[arg-type]
