"""The Pythonic audio path end to end: Microphone -> open_encoder -> Packets -> Mp4Output, and
a two-way-audio backchannel open_decoder -> Speaker, measured by their samples."""

from __future__ import annotations

import itertools
import wave
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np
import pytest

import imp.audio
from imp.audio import Microphone, Speaker, adec, aenc
from imp.audio.codecs import PayloadType
from imp.audio.codecs.g711 import ulaw_encode
from imp.audio.codecs.pyav import OpusEncoder
from imp.kernel import sim_overrides
from imp.output import Mp4Output


@pytest.fixture(autouse=True)
def audio_down() -> Iterator[None]:
    yield
    aenc.get_aenc().shutdown()
    adec.get_adec().shutdown()
    imp.audio.shutdown()


def test_microphone_to_opus_mp4(tmp_path: Path) -> None:
    sim_overrides(clock="virtual", mic="tone:1000:-20")
    path = tmp_path / "mic.mp4"
    out = Mp4Output(path, probe_seconds=0)
    stamps: list[int] = []
    with (
        Microphone(rate=16000, frame_ms=40) as mic,
        aenc.open_encoder(0, encoder=OpusEncoder(16000, frame_ms=40)) as enc,
    ):
        for chunk in mic.frames(75):  # 3 s
            assert enc.send(chunk.samples, chunk.timestamp)  # one 40 ms Opus packet per frame
            stamps.append(chunk.timestamp)
            with enc.get(timeout=0) as stream:
                packet = stream.packet()
                assert packet.pts == chunk.timestamp
                out.write(packet)
    out.close()
    assert all(b - a == 40000 for a, b in itertools.pairwise(stamps))
    with av.open(str(path)) as container:
        pcm = np.concatenate([f.to_ndarray().reshape(-1) for f in container.decode(audio=0)])
        rate = container.streams.audio[0].codec_context.sample_rate
    assert abs(len(pcm) / rate - 3.0) <= 0.1
    steady = pcm[len(pcm) // 3 :]
    spectrum = np.abs(np.fft.rfft(steady * np.hanning(len(steady))))
    assert abs(np.fft.rfftfreq(len(steady), 1 / rate)[np.argmax(spectrum)] - 1000) <= 5
    level = 20 * np.log10(np.sqrt(2 * np.mean(steady.astype(float) ** 2)))
    assert abs(level - (-20)) <= 1.0


def test_backchannel_decoder_to_speaker(tmp_path: Path) -> None:
    """G.711u packets (as an RTP backchannel brings them) decoded by ADEC and played: the speaker
    WAV holds exactly the decoded samples."""
    wav = tmp_path / "speaker.wav"
    sim_overrides(clock="virtual", mic="silence", speaker=str(wav), echo="off")
    rate = 8000
    t = np.arange(2 * rate) / rate
    voice = (6000 * np.sin(2 * np.pi * 300 * t) * np.sin(2 * np.pi * 2 * t)).astype(np.int16)
    played = []
    with adec.open_decoder(0, PayloadType.G711U) as dec, Speaker(rate=rate, frame_ms=40) as spk:
        for i in range(0, len(voice), 320):  # 40 ms RTP payloads
            assert dec.send(ulaw_encode(voice[i : i + 320]))
            with dec.get(timeout=0) as frame:
                played.append(frame.samples.copy())
                spk.play(frame.samples)
    decoded = np.concatenate(played)
    with wave.open(str(wav), "rb") as w:
        assert w.getframerate() == rate
        heard = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    # silence before AO received the first frame; the voice itself starts with zeros too
    start = int(np.argmax(heard != 0)) - int(np.argmax(decoded != 0))
    assert np.array_equal(heard[start : start + len(decoded)], decoded)
