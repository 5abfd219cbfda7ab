"""Several outputs on one encoder: each packet goes to every output, the outputs do not share
state, and one failing output (a full disk) changes nothing for the others."""

from __future__ import annotations

import threading
from pathlib import Path

from imp.output import CircularOutput, FileOutput, Mp4Output, Output, Packet
from tests.test_output_helpers import VideoSource, decode_annexb, read_video


def test_one_stream_into_four_outputs_one_of_them_failing(tmp_path: Path) -> None:
    ring = CircularOutput(seconds=1)
    mp4 = Mp4Output(tmp_path / "all.mp4")
    raw = FileOutput(tmp_path / "all.h264")
    full = Mp4Output("/dev/full", probe_seconds=0)
    outputs: list[Output] = [ring, mp4, raw, full]
    src = VideoSource("h264", gop=25)
    clip_started = threading.Event()
    preroll_ready = threading.Event()

    def encoder_thread() -> None:  # what the pipeline's fan-out does with each packet
        for _ in range(100):
            packet: Packet = src.packet()
            for out in outputs:
                out.write(packet)
            if packet.seq == 40:  # 1.6 s in the ring: the application may trigger now
                preroll_ready.set()
            if packet.seq == 60:  # hold on until it did, so the clip has live frames too
                clip_started.wait(60)

    worker = threading.Thread(target=encoder_thread)
    worker.start()
    assert preroll_ready.wait(60)
    ring.start(tmp_path / "clip.mp4")  # from this (the application's) thread
    clip_started.set()
    worker.join(60)
    assert not worker.is_alive()
    for out in outputs:
        out.close()
    src.close()

    assert full.errors >= 1  # the full disk is counted there ...
    assert (mp4.errors, raw.errors, ring.errors) == (0, 0, 0)  # ... and nowhere else
    assert read_video(tmp_path / "all.mp4").marks == list(range(100))
    assert decode_annexb((tmp_path / "all.h264").read_bytes(), "h264") == list(range(100))
    clip = read_video(tmp_path / "clip.mp4").marks
    assert clip == list(range(clip[0], 100)) and clip[0] % 25 == 0
