"""sample-Audio (python -m imp.samples.audio): AI recording -> registered MY_G711A encoder ->
record_file.g711 -> registered decoder -> record_file_decode.pcm, checked against FFmpeg."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np
import pytest

import imp.audio
from imp.audio.adec import get_adec
from imp.audio.aenc import get_aenc
from imp.kernel import sim_overrides
from imp.samples import audio as sample


@pytest.fixture(autouse=True)
def audio_down() -> Iterator[None]:
    yield
    get_aenc().shutdown()
    get_adec().shutdown()
    imp.audio.shutdown()


def test_sample_audio_encodes_and_decodes(tmp_path: Path) -> None:
    sim_overrides(clock="virtual", mic="tone:1000:-20")
    assert sample.main(["--out", str(tmp_path), "--seconds", "2"]) == 0
    pcm = np.fromfile(tmp_path / "record_file.pcm", dtype="<i2")
    g711 = (tmp_path / "record_file.g711").read_bytes()
    decoded = np.fromfile(tmp_path / "record_file_decode.pcm", dtype="<i2")
    assert len(pcm) == 16000  # 2 s at 8 kHz from AI
    assert len(g711) == len(pcm)  # 800-byte chunks, 16000 is a multiple of 400 samples
    ctx = av.CodecContext.create("pcm_alaw", "r")
    ctx.sample_rate, ctx.layout = 8000, "mono"
    theirs = np.concatenate([f.to_ndarray().reshape(-1) for f in ctx.decode(av.Packet(g711))])
    assert np.array_equal(decoded, theirs)  # our decoder == FFmpeg's, sample for sample
    enc = av.CodecContext.create("pcm_alaw", "w")
    enc.sample_rate, enc.format, enc.layout = 8000, "s16", "mono"
    enc.open()
    frame = av.AudioFrame.from_ndarray(
        pcm.reshape(1, -1).astype(np.int16), format="s16", layout="mono"
    )
    frame.sample_rate = 8000
    assert b"".join(bytes(p) for p in enc.encode(frame)) == g711  # encoder == FFmpeg's
    snr = 10 * np.log10(
        np.mean(pcm.astype(float) ** 2) / np.mean((pcm.astype(float) - decoded) ** 2)
    )
    assert snr >= 30


def test_sample_audio_from_a_file(tmp_path: Path) -> None:
    src = tmp_path / "in.pcm"
    (np.arange(4000, dtype=np.int16) * 7).astype("<i2").tofile(src)
    files = sample.run(str(tmp_path / "o"), source=str(src))
    assert [Path(f).stat().st_size for f in files] == [8000, 4000, 8000]
