"""prudynt-t's audio thread and backchannel (usage.md §1.9) through imp.capi, with G.711A/U,
G.726 and AAC/Opus registered through C-style callbacks; FFmpeg decodes every stream."""

from __future__ import annotations

import ctypes
import io
import threading
from collections.abc import Iterator
from typing import Any

import av
import numpy as np
import pytest

import imp.audio
import imp.capi as capi
from imp.audio.adec import get_adec
from imp.audio.aenc import get_aenc
from imp.audio.codecs import PcmFrame
from imp.audio.codecs.pyav import AacDecoder, AacEncoder, OpusEncoder
from imp.kernel import sim_overrides

AI_DEV, AI_CHN, AE_CHN = 1, 0, 0
TONE_HZ = 1000


@pytest.fixture(autouse=True)
def audio_down() -> Iterator[None]:
    yield
    get_aenc().shutdown()
    get_adec().shutdown()
    imp.audio.shutdown()


# -- prudynt's C-side encoders: a thread_local object behind three static callbacks -------------
_tls = threading.local()


@capi.IMPAudioEncEncoder._fields_[3][1]  # type: ignore[misc]
def _open_encoder(attr: int, enc: int) -> int:
    return 0 if getattr(_tls, "encoder", None) is not None else -1


@capi.IMPAudioEncEncoder._fields_[4][1]  # type: ignore[misc]
def _encode_frame(enc: int, data: Any, outbuf: Any, out_len: Any) -> int:
    encoder = getattr(_tls, "encoder", None)
    if encoder is None:
        return -1
    frame = data.contents
    samples = np.ctypeslib.as_array(
        ctypes.cast(frame.virAddr, ctypes.POINTER(ctypes.c_int16)), shape=(frame.len // 2,)
    )
    packet = encoder.encode(PcmFrame(samples.copy(), _tls.rate, frame.timeStamp))
    ctypes.memmove(outbuf, packet, len(packet))
    out_len[0] = len(packet)
    return 0


@capi.IMPAudioEncEncoder._fields_[5][1]  # type: ignore[misc]
def _close_encoder(enc: int) -> int:
    return 0 if getattr(_tls, "encoder", None) is not None else -1


def _io_attr(rate: int) -> capi.IMPAudioIOAttr:
    a = capi.IMPAudioIOAttr()
    a.samplerate, a.bitwidth, a.soundmode = (
        rate,
        capi.AUDIO_BIT_WIDTH_16,
        capi.AUDIO_SOUND_MODE_MONO,
    )
    a.frmNum, a.numPerFrm, a.chnCnt = 30, rate * 40 // 1000, 1
    return a


def prudynt_audio_thread(fmt: str, frames: int) -> tuple[list[bytes], list[int], list[int], int]:
    """IMPAudio::init, the read loop and deinit as prudynt-t calls them. Returns the encoded
    streams, their timestamps, the AI frame timestamps and the sample rate."""
    rate = 8000 if fmt in ("G711A", "G711U", "G726") else 16000
    handle = ctypes.c_int(-1)
    if fmt in ("AAC", "OPUS"):
        _tls.encoder = AacEncoder(rate) if fmt == "AAC" else OpusEncoder(rate, frame_ms=40)
        _tls.rate = rate
        enc = capi.IMPAudioEncEncoder()
        enc.maxFrmLen = 1024
        enc.name = fmt.encode()
        enc.openEncoder, enc.encoderFrm, enc.closeEncoder = (
            _open_encoder,
            _encode_frame,
            _close_encoder,
        )
        assert capi.IMP_AENC_RegisterEncoder(ctypes.byref(handle), ctypes.byref(enc)) == 0
        pt = handle.value
    else:
        pt = {"G711A": capi.PT_G711A, "G711U": capi.PT_G711U, "G726": capi.PT_G726}[fmt]
    attr = capi.IMPAudioEncChnAttr()
    attr.type, attr.bufSize, attr.value = pt, 20, None
    assert capi.IMP_AENC_CreateChn(AE_CHN, ctypes.byref(attr)) == 0

    io_attr = _io_attr(rate)
    assert capi.IMP_AI_SetPubAttr(AI_DEV, ctypes.byref(io_attr)) == 0
    assert capi.IMP_AI_GetPubAttr(AI_DEV, ctypes.byref(io_attr)) == 0
    assert capi.IMP_AI_Enable(AI_DEV) == 0
    param = capi.IMPAudioIChnParam(usrFrmDepth=30)
    assert capi.IMP_AI_SetChnParam(AI_DEV, AI_CHN, ctypes.byref(param)) == 0
    assert capi.IMP_AI_EnableChn(AI_DEV, AI_CHN) == 0
    assert capi.IMP_AI_SetVol(AI_DEV, AI_CHN, 60) == 0
    assert capi.IMP_AI_SetGain(AI_DEV, AI_CHN, 12) == 0

    streams: list[bytes] = []
    stamps: list[int] = []
    ai_stamps: list[int] = []
    for _ in range(frames):
        assert capi.IMP_AI_PollingFrame(AI_DEV, AI_CHN, 500) == 0
        frame = capi.IMPAudioFrame()
        assert capi.IMP_AI_GetFrame(AI_DEV, AI_CHN, ctypes.byref(frame), capi.BLOCK) == 0
        ai_stamps.append(frame.timeStamp)
        assert capi.IMP_AENC_SendFrame(AE_CHN, ctypes.byref(frame)) == 0
        timeout = 500 if fmt not in ("AAC", "OPUS") else 20  # those gather input: often no stream
        if capi.IMP_AENC_PollingStream(AE_CHN, timeout) == 0:
            s = capi.IMPAudioStream()
            assert capi.IMP_AENC_GetStream(AE_CHN, ctypes.byref(s), capi.BLOCK) == 0
            streams.append(ctypes.string_at(s.stream, s.len))
            stamps.append(s.timeStamp)
            assert capi.IMP_AENC_ReleaseStream(AE_CHN, ctypes.byref(s)) == 0
        assert capi.IMP_AI_ReleaseFrame(AI_DEV, AI_CHN, ctypes.byref(frame)) == 0

    if fmt in ("AAC", "OPUS"):
        assert capi.IMP_AENC_UnRegisterEncoder(ctypes.byref(handle)) == 0
    assert capi.IMP_AENC_DestroyChn(AE_CHN) == 0  # closeEncoder runs here, on this thread
    assert capi.IMP_AI_DisableChn(AI_DEV, AI_CHN) == 0
    assert capi.IMP_AI_Disable(AI_DEV) == 0
    _tls.encoder = None
    return streams, stamps, ai_stamps, rate


def dominant_hz(pcm: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(pcm.astype(float) * np.hanning(len(pcm))))
    return float(np.fft.rfftfreq(len(pcm), 1 / rate)[int(np.argmax(spectrum))])


def ffmpeg_decode(fmt: str, streams: list[bytes], rate: int) -> np.ndarray:
    if fmt in ("G711A", "G711U"):
        ctx = av.CodecContext.create("pcm_alaw" if fmt == "G711A" else "pcm_mulaw", "r")
        ctx.sample_rate, ctx.layout = rate, "mono"
        return np.concatenate(
            [f.to_ndarray().reshape(-1) for s in streams for f in ctx.decode(av.Packet(s))]
        )
    if fmt == "G726":
        container = av.open(
            io.BytesIO(b"".join(streams)),
            format="g726le",
            options={"code_size": "4", "sample_rate": str(rate)},
        )
    elif fmt == "AAC":
        container = av.open(io.BytesIO(b"".join(streams)), format="aac")
    else:
        ctx = av.CodecContext.create("opus", "r")
        ctx.sample_rate, ctx.layout = 48000, "mono"
        out = [f.to_ndarray().reshape(-1) for s in streams for f in ctx.decode(av.Packet(s))]
        return (np.concatenate(out) * 32767).astype(np.int16)
    pcm = np.concatenate([f.to_ndarray().reshape(-1) for f in container.decode(audio=0)])
    return pcm if pcm.dtype == np.int16 else (pcm * 32767).astype(np.int16)


@pytest.mark.parametrize("fmt", ["G711A", "G711U", "G726", "AAC", "OPUS"])
def test_prudynt_audio_thread(fmt: str) -> None:
    sim_overrides(clock="virtual", mic=f"tone:{TONE_HZ}:-20")
    frames = 50  # 2 s
    streams, stamps, ai_stamps, rate = prudynt_audio_thread(fmt, frames)
    per_frame = rate * 40 // 1000
    if fmt in ("G711A", "G711U", "G726"):
        assert len(streams) == frames  # one stream per AI frame
        assert stamps == ai_stamps  # the capture timestamps
        bytes_per_frame = per_frame if fmt != "G726" else per_frame // 2  # G.726: 32 kbit/s
        assert {len(s) for s in streams} == {bytes_per_frame}
    else:
        assert len(streams) >= frames * per_frame // (1024 if fmt == "AAC" else per_frame) - 3
        assert all(t in ai_stamps for t in stamps)
    pcm = ffmpeg_decode(fmt, streams, rate)
    out_rate = 48000 if fmt == "OPUS" else rate
    expected = frames * per_frame * out_rate // rate
    assert abs(len(pcm) - expected) <= 3 * 1024 * out_rate // rate
    steady = pcm[len(pcm) // 4 :]
    level = 20 * np.log10(np.sqrt(2 * np.mean(steady.astype(float) ** 2)) / 32768)
    hz = dominant_hz(steady, out_rate)
    print(
        f"{fmt}: {len(streams)} streams, FFmpeg: {len(pcm)} samples, {hz:.0f} Hz, {level:.1f} dBFS"
    )
    assert abs(hz - TONE_HZ) <= 10
    assert abs(level - (-20)) <= 1.5


# -- the backchannel -------------------------------------------------------------------------------
@capi.IMPAudioDecDecoder._fields_[2][1]  # type: ignore[misc]
def _open_decoder(attr: int, dec: int) -> int:
    _tls.decoder = AacDecoder(16000)
    return 0


@capi.IMPAudioDecDecoder._fields_[3][1]  # type: ignore[misc]
def _decode_frame(dec: int, inbuf: Any, in_len: int, outbuf: Any, out_len: Any, chns: Any) -> int:
    pcm = _tls.decoder.decode(ctypes.string_at(inbuf, in_len))
    ctypes.memmove(outbuf, pcm.tobytes(), pcm.nbytes)
    out_len[0] = pcm.nbytes
    chns[0] = 1
    return 0


@capi.IMPAudioDecDecoder._fields_[5][1]  # type: ignore[misc]
def _close_decoder(dec: int) -> int:
    _tls.decoder = None
    return 0


def _ffmpeg_encode(codec: str, pcm: np.ndarray, rate: int, frame: int) -> list[bytes]:
    ctx = av.CodecContext.create(codec, "w")
    ctx.sample_rate, ctx.layout = rate, "mono"
    ctx.format = ctx.codec.audio_formats[0].name
    ctx.open()
    resampler = av.AudioResampler(format=ctx.format.name, layout="mono", rate=rate)
    packets: list[bytes] = []
    for i in range(0, len(pcm), frame):
        f = av.AudioFrame.from_ndarray(
            pcm[i : i + frame].reshape(1, -1), format="s16", layout="mono"
        )
        f.sample_rate = rate
        for g in resampler.resample(f):
            packets += [bytes(p) for p in ctx.encode(g)]
    return packets


def _adts(packets: list[bytes], rate: int) -> list[bytes]:
    from imp.audio.codecs.pyav import adts_header

    return [adts_header(len(p), rate, 1) + p for p in packets]


def _send_and_get(chn: int, payload: bytes) -> np.ndarray:
    buf = (ctypes.c_uint8 * len(payload)).from_buffer_copy(payload)
    s = capi.IMPAudioStream()
    s.stream, s.len = ctypes.cast(buf, ctypes.POINTER(ctypes.c_uint8)), len(payload)
    assert capi.IMP_ADEC_SendStream(chn, ctypes.byref(s), capi.BLOCK) == 0
    out = capi.IMPAudioStream()
    if capi.IMP_ADEC_PollingStream(chn, 0) != 0:
        return np.zeros(0, np.int16)  # a decoder still priming (AAC's first packet)
    assert capi.IMP_ADEC_GetStream(chn, ctypes.byref(out), capi.BLOCK) == 0
    pcm = np.frombuffer(ctypes.string_at(out.stream, out.len), dtype=np.int16).copy()
    assert capi.IMP_ADEC_ReleaseStream(chn, ctypes.byref(out)) == 0
    return pcm


def test_prudynt_backchannel() -> None:
    """ADEC G711U on 1, G711A on 2, a registered AAC decoder on 0; RTP-sized payloads."""
    attr = capi.IMPAudioDecChnAttr()
    attr.type, attr.bufSize, attr.mode = capi.PT_G711U, 20, capi.ADEC_MODE_PACK
    assert capi.IMP_ADEC_CreateChn(1, ctypes.byref(attr)) == 0
    attr.type = capi.PT_G711A
    assert capi.IMP_ADEC_CreateChn(2, ctypes.byref(attr)) == 0
    dec = capi.IMPAudioDecDecoder()
    dec.type, dec.name = capi.PT_MAX, b"AAC"
    dec.openDecoder, dec.decodeFrm, dec.closeDecoder = _open_decoder, _decode_frame, _close_decoder
    handle = ctypes.c_int(-1)
    assert capi.IMP_ADEC_RegisterDecoder(ctypes.byref(handle), ctypes.byref(dec)) == 0
    attr.type = handle.value
    assert capi.IMP_ADEC_CreateChn(0, ctypes.byref(attr)) == 0

    t8 = np.arange(8000) / 8000
    tone8 = (8000 * np.sin(2 * np.pi * 440 * t8)).astype(np.int16)
    for chn, codec in ((1, "pcm_mulaw"), (2, "pcm_alaw")):
        payloads = _ffmpeg_encode(codec, tone8, 8000, 160)  # 20 ms RTP payloads
        ours = np.concatenate([_send_and_get(chn, p) for p in payloads])
        ctx = av.CodecContext.create(codec, "r")
        ctx.sample_rate, ctx.layout = 8000, "mono"
        theirs = np.concatenate(
            [f.to_ndarray().reshape(-1) for p in payloads for f in ctx.decode(av.Packet(p))]
        )
        assert np.array_equal(ours, theirs)  # bit-exact G.711 decoding

    t16 = np.arange(32000) / 16000
    tone16 = (8000 * np.sin(2 * np.pi * 440 * t16)).astype(np.int16)
    aac = _adts(_ffmpeg_encode("aac", tone16, 16000, 1024), 16000)
    ours = np.concatenate([_send_and_get(0, p) for p in aac])
    assert len(ours) >= len(tone16) - 3 * 1024
    steady = ours[len(ours) // 4 :]
    assert abs(dominant_hz(steady, 16000) - 440) <= 10
    level = 20 * np.log10(np.sqrt(2 * np.mean(steady.astype(float) ** 2)) / 8000)
    assert abs(level) <= 1.5

    for chn in (0, 1, 2):
        assert capi.IMP_ADEC_DestroyChn(chn) == 0
    assert capi.IMP_ADEC_UnRegisterDecoder(ctypes.byref(handle)) == 0
    assert getattr(_tls, "decoder", "gone") is None  # closeDecoder ran
