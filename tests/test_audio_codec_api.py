"""AENC/ADEC: bad input to all 17 functions (error value + imp.capi log line, never an
exception), stream-buffer rules, and the Pythonic layer (ImpError subclasses, iteration)."""

from __future__ import annotations

import ctypes
import logging
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

import imp.capi as capi
from imp.audio import adec, aenc
from imp.audio.codecs import PayloadType, builtin_encoder
from imp.audio.codecs.g711 import alaw_decode
from imp.audio.codecs.pyav import AacDecoder, AacEncoder
from imp.errors import AlreadyExists, Busy, ImpError, InvalidArgument, NotFound, Timeout


@pytest.fixture(autouse=True)
def modules_down() -> Iterator[None]:
    yield
    aenc.get_aenc().shutdown()
    adec.get_adec().shutdown()


def _frame(samples: np.ndarray) -> capi.IMPAudioFrame:
    f = capi.IMPAudioFrame()
    f.bitwidth, f.len, f.timeStamp = 16, samples.nbytes, 777
    f.virAddr = ctypes.cast(samples.ctypes.data, ctypes.POINTER(ctypes.c_uint32))
    return f


def _stream(data: bytes) -> tuple[capi.IMPAudioStream, Any]:
    buf = (ctypes.c_uint8 * len(data)).from_buffer_copy(data)
    s = capi.IMPAudioStream()
    s.stream, s.len = ctypes.cast(buf, ctypes.POINTER(ctypes.c_uint8)), len(data)
    return s, buf


PCM = (np.sin(np.arange(320) / 3) * 9000).astype(np.int16)
NULL_FN = capi.IMPAudioEncEncoder._fields_[4][1]()


def _bad_calls() -> list[tuple[str, Callable[[], Any]]]:
    good_frame, stream = _frame(PCM), capi.IMPAudioStream()
    empty_frame = capi.IMPAudioFrame()
    odd = _frame(PCM)
    odd.len = 3
    eight_bit = _frame(PCM)
    eight_bit.bitwidth = 8
    bad_attr = capi.IMPAudioEncChnAttr(type=99, bufSize=20)
    zero_buf = capi.IMPAudioEncChnAttr(type=1, bufSize=0)
    no_frm = capi.IMPAudioEncEncoder(maxFrmLen=100)
    big = capi.IMPAudioEncEncoder(maxFrmLen=0)
    dec_attr = capi.IMPAudioDecChnAttr(type=42, bufSize=20)
    dec_mode = capi.IMPAudioDecChnAttr(type=1, bufSize=20, mode=7)
    no_dec = capi.IMPAudioDecDecoder()
    s_null, _keep = capi.IMPAudioStream(), None
    h = ctypes.c_int(1234)
    return [
        (
            "IMP_AENC_CreateChn",
            lambda: capi.IMP_AENC_CreateChn(-1, capi.IMPAudioEncChnAttr(type=1, bufSize=20)),
        ),
        (
            "IMP_AENC_CreateChn",
            lambda: capi.IMP_AENC_CreateChn(32, capi.IMPAudioEncChnAttr(type=1, bufSize=20)),
        ),
        ("IMP_AENC_CreateChn", lambda: capi.IMP_AENC_CreateChn(0, None)),
        ("IMP_AENC_CreateChn", lambda: capi.IMP_AENC_CreateChn(0, capi.IMPAudioStream())),
        ("IMP_AENC_CreateChn", lambda: capi.IMP_AENC_CreateChn(0, bad_attr)),
        ("IMP_AENC_CreateChn", lambda: capi.IMP_AENC_CreateChn(0, zero_buf)),
        (
            "IMP_AENC_CreateChn",
            lambda: capi.IMP_AENC_CreateChn("0", capi.IMPAudioEncChnAttr(type=1, bufSize=2)),
        ),
        ("IMP_AENC_DestroyChn", lambda: capi.IMP_AENC_DestroyChn(5)),
        ("IMP_AENC_DestroyChn", lambda: capi.IMP_AENC_DestroyChn(None)),
        ("IMP_AENC_SendFrame", lambda: capi.IMP_AENC_SendFrame(5, good_frame)),
        ("IMP_AENC_SendFrame", lambda: capi.IMP_AENC_SendFrame(0, None)),
        ("IMP_AENC_SendFrame", lambda: capi.IMP_AENC_SendFrame(0, empty_frame)),
        ("IMP_AENC_SendFrame", lambda: capi.IMP_AENC_SendFrame(0, odd)),
        ("IMP_AENC_SendFrame", lambda: capi.IMP_AENC_SendFrame(0, eight_bit)),
        ("IMP_AENC_SendFrame", lambda: capi.IMP_AENC_SendFrame(0, stream)),
        ("IMP_AENC_PollingStream", lambda: capi.IMP_AENC_PollingStream(5, 10)),
        ("IMP_AENC_PollingStream", lambda: capi.IMP_AENC_PollingStream(0, -1)),
        ("IMP_AENC_PollingStream", lambda: capi.IMP_AENC_PollingStream(0, 10)),  # nothing sent
        ("IMP_AENC_GetStream", lambda: capi.IMP_AENC_GetStream(0, None, 0)),
        ("IMP_AENC_GetStream", lambda: capi.IMP_AENC_GetStream(0, stream, 5)),
        ("IMP_AENC_GetStream", lambda: capi.IMP_AENC_GetStream(0, stream, capi.NOBLOCK)),
        ("IMP_AENC_GetStream", lambda: capi.IMP_AENC_GetStream(0, good_frame, capi.NOBLOCK)),
        ("IMP_AENC_ReleaseStream", lambda: capi.IMP_AENC_ReleaseStream(0, stream)),  # uninitialised
        ("IMP_AENC_ReleaseStream", lambda: capi.IMP_AENC_ReleaseStream(0, None)),
        ("IMP_AENC_ReleaseStream", lambda: capi.IMP_AENC_ReleaseStream(9, stream)),
        ("IMP_AENC_RegisterEncoder", lambda: capi.IMP_AENC_RegisterEncoder(None, no_frm)),
        ("IMP_AENC_RegisterEncoder", lambda: capi.IMP_AENC_RegisterEncoder(ctypes.c_int(), None)),
        ("IMP_AENC_RegisterEncoder", lambda: capi.IMP_AENC_RegisterEncoder(ctypes.c_int(), no_frm)),
        ("IMP_AENC_RegisterEncoder", lambda: capi.IMP_AENC_RegisterEncoder(ctypes.c_int(), big)),
        ("IMP_AENC_RegisterEncoder", lambda: capi.IMP_AENC_RegisterEncoder(ctypes.c_int(), no_dec)),
        ("IMP_AENC_UnRegisterEncoder", lambda: capi.IMP_AENC_UnRegisterEncoder(ctypes.byref(h))),
        ("IMP_AENC_UnRegisterEncoder", lambda: capi.IMP_AENC_UnRegisterEncoder(None)),
        ("IMP_AENC_UnRegisterEncoder", lambda: capi.IMP_AENC_UnRegisterEncoder(3)),
        (
            "IMP_ADEC_CreateChn",
            lambda: capi.IMP_ADEC_CreateChn(-3, capi.IMPAudioDecChnAttr(type=1, bufSize=5)),
        ),
        ("IMP_ADEC_CreateChn", lambda: capi.IMP_ADEC_CreateChn(1, None)),
        ("IMP_ADEC_CreateChn", lambda: capi.IMP_ADEC_CreateChn(1, dec_attr)),
        ("IMP_ADEC_CreateChn", lambda: capi.IMP_ADEC_CreateChn(1, dec_mode)),
        ("IMP_ADEC_CreateChn", lambda: capi.IMP_ADEC_CreateChn(1, capi.IMPAudioEncChnAttr())),
        ("IMP_ADEC_DestroyChn", lambda: capi.IMP_ADEC_DestroyChn(4)),
        ("IMP_ADEC_DestroyChn", lambda: capi.IMP_ADEC_DestroyChn(1.5)),
        ("IMP_ADEC_SendStream", lambda: capi.IMP_ADEC_SendStream(4, _stream(b"\x55" * 4)[0], 0)),
        ("IMP_ADEC_SendStream", lambda: capi.IMP_ADEC_SendStream(0, None, 0)),
        ("IMP_ADEC_SendStream", lambda: capi.IMP_ADEC_SendStream(0, s_null, 0)),
        ("IMP_ADEC_SendStream", lambda: capi.IMP_ADEC_SendStream(0, _stream(b"\x55")[0], 3)),
        ("IMP_ADEC_PollingStream", lambda: capi.IMP_ADEC_PollingStream(4, 1)),
        ("IMP_ADEC_PollingStream", lambda: capi.IMP_ADEC_PollingStream(0, "x")),
        ("IMP_ADEC_PollingStream", lambda: capi.IMP_ADEC_PollingStream(0, 5)),
        ("IMP_ADEC_GetStream", lambda: capi.IMP_ADEC_GetStream(0, stream, capi.NOBLOCK)),
        ("IMP_ADEC_GetStream", lambda: capi.IMP_ADEC_GetStream(0, None, capi.NOBLOCK)),
        ("IMP_ADEC_GetStream", lambda: capi.IMP_ADEC_GetStream(7, stream, capi.NOBLOCK)),
        ("IMP_ADEC_ReleaseStream", lambda: capi.IMP_ADEC_ReleaseStream(0, stream)),
        ("IMP_ADEC_ReleaseStream", lambda: capi.IMP_ADEC_ReleaseStream(0, None)),
        ("IMP_ADEC_ClearChnBuf", lambda: capi.IMP_ADEC_ClearChnBuf(6)),
        ("IMP_ADEC_ClearChnBuf", lambda: capi.IMP_ADEC_ClearChnBuf(b"0")),
        ("IMP_ADEC_RegisterDecoder", lambda: capi.IMP_ADEC_RegisterDecoder(ctypes.c_int(), no_dec)),
        ("IMP_ADEC_RegisterDecoder", lambda: capi.IMP_ADEC_RegisterDecoder(None, no_dec)),
        ("IMP_ADEC_RegisterDecoder", lambda: capi.IMP_ADEC_RegisterDecoder(ctypes.c_int(), no_frm)),
        ("IMP_ADEC_UnRegisterDecoder", lambda: capi.IMP_ADEC_UnRegisterDecoder(ctypes.byref(h))),
        ("IMP_ADEC_UnRegisterDecoder", lambda: capi.IMP_ADEC_UnRegisterDecoder(None)),
    ]


def test_bad_input_to_all_17_functions(caplog: pytest.LogCaptureFixture) -> None:
    # AENC channel 0 and ADEC channel 0 exist, so the checks reach past the channel lookup
    assert capi.IMP_AENC_CreateChn(0, capi.IMPAudioEncChnAttr(type=capi.PT_G711A, bufSize=4)) == 0
    assert capi.IMP_ADEC_CreateChn(0, capi.IMPAudioDecChnAttr(type=capi.PT_G711A, bufSize=4)) == 0
    calls = _bad_calls()
    assert {name for name, _ in calls} == set(capi.audio_codec.__all__)  # all 17 covered
    for name, call in calls:
        caplog.clear()
        with caplog.at_level(logging.ERROR, logger="imp.capi"):
            rc = call()
        assert rc == -1, name
        lines = [
            r for r in caplog.records if r.name == "imp.capi" and r.getMessage().startswith(name)
        ]
        assert lines, f"{name}: no imp.capi log line"
    print(f"{len(calls)} bad calls over 17 functions: -1 and a log line each")
    assert capi.IMP_AENC_DestroyChn(0) == 0
    assert capi.IMP_ADEC_DestroyChn(0) == 0


def test_streams_live_in_rmem_until_released_in_order() -> None:
    attr = capi.IMPAudioEncChnAttr(type=capi.PT_G711A, bufSize=3)
    assert capi.IMP_AENC_CreateChn(2, attr) == 0
    frames = [_frame((PCM * (i + 1) // 4).astype(np.int16)) for i in range(4)]
    for f in frames[:3]:
        assert capi.IMP_AENC_SendFrame(2, f) == 0
    assert capi.IMP_AENC_SendFrame(2, frames[3]) == -1  # bufSize streams held: full
    s0, s1 = capi.IMPAudioStream(), capi.IMPAudioStream()
    assert capi.IMP_AENC_GetStream(2, s0, capi.BLOCK) == 0
    assert capi.IMP_AENC_GetStream(2, s1, capi.BLOCK) == 0
    assert s0.phyAddr != 0 and s0.seq == 0 and s1.seq == 1 and s0.timeStamp == 777
    data0 = ctypes.string_at(s0.stream, s0.len)
    assert np.array_equal(alaw_decode(data0), alaw_decode(capi_alaw(frames[0])))
    assert capi.IMP_AENC_ReleaseStream(2, s1) == -1  # out of order
    assert capi.IMP_AENC_ReleaseStream(2, s0) == 0
    assert capi.IMP_AENC_ReleaseStream(2, s1) == 0
    assert capi.IMP_AENC_SendFrame(2, frames[3]) == 0  # room again
    assert capi.IMP_AENC_DestroyChn(2) == 0


def capi_alaw(frame: capi.IMPAudioFrame) -> bytes:
    from imp.audio.codecs.g711 import alaw_encode

    n = frame.len // 2
    return alaw_encode(
        np.ctypeslib.as_array(ctypes.cast(frame.virAddr, ctypes.POINTER(ctypes.c_int16)), (n,))
    )


def test_adec_clear_drops_unfetched_and_nonblocking_send_reports_full() -> None:
    attr = capi.IMPAudioDecChnAttr(type=capi.PT_G711U, bufSize=2, mode=capi.ADEC_MODE_PACK)
    assert capi.IMP_ADEC_CreateChn(3, attr) == 0
    s, _buf = _stream(bytes(range(160)))
    assert capi.IMP_ADEC_SendStream(3, s, capi.NOBLOCK) == 0
    assert capi.IMP_ADEC_SendStream(3, s, capi.NOBLOCK) == 0
    assert capi.IMP_ADEC_SendStream(3, s, capi.NOBLOCK) == -1  # full
    assert capi.IMP_ADEC_ClearChnBuf(3) == 0
    assert capi.IMP_ADEC_PollingStream(3, 0) == -1
    assert capi.IMP_ADEC_SendStream(3, s, capi.BLOCK) == 0
    out = capi.IMPAudioStream()
    assert capi.IMP_ADEC_GetStream(3, out, capi.NOBLOCK) == 0
    assert out.len == 320  # 160 mu-law bytes -> 160 16-bit samples
    assert capi.IMP_ADEC_ReleaseStream(3, out) == 0
    assert capi.IMP_ADEC_DestroyChn(3) == 0


def test_encoder_callbacks_run_on_the_calling_thread() -> None:
    seen: list[str] = []
    import threading

    proto = capi.IMPAudioEncEncoder._fields_

    @proto[3][1]  # type: ignore[misc]
    def op(attr: int, enc: int) -> int:
        a = ctypes.cast(attr, ctypes.POINTER(capi.IMPAudioEncChnAttr)).contents
        seen.append(f"open {threading.current_thread().name} bufSize={a.bufSize}")
        return 0

    @proto[4][1]  # type: ignore[misc]
    def frm(enc: int, data: Any, out: Any, out_len: Any) -> int:
        seen.append(f"frame {threading.current_thread().name} len={data.contents.len}")
        out[0], out[1] = 0xAB, 0xCD
        out_len[0] = 2
        return 0

    @proto[5][1]  # type: ignore[misc]
    def cl(enc: int) -> int:
        seen.append(f"close {threading.current_thread().name}")
        return 0

    spec = capi.IMPAudioEncEncoder(maxFrmLen=16, name=b"MY_CODEC")
    spec.openEncoder, spec.encoderFrm, spec.closeEncoder = op, frm, cl
    handle = ctypes.c_int()
    assert capi.IMP_AENC_RegisterEncoder(ctypes.byref(handle), spec) == 0
    assert handle.value > capi.PT_MAX
    assert capi.IMP_AENC_CreateChn(1, capi.IMPAudioEncChnAttr(type=handle.value, bufSize=7)) == 0
    assert capi.IMP_AENC_SendFrame(1, _frame(PCM)) == 0
    s = capi.IMPAudioStream()
    assert capi.IMP_AENC_GetStream(1, s, capi.NOBLOCK) == 0
    assert ctypes.string_at(s.stream, s.len) == b"\xab\xcd"
    assert capi.IMP_AENC_ReleaseStream(1, s) == 0
    assert capi.IMP_AENC_UnRegisterEncoder(ctypes.byref(handle)) == 0  # prudynt's order
    assert capi.IMP_AENC_DestroyChn(1) == 0
    me = threading.current_thread().name
    assert seen == [f"open {me} bufSize=7", f"frame {me} len=640", f"close {me}"]


# -- Pythonic layer --------------------------------------------------------------------------------
def test_pythonic_encoder_and_decoder_round_trip() -> None:
    rate = 16000
    x = (np.sin(2 * np.pi * 500 * np.arange(rate) / rate) * 10000).astype(np.int16)
    with (
        aenc.open_encoder(0, encoder=AacEncoder(rate)) as enc,
        adec.open_decoder(0, decoder=AacDecoder(rate)) as dec,
    ):
        packets: list[bytes] = []
        for i in range(0, len(x), 640):
            if enc.send(x[i : i + 640], timestamp=i * 1_000_000 // rate):
                with enc.get(timeout=0) as stream:
                    assert stream.codec == "aac"
                    packets.append(bytes(stream.data))
        pcm = []
        for p in packets:
            if dec.send(p):
                with dec.get(timeout=0) as frame:
                    pcm.append(frame.samples.copy())
        out = np.concatenate(pcm)
    assert len(packets) >= rate // 1024 - 2
    assert abs(len(out) - len(x)) <= 3 * 1024
    assert not aenc.get_aenc().channels and not adec.get_adec().channels  # closed by `with`


def test_pythonic_registration_and_iteration() -> None:
    handle = aenc.register_encoder("G711A-py", lambda cfg: builtin_encoder(PayloadType.G711A))
    enc = aenc.open_encoder(4, handle)
    for i in range(3):
        enc.send(PCM, timestamp=i)
    got = [(s.seq, s.timestamp, len(s.data)) for s in enc.streams(limit=2, timeout=0)]
    assert got == [(0, 0, 320), (1, 1, 320)]
    with enc.get(timeout=0) as last:
        packet = last.packet()
    assert (packet.codec, packet.kind, packet.pts, packet.seq, packet.sample_rate) == (
        "g711a",
        "audio",
        2,
        2,
        8000,
    )
    assert packet.keyframe and len(packet.data) == 320
    with pytest.raises(Timeout):
        enc.get(timeout=0)
    enc.close()
    aenc.unregister_encoder(handle)
    with pytest.raises(NotFound):
        aenc.unregister_encoder(handle)


def test_pythonic_errors_are_imp_errors() -> None:
    with pytest.raises(InvalidArgument):
        aenc.open_encoder(40, PayloadType.G711A)
    with pytest.raises(InvalidArgument, match="RegisterEncoder"):
        aenc.open_encoder(0, 99)
    with aenc.open_encoder(0, PayloadType.G711U) as enc:
        with pytest.raises(AlreadyExists):
            aenc.open_encoder(0, PayloadType.G711U)
        with pytest.raises(InvalidArgument, match="int16"):
            enc.send(np.zeros(10, np.float32))  # type: ignore[arg-type]
    with adec.open_decoder(0, PayloadType.G711A, buf_size=1) as dec:
        dec.send(b"\xd5" * 80)
        with pytest.raises(Busy):
            dec.send(b"\xd5" * 80, timeout=0)
        with pytest.raises(ImpError):
            dec.send("text")  # type: ignore[arg-type]


def test_aac_and_opus_packets_go_into_an_mp4(tmp_path: Any) -> None:
    """AENC streams as imp.output Packets: Mp4Output writes an audio track FFmpeg reads back."""
    import av

    from imp.audio.codecs.pyav import OpusEncoder
    from imp.output import Mp4Output

    rate = 16000
    x = (np.sin(2 * np.pi * 440 * np.arange(3 * rate) / rate) * 8000).astype(np.int16)
    for chn, (name, encoder) in enumerate(
        (("aac", AacEncoder(rate)), ("opus", OpusEncoder(rate, frame_ms=40)))
    ):
        path = tmp_path / f"{name}.mp4"
        out = Mp4Output(path, probe_seconds=0)
        with aenc.open_encoder(chn, encoder=encoder) as enc:
            for i in range(0, len(x), 640):
                if enc.send(x[i : i + 640], timestamp=i * 1_000_000 // rate):
                    with enc.get(timeout=0) as stream:
                        out.write(stream.packet())
        out.close()
        with av.open(str(path)) as container:
            stream = container.streams.audio[0]
            assert stream.codec_context.name == name
            decoded = sum(f.samples for f in container.decode(audio=0))
        seconds = decoded / stream.codec_context.sample_rate
        print(f"{name} in mp4: {seconds:.2f} s decoded")
        assert abs(seconds - 3.0) <= 0.15


def test_adec_stream_mode_pcm_cut_anywhere() -> None:
    attr = capi.IMPAudioDecChnAttr(type=capi.PT_PCM, bufSize=8, mode=capi.ADEC_MODE_STREAM)
    assert capi.IMP_ADEC_CreateChn(5, attr) == 0
    data = PCM.astype("<i2").tobytes()
    got = b""
    for a, b in ((0, 3), (3, 200), (200, 201), (201, len(data))):
        s, _buf = _stream(data[a:b])
        assert capi.IMP_ADEC_SendStream(5, s, capi.NOBLOCK) == 0
        while capi.IMP_ADEC_PollingStream(5, 0) == 0:
            out = capi.IMPAudioStream()
            assert capi.IMP_ADEC_GetStream(5, out, capi.NOBLOCK) == 0
            got += ctypes.string_at(out.stream, out.len)
            assert capi.IMP_ADEC_ReleaseStream(5, out) == 0
    assert got == data
    assert capi.IMP_ADEC_DestroyChn(5) == 0


def test_channels_on_the_shared_registry() -> None:
    """Numbers, lookups and messages as every module's (imp.core.registry)."""
    a = aenc.open_encoder(None, PayloadType.G711A)
    b = aenc.open_encoder(None, PayloadType.G711U)
    assert (a.chn, b.chn) == (0, 1)
    a.close()
    assert aenc.open_encoder(None, PayloadType.PCM).chn == 0  # lowest free again
    d = adec.open_decoder(payload_type=PayloadType.G711A)
    assert d.chn == 0
    d.close()
    with pytest.raises(NotFound, match="destroyed"):
        adec.get_adec().channel(0)
    with pytest.raises(NotFound, match="IMP_AENC_CreateChn"):
        aenc.get_aenc().channel(7)


def test_system_exit_destroys_channels_and_returns_rmem() -> None:
    from imp import runtime

    assert capi.IMP_System_Init() == 0
    assert capi.IMP_AENC_CreateChn(0, capi.IMPAudioEncChnAttr(type=capi.PT_G711A, bufSize=4)) == 0
    assert capi.IMP_ADEC_CreateChn(0, capi.IMPAudioDecChnAttr(type=capi.PT_G711A, bufSize=4)) == 0
    assert capi.IMP_AENC_SendFrame(0, _frame(PCM)) == 0
    assert capi.IMP_System_Exit() == 0
    assert not aenc.get_aenc().channels and not adec.get_adec().channels
    assert runtime._allocator is None or runtime._allocator.stats()["blocks"] == 0
