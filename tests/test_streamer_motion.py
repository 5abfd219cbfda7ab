"""Motion on the simulator's ``intruder`` scene: an event, the script hook, and an MP4 clip that
starts at least ``pre_roll`` before the first frame that moved (checked by frame marks)."""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path

import av
import pytest

from bench.streamer_common import Daemon, decode_jpeg_mark, http_request, small_config
from imp.streamer.scenes import INTRUDER_END, INTRUDER_PERIOD, INTRUDER_START

pytest.importorskip("gi", reason="the rtsp extra (PyGObject) is not installed")
pytest.importorskip("aiohttp", reason="the rtsp extra (aiohttp) is not installed")
pytestmark = pytest.mark.timeout(300)

PRE_ROLL, POST_ROLL = 2.0, 1.0


def test_motion_event_makes_a_clip_with_pre_roll(tmp_path: Path) -> None:
    log = tmp_path / "hook.log"
    script = tmp_path / "hook.sh"
    script.write_text(f'#!/bin/sh\necho "$1 $MOTION_CLIP" >> {log}\n')
    script.chmod(0o755)
    cfg = small_config(
        tmp_path,
        sim={"scene": "intruder"},
        stream0={"gop": 25},
        audio={"enabled": True, "codec": "g711u"},
        motion={
            "enabled": True,
            "stream": 1,
            "record_stream": 0,
            "pre_roll": PRE_ROLL,
            "post_roll": POST_ROLL,
            "cooldown": 0.0,
            "script": str(script),
        },
    )
    d = Daemon(cfg, tmp_path).start()
    try:
        deadline = time.monotonic() + 90
        clips: list[dict[str, object]] = []
        while time.monotonic() < deadline:
            clips = json.loads(http_request(f"{d.http}/api/clips")[2])
            if clips and not clips[0]["recording"]:
                break
            time.sleep(0.5)
        assert clips and not clips[0]["recording"], clips
        events = json.loads(http_request(f"{d.http}/api/events")[2])
        status, headers, body = http_request(f"{d.http}/clips/{clips[0]['name']}")
        assert status == 200 and headers["Content-Type"] == "video/mp4"
    finally:
        assert d.stop() == 0, "".join(d.lines)
    assert events[0]["clip"] == clips[0]["name"] and events[0]["end"] is not None
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(body)

    from kernel_stubs.sensor import read_frame_mark

    with av.open(str(clip)) as container:
        marks = [read_frame_mark(f.to_ndarray(format="gray")) for f in container.decode(video=0)]
    with av.open(str(clip)) as container:
        assert container.streams.audio, "audio is configured: the clip must carry it"
        rate = container.streams.audio[0].rate
        audio_s = sum(f.samples for f in container.decode(audio=0)) / rate
    assert marks, "the clip decodes to no picture"
    assert audio_s >= 0.8 * len(marks) / 25, (audio_s, len(marks))
    # The intruder enters at sensor frame INTRUDER_START: the clip must begin >= PRE_ROLL
    # before it, run in order and last until it left (plus post-roll).
    assert marks[0] <= INTRUDER_START - PRE_ROLL * 25, marks[:5]
    assert all(b > a for a, b in itertools.pairwise(marks)), marks
    missing = marks[-1] - marks[0] + 1 - len(marks)
    assert missing <= 0.05 * len(marks) + 1, missing  # the loaded simulator may drop a few
    assert marks[-1] >= INTRUDER_END - 5, marks[-5:]
    hook = log.read_text().split("\n")
    assert hook[0].startswith("start ") and hook[0].endswith(str(clips[0]["name"]))
    assert hook[1].startswith("stop ")


def _mark_now(d: Daemon) -> int:
    """The sensor frame number of the newest JPEG: where the scene is now."""
    status, _, body = http_request(f"{d.http}/snapshot.jpg")
    assert status == 200, body
    return decode_jpeg_mark(body)[0]


def _events(d: Daemon) -> list[dict[str, object]]:
    events: list[dict[str, object]] = json.loads(http_request(f"{d.http}/api/events")[2])
    return events


def test_motion_regions_change_while_running(tmp_path: Path) -> None:
    """PATCH motion.rois: the running detector watches the new regions from then on. The
    intruder crosses the lower half (y 55-80 %); watching only a band at the top, its first
    crossing goes unseen; watching the lower half, its second crossing is an event, seen while
    the intruder is in the picture. A box outside the analysed stream is refused with 400."""
    top, lower = [0, 18, 320, 54], [0, 90, 320, 60]  # stream1: 320x180
    cfg = small_config(
        tmp_path,
        sim={"scene": "intruder"},
        motion={
            "enabled": True,
            "stream": 1,
            "rois": [top],
            "pre_roll": 0.5,
            "post_roll": 0.5,
            "cooldown": 0.0,
        },
    )
    d = Daemon(cfg, tmp_path).start()
    url = f"{d.http}/api/settings"
    try:
        while (mark := _mark_now(d)) < INTRUDER_END + 25:  # the first crossing, and its echo
            assert mark < INTRUDER_PERIOD, "the first crossing was missed (clock jumped)"
            time.sleep(0.5)
        assert _events(d) == [], "motion in the top band, where nothing moves"
        status, _, body = http_request(url, "PATCH", {"motion": {"rois": [[400, 0, 50, 50]]}})
        assert status == 400 and "motion.rois" in json.loads(body)["error"], body
        status, _, body = http_request(url, "PATCH", {"motion": {"rois": [lower]}})
        assert status == 200, body
        reply = json.loads(body)
        assert reply["applied"] == ["motion.rois"]
        assert reply["settings"]["motion"]["rois"] == [lower]
        assert _mark_now(d) < INTRUDER_PERIOD + INTRUDER_START, "changed too late for the test"
        assert _events(d) == []
        deadline = time.monotonic() + 60
        while not (events := _events(d)):
            mark = _mark_now(d)
            assert mark < INTRUDER_PERIOD + INTRUDER_END + 50 and time.monotonic() < deadline, (
                "no event for the intruder's second crossing in the new regions"
            )
            time.sleep(0.2)
        mark = _mark_now(d)
    finally:
        assert d.stop() == 0, "".join(d.lines)
    # Seen while the intruder crosses (the snapshot lags by at most a JPEG period).
    assert INTRUDER_PERIOD + INTRUDER_START <= mark <= INTRUDER_PERIOD + INTRUDER_END + 50, mark
    assert events[0]["regions"] == [0], events
