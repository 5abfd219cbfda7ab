"""The simulated room: the IMP_SIM_MIC sources and their levels, file sources through PyAV, the
echo path's delay and attenuation, the default room, and malformed settings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from imp.kernel import abi_audio as A
from imp.kernel.lowmem import LowBuffer
from kernel_stubs import SimConfig, SimKernel
from kernel_stubs.acoustics import AcousticsConfig, parse_echo, parse_mic, parse_speaker


@pytest.fixture
def user() -> LowBuffer:
    return LowBuffer(1 << 17)


def _capture(
    config: SimConfig,
    user: LowBuffer,
    seconds: float,
    play: np.ndarray | None = None,
) -> np.ndarray:
    """Record ``seconds`` at 16 kHz (while ``play`` goes to the speaker) on the virtual clock."""
    with SimKernel(config) as k:
        fds = []
        for flags in (A.O_RDONLY, A.O_WRONLY):
            fd = k.open(A.DSP_PATH, flags)
            k.ioctl(fd, A.SNDCTL_DSP_SPEED, A.int_arg(16000))
            fds.append(fd)
        ai, ao = fds
        k.ioctl(ai, A.SNDCTL_EXT_ENABLE_STREAM, A.int_arg(0))
        if play is not None:
            k.ioctl(ao, A.SNDCTL_EXT_ENABLE_STREAM, A.int_arg(0))
        out = []
        n = 3200
        played = 0
        for _ in range(round(seconds * 16000 / n)):
            if play is not None and played < len(play):
                chunk = play[played : played + n].astype("<i2").tobytes()
                user.view[65536 : 65536 + len(chunk)] = chunk
                arg = bytearray(bytes(A.AoStreamArg(user.addr + 65536, len(chunk))))
                k.ioctl(ao, A.SNDCTL_EXT_SET_AO_STREAM, arg)
                played += n
            arg = bytearray(bytes(A.AiStreamArg(user.addr, 0, 2 * n)))
            k.ioctl(ai, A.SNDCTL_EXT_GET_AI_STREAM, arg)
            out.append(np.frombuffer(user.view[: 2 * n], dtype="<i2").astype(np.float64))
        return np.concatenate(out)


def _dbfs_rms(x: np.ndarray) -> float:
    """RMS relative to a full-scale sine's (the noise:DBFS definition)."""
    return float(20 * np.log10(np.sqrt(np.mean(x**2)) / (32768 / np.sqrt(2))))


def test_noise_level_is_its_rms_below_a_full_scale_sine(user: LowBuffer) -> None:
    x = _capture(SimConfig(clock="virtual", mic="noise:-30", echo="off"), user, 2.0)
    assert abs(_dbfs_rms(x) + 30) < 0.1


def test_silence_is_zero(user: LowBuffer) -> None:
    assert not _capture(SimConfig(clock="virtual", mic="silence"), user, 0.5).any()


def test_default_room_is_quiet_with_something_audible(user: LowBuffer) -> None:
    x = _capture(SimConfig(clock="virtual", echo="off"), user, 3.0)
    quiet = x[int(0.6 * 16000) : int(2.9 * 16000)]
    chime = x[: int(0.5 * 16000)]
    assert -64 < _dbfs_rms(quiet) < -56
    assert _dbfs_rms(chime) > -40


def test_file_source_is_decoded_mixed_resampled_and_looped(tmp_path: Path, user: LowBuffer) -> None:
    av = pytest.importorskip("av")
    path = tmp_path / "src.wav"
    rate, seconds = 44100, 0.5
    t = np.arange(int(rate * seconds)) / rate
    left = (10000 * np.sin(2 * np.pi * 1000 * t)).astype(np.int16)
    stereo = np.stack([left, left]).astype(np.int16)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("pcm_s16le", rate=rate, layout="stereo")
        frame = av.AudioFrame.from_ndarray(
            stereo.reshape(1, -1, order="F"), format="s16", layout="stereo"
        )
        frame.rate = rate
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    x = _capture(SimConfig(clock="virtual", mic=f"file:{path}", echo="off"), user, 1.2)
    spectrum = np.abs(np.fft.rfft(x[:16000]))
    assert np.argmax(spectrum) == 1000  # 1 kHz at the AI rate (1 Hz bins over 1 s)
    assert 0.8 * 10000 < np.abs(x).max() < 1.1 * 10000  # mono mix of two equal channels
    assert np.abs(x[int(0.55 * 16000) : int(0.9 * 16000)]).max() > 5000  # looped


def test_echo_comes_back_delayed_and_attenuated(user: LowBuffer) -> None:
    rng = np.random.default_rng(3)
    play = (rng.standard_normal(16000) * 4000).astype(np.int16)
    x = _capture(SimConfig(clock="virtual", mic="silence", echo="25:-12"), user, 1.4, play)
    corr = np.correlate(x[:20000], play.astype(np.float64), mode="valid")
    lag = int(np.argmax(corr))
    assert lag == 400  # 25 ms at 16 kHz
    echo = x[lag : lag + 16000]
    gain_db = 20 * np.log10(np.sqrt(np.mean(echo**2)) / np.sqrt(np.mean(play.astype(float) ** 2)))
    assert abs(gain_db + 12) < 0.1
    assert not _capture(
        SimConfig(clock="virtual", mic="silence", echo="off"), user, 1.4, play
    ).any()


@pytest.mark.parametrize(
    ("var", "value", "message"),
    [
        ("IMP_SIM_MIC", "tone:abc", "frequency"),
        ("IMP_SIM_MIC", "tone", "tone:HZ"),
        ("IMP_SIM_MIC", "tone:1000:+3", "below full scale"),
        ("IMP_SIM_MIC", "noise", "noise:DBFS"),
        ("IMP_SIM_MIC", "file:/nonexistent.wav", "not a readable file"),
        ("IMP_SIM_MIC", "music", "one of"),
        ("IMP_SIM_SPEAKER", "/nonexistent/dir/x.wav", "does not exist"),
        ("IMP_SIM_ECHO", "10", "DELAY_MS:DB"),
        ("IMP_SIM_ECHO", "-5:-10", "0..1000"),
        ("IMP_SIM_ECHO", "10:x", "attenuation"),
    ],
)
def test_malformed_settings_name_the_variable(var: str, value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        AcousticsConfig.resolve(environ={var: value})
    assert var in str(info.value)


def test_malformed_overrides_are_refused_when_configured() -> None:
    with pytest.raises(ValueError, match="mic"):
        SimConfig(mic="tone:-5")
    with pytest.raises(ValueError, match="echo"):
        SimConfig(echo="loud")


def test_a_malformed_environment_fails_enable_stream_with_einval(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import errno

    monkeypatch.setenv("IMP_SIM_MIC", "tone:1000:+10")
    with SimKernel(SimConfig(clock="virtual")) as k:
        fd = k.open(A.DSP_PATH, A.O_RDONLY)
        with pytest.raises(OSError) as info:
            k.ioctl(fd, A.SNDCTL_EXT_ENABLE_STREAM, A.int_arg(0))
        assert info.value.errno == errno.EINVAL and "IMP_SIM_MIC" in str(info.value)


def test_parsers_accept_the_documented_forms() -> None:
    assert parse_mic("tone:1000:-40").dbfs == -40 and parse_mic("tone:440").hz == 440
    assert parse_mic("").kind == "room" and parse_mic("silence").kind == "silence"
    assert parse_echo("off").enabled is False and parse_echo("10:-10").delay_ms == 10
    assert parse_speaker("null") is None


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for var in ("IMP_SIM_MIC", "IMP_SIM_SPEAKER", "IMP_SIM_ECHO"):
        monkeypatch.delenv(var, raising=False)
    yield


def test_a_malformed_override_is_an_invalid_argument_for_the_c_api(
    caplog: pytest.LogCaptureFixture,
) -> None:
    import logging

    import imp.capi as capi
    from imp.kernel import set_kernel, sim_overrides

    set_kernel(None)
    sim_overrides(mic="tone:1000:+6")
    with caplog.at_level(logging.ERROR, logger="imp.capi"):
        assert capi.IMP_AI_SetPubAttr(1, capi.IMPAudioIOAttr(16000, 16, 1, 20, 640, 1)) == 0
        assert capi.IMP_AI_Enable(1) == -1
    assert "mic (sim_overrides)" in caplog.text and "internal error" not in caplog.text
    sim_overrides()
