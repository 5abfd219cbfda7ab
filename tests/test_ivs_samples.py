"""The IVS sample ports run end to end on the simulator (virtual clock)."""

from __future__ import annotations

from pathlib import Path

import pytest

from imp.kernel import sim_overrides


def test_framesource_algo_sample(capsys: pytest.CaptureFixture[str]) -> None:
    from imp.samples import framesource_algo

    sim_overrides(clock="virtual")
    assert framesource_algo.main([]) == 0
    out = capsys.readouterr().out.splitlines()
    lines = [line for line in out if line.startswith("frame[")]
    assert len(lines) == 200
    assert lines[0] == "frame[0], result->retRoi(0,0,0,0)"  # the first frame starts the model
    # A result every 6th frame (skipFrameCnt 5): the same answer in between.
    rois = [line.split("(")[1].rstrip(")") for line in lines]
    assert all(rois[i] == rois[i - i % 6] for i in range(len(rois)))
    # The default scene always moves (and so does the frame mark): the 4 full-frame ROIs say so.
    assert all(r == "1,1,1,1" for r in rois[6:])
    print(out[-1])


@pytest.fixture
def encoder_samples(monkeypatch: pytest.MonkeyPatch) -> None:
    from imp.samples import encoder_common

    monkeypatch.setenv("IMP_SIM_CLOCK", "virtual")
    # A PollingStream timeout counts as one of the sample's frames; x265 can start slowly here.
    monkeypatch.setattr(encoder_common, "POLL_TIMEOUT_MS", 20_000)


def _check_streams(files: list[str], frames: int) -> None:
    from tests.test_enc_helpers import assert_marks_in_order, decode, marks

    assert [Path(f).name for f in files] == ["stream-0.h265", "stream-3.h265"]
    for path, size in zip(files, [(1920, 1080), (640, 360)], strict=True):
        decoded = decode(Path(path).read_bytes(), "hevc")
        assert len(decoded) == frames, path
        assert {(f.width, f.height) for f in decoded} == {size}
        assert_marks_in_order(marks(decoded))  # (the encoder may skip frames while busy)


def test_encoder_video_ivs_move_sample(tmp_path: Path, encoder_samples: None) -> None:
    """FS3 -> IVS -> ENC3 (and FS0 -> ENC0): both streams complete while IVS reports motion."""
    from imp.samples import encoder_video_ivs_move

    lines: list[str] = []
    files, moving = encoder_video_ivs_move.run(
        str(tmp_path), frames=60, results=12, emit=lines.append, settle=0
    )
    _check_streams(files, 60)
    assert len(lines) == 12 and lines[0].startswith("frame[0], result->retRoi(")
    assert moving >= 10  # the default scene moves all the time
    print(f"encoder + IVS move: {moving}/12 results with motion; {lines[-1]}")


def test_encoder_h264_ivs_base_move_sample(tmp_path: Path, encoder_samples: None) -> None:
    from imp.samples import encoder_h264_ivs_base_move

    lines: list[str] = []
    files, moving = encoder_h264_ivs_base_move.run(
        str(tmp_path), frames=60, results=12, emit=lines.append, settle=0
    )
    _check_streams(files, 60)
    assert len(lines) == 12 and all("of 3600 blocks moved" in line for line in lines)
    assert moving >= 7  # the first 4 results have no reference frame yet
    print(f"encoder + IVS base-move: {moving}/12 results with moving blocks; {lines[-1]}")
