"""The programs in examples/ run on the simulator (virtual clock) and make what they promise.

Each example runs as a user runs it (a subprocess in an empty directory); its files are decoded
with PyAV and checked frame by frame with the simulator's frame marks.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from kernel_stubs import read_frame_mark

av = pytest.importorskip("av")
output = pytest.importorskip("imp.output")
if not all(hasattr(output, n) for n in ("FileOutput", "Mp4Output", "CircularOutput")):
    pytest.skip("imp.output has not landed its outputs yet", allow_module_level=True)

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
PERIOD = 40_000  # µs: the simulated sensor's 25 fps


def run_example(name: str, cwd: Path) -> str:
    env = dict(os.environ, IMP_PLATFORM="sim", IMP_SIM_CLOCK="virtual", PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / name)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def user_lines(name: str) -> int:
    """Lines of code: not blank, not comments, not the docstring."""
    text = (EXAMPLES / name).read_text()
    body = text.split('"""', 2)[2]
    return sum(1 for line in body.splitlines() if line.strip() and not line.strip().startswith("#"))


def decode(path: Path) -> tuple[list[np.ndarray], list[int], list[bool], Fraction, float]:
    """Luma planes, pts (in stream time base units), keyframe flags, time base, duration s."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        lumas, pts, keys = [], [], []
        for frame in container.decode(stream):
            lumas.append(frame.to_ndarray(format="gray"))
            pts.append(frame.pts)
            keys.append(frame.key_frame)
        tb = stream.time_base
        duration = float((pts[-1] - pts[0]) * tb) + 1 / 25
    return lumas, pts, keys, tb, duration


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.py")))
def test_examples_are_short(name: str) -> None:
    assert user_lines(name) <= 15


def test_jpeg_every_second(tmp_path: Path) -> None:
    run_example("jpeg_every_second.py", tmp_path)
    files = sorted(tmp_path.glob("snap-*.jpg"), key=lambda p: int(p.stem.split("-")[1]))
    assert [p.name for p in files] == [f"snap-{i}.jpg" for i in range(5)]
    marks = []
    for path in files:
        lumas, *_ = decode(path)
        assert lumas[0].shape == (1080, 1920)
        marks.append(read_frame_mark(lumas[0]))
    assert np.all(np.diff(marks) == 25)  # one picture per second of a 25 fps sensor


def test_clock_overlay_mp4(tmp_path: Path) -> None:
    run_example("clock_overlay_mp4.py", tmp_path)
    lumas, pts, keys, _, duration = decode(tmp_path / "clock.mp4")
    assert len(lumas) == 250 and keys[0]
    assert np.all(np.diff(pts) > 0)
    assert duration == pytest.approx(10.0, abs=0.05)
    marks = [read_frame_mark(y) for y in lumas]
    assert np.all(np.diff(marks) == 1)
    # The clock: white glyphs with a black outline where the region is, in every frame,
    # and a different text once the second has changed.
    box = [y[48 : 48 + 34, 16 : 16 + 320] for y in lumas]
    for y in box[::50]:
        assert (y > 200).mean() > 0.03 and (y < 40).mean() > 0.03
    assert np.abs(box[0].astype(int) - box[100].astype(int)).mean() > 2


def test_motion_events(tmp_path: Path) -> None:
    out = run_example("motion_events.py", tmp_path)
    lines = out.strip().splitlines()
    assert len(lines) == 10
    seqs = [int(m.group(1)) for m in (re.search(r"at frame (\d+)", line) for line in lines) if m]
    assert len(seqs) == 10 and seqs == sorted(seqs)


def test_motion_clip_has_five_seconds_of_pre_roll(tmp_path: Path) -> None:
    out = run_example("motion_clip.py", tmp_path)
    trigger = int(re.search(r"motion at frame (\d+)", out).group(1))  # type: ignore[union-attr]
    lumas, pts, keys, _, _ = decode(tmp_path / "clip.mp4")
    marks = [read_frame_mark(y) for y in lumas]
    assert keys[0]  # starts at an IDR
    assert np.all(np.diff(marks) == 1)  # nothing missing or twice across the ring->live seam
    assert np.all(np.diff(pts) > 0)
    assert trigger - marks[0] >= 5 * 25  # >= 5 s before the trigger frame
    assert marks[-1] > trigger


def test_two_streams_and_jpeg(tmp_path: Path) -> None:
    run_example("two_streams_jpeg.py", tmp_path)
    main, _, main_keys, _, main_s = decode(tmp_path / "main.mp4")
    lores, _, _, _, lores_s = decode(tmp_path / "lores.mp4")
    assert main[0].shape == (1080, 1920) and lores[0].shape == (360, 640)
    assert len(main) == len(lores) == 125 and main_keys[0]
    assert main_s == pytest.approx(5.0, abs=0.05) and lores_s == pytest.approx(5.0, abs=0.05)
    for lumas in (main, lores):
        assert np.all(np.diff([read_frame_mark(y) for y in lumas]) == 1)
    assert len(list(tmp_path.glob("snap-*.jpg"))) == 5
