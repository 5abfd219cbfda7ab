"""imp-streamer's audio: the simulated microphone plays a 440 Hz tone; RTSP clients get it as
G.711 next to the video of /ch0 and /ch1 (PCMU over TCP, PCMA over UDP) and decode it; and the
ONVIF backchannel takes a client's audio to the speaker."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np
import pytest

from bench.streamer_common import Daemon, small_config, talk

pytest.importorskip("gi", reason="the rtsp extra (PyGObject) is not installed")
pytest.importorskip("aiohttp", reason="the rtsp extra (aiohttp) is not installed")
pytestmark = pytest.mark.timeout(300)


def _pull(url: str, transport: str, seconds: float) -> tuple[str, int, np.ndarray, list[int], int]:
    """(audio codec, rate, samples as floats in [-1, 1], audio pts, video pictures) of
    ``seconds`` of video; the samples are the first channel's."""
    container = av.open(url, options={"rtsp_transport": transport}, timeout=30)
    chunks, pts, pictures = [], [], 0
    try:
        audio = container.streams.audio[0]
        for packet in container.demux():
            if packet.stream.type == "audio":
                for frame in packet.decode():
                    # One channel: Opus decodes to planar stereo (RFC 7587 signals 2 channels
                    # even for a mono source); G.711 and AAC to one channel.
                    data = frame.to_ndarray()
                    if frame.format.is_planar:
                        data = data[0]
                    else:
                        data = data.reshape(-1, len(frame.layout.channels))[:, 0]
                    scale = 32768.0 if data.dtype == np.int16 else 1.0
                    chunks.append(data.astype(np.float64) / scale)
                    pts.append(int(frame.pts))
            elif packet.size:
                pictures += 1
            if pictures >= seconds * 25:
                break
        rate = int(audio.codec_context.sample_rate)
        return audio.codec_context.name, rate, np.concatenate(chunks), pts, pictures
    finally:
        container.close()


@pytest.mark.parametrize(
    ("codec", "transport", "ch", "decoded_as"),
    [
        ("g711u", "tcp", 0, "pcm_mulaw"),
        ("g711a", "udp", 1, "pcm_alaw"),
        ("aac", "tcp", 1, "aac"),
        ("opus", "udp", 0, "opus"),
    ],
)
def test_audio_track(tmp_path: Path, codec: str, transport: str, ch: int, decoded_as: str) -> None:
    cfg = small_config(
        tmp_path, audio={"enabled": True, "codec": codec}, sim={"mic": "tone:440:-12"}
    )
    d = Daemon(cfg, tmp_path).start().warm_up(25)
    try:
        name, rate, samples, pts, pictures = _pull(d.rtsp(ch), transport, seconds=3)
    finally:
        assert d.stop() == 0, "".join(d.lines)
    assert name == decoded_as
    # 3 s of video come with about as much audio (the client may buffer some ahead).
    assert 2.5 * rate <= samples.size <= 7 * rate, (samples.size, rate, pictures)
    if codec.startswith("g711") or codec == "aac":
        # RTP timestamps from the capture clock: G.711 40 ms frames of 320 samples; AAC frames
        # of 1024 samples, each stamped with its first sample's capture time (stamped with the
        # time of the 40 ms input that completed it, the steps were 640 and 1280: never 1024).
        # The driver gives no capture time: imp estimates it and, when a loaded host made
        # reads late, corrects it downwards by at most 1/8 of a 40 ms input frame per frame
        # (imp/audio/capture.py; that stamps only increase is pinned in
        # tests/test_audio_io_pythonic.py); a large correction is made over the first second,
        # later ones are a few samples. FFmpeg moves its pts to the RTCP sender report's clock
        # when the first report comes: one step of any size, possibly in the window. So: the
        # usual step is the frame size, and after the first second 95 % are within 1/8 of it.
        frame = 1024 if codec == "aac" else 320
        steps = np.diff(pts)
        settled = steps[-(-rate // frame) :]
        assert np.median(settled) == frame, steps
        assert (np.abs(settled - frame) <= frame // 8).mean() >= 0.95, steps
    # The tone: a -12 dBFS sine at 440 Hz (the lossy codecs keep it within a few dB and Hz).
    tail = samples[-rate:]
    rms_dbfs = 20 * np.log10(np.sqrt((tail**2).mean()) * np.sqrt(2))
    assert -15 <= rms_dbfs <= -9, rms_dbfs
    peak_hz = np.argmax(np.abs(np.fft.rfft(tail * np.hanning(tail.size)))) * rate / tail.size
    assert abs(peak_hz - 440) <= 8, peak_hz


def test_backchannel_plays_on_the_speaker(tmp_path: Path) -> None:
    """ONVIF backchannel: a client sends 2 s of a 1 kHz tone as PCMU; the simulated speaker
    (which writes what it plays to a WAV file) played exactly that."""
    wav = tmp_path / "speaker.wav"
    cfg = small_config(
        tmp_path, auth=False, audio={"enabled": True, "codec": "g711u"}, sim={"speaker": str(wav)}
    )
    d = Daemon(cfg, tmp_path).start().warm_up(25)
    try:
        sent = talk("127.0.0.1", cfg["rtsp"]["port"], "/ch1", seconds=2.0, hz=1000.0)
        time.sleep(0.5)  # the last packets reach the speaker
    finally:
        assert d.stop() == 0, "".join(d.lines)
    assert sent == 100
    with av.open(str(wav)) as container:
        rate = container.streams.audio[0].rate
        played = np.concatenate([f.to_ndarray().ravel() for f in container.decode(audio=0)])
    loud = np.flatnonzero(np.abs(played.astype(np.float64)) > 3000)
    assert loud.size, "the speaker played nothing loud"
    span = (loud[-1] - loud[0]) / rate
    assert 1.9 <= span <= 2.1, span
    tone = played[loud[0] : loud[-1]].astype(np.float64)
    peak_hz = np.argmax(np.abs(np.fft.rfft(tone * np.hanning(tone.size)))) * rate / tone.size
    assert abs(peak_hz - 1000) <= 2, peak_hz


@pytest.fixture
def audio_down() -> Iterator[None]:
    import imp.audio
    from imp.audio import aenc

    yield
    aenc.get_aenc().shutdown()
    imp.audio.shutdown()


@pytest.mark.parametrize("lost", [None, 10])
def test_aac_frames_stamped_with_their_first_sample(audio_down: None, lost: int | None) -> None:
    """The streamer's AAC path (Microphone 16 kHz, 40 ms frames -> AENC with AacEncoder): each
    1024-sample frame carries the capture time of its first sample: the timestamp of the 40 ms
    input holding it plus its offset there. With the virtual clock the inputs are exactly
    40 ms apart, so the stamps step exactly 64 ms (1024 samples) and stamp minus capture time
    is 0 for every frame. ``lost``: that input never reaches the encoder (a lost microphone
    frame): the frames after it move 40 ms later with their samples' capture times."""
    import imp
    from imp.audio import Microphone, aenc
    from imp.audio.codecs.pyav import AacEncoder
    from imp.kernel import sim_overrides

    sim_overrides(clock="virtual", mic="tone:440:-12")
    rate, stamps, inputs = 16000, [], []
    with (
        Microphone(rate=rate, frame_ms=40) as mic,
        aenc.open_encoder(encoder=AacEncoder(rate)) as enc,
    ):
        for n, chunk in enumerate(mic.frames(40)):
            inputs.append(chunk.timestamp)
            if n != lost:
                enc.send(chunk.samples, chunk.timestamp, rate)
            chunk.release()
            while True:
                try:
                    stream = enc.get(timeout=0)
                except imp.Timeout:
                    break
                with stream:
                    stamps.append(stream.timestamp)
    assert np.all(np.diff(inputs) == 40000), np.diff(inputs)
    t0 = inputs[0]
    # Frame k starts at sample 1024 (k - 1) of those sent (FFmpeg's AAC primes with 1024).
    # Its capture time: t0 + index / rate, 40 ms later from the sample the lost input left out.
    gap_at = 640 * lost if lost is not None else None
    expected = [
        t0 + round((i + (640 if gap_at is not None and i >= gap_at else 0)) * 1e6 / rate)
        for i in (1024 * (k - 1) for k in range(len(stamps)))
    ]
    assert len(stamps) >= 20
    assert stamps == expected
    if lost is None:
        assert set(np.diff(stamps)) == {64000}
