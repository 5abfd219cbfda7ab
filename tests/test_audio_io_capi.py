"""The 77 AI / AO / DMIC functions: all implemented; bad input gives the error value and an
``imp.capi`` log line, never an exception, before anything runs and while it runs; the
GetFrameAndRef reference is exactly what the speaker played."""

from __future__ import annotations

import ctypes
import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import imp.audio
import imp.capi as capi
from imp.audio.ai import get_ai
from imp.audio.ao import get_ao
from imp.audio.attrs import IoAttr
from imp.capi._inventory import FUNCTIONS_1_1_6
from imp.errors import ImpError, InvalidArgument, InvalidState, Timeout
from imp.kernel import sim_overrides
from imp.samples import audio_common as ac

MODULES = ("AI", "AO", "DMIC")


@pytest.fixture(autouse=True)
def audio_down() -> Iterator[None]:
    yield
    imp.audio.shutdown()


def _api() -> dict[str, tuple[str, list[list[str]]]]:
    default = Path(__file__).parents[1].parent / "shared/reference/imp_api.json"
    path = Path(os.environ.get("IMP_API_JSON", default))
    if not path.exists():
        pytest.skip(f"reference {path} not found")
    v = json.loads(path.read_text())["v1_1_6"]
    return {f["name"]: (f["ret"], f["args"]) for m in MODULES for f in v["modules"][m]}


def _bad_arg_sets(args: list[list[str]]) -> list[tuple[Any, ...]]:
    wrong = capi.IMPVersion()
    return [
        tuple(None for _ in args),
        tuple(12345 if "char *" in t else "bad" for t, _ in args),
        tuple(wrong if "*" in t or ("IMP" in t and "Block" not in t) else -5 for t, _ in args),
        tuple(-5 if "*" not in t else None for t, _ in args),
    ]


def test_all_77_functions_are_implemented() -> None:
    names = [n for n, m in FUNCTIONS_1_1_6.items() if m in MODULES]
    assert len(names) == 77
    missing = [n for n in names if "not implemented" in (getattr(capi, n).__doc__ or "")]
    assert missing == []


def _check_all(caplog: pytest.LogCaptureFixture, state: str) -> int:
    checked = 0
    for name, (_ret, args) in sorted(_api().items()):
        fn = getattr(capi, name)
        if not args:  # Disable{Ns,Agc,Hpf}: valid in every state
            assert fn() == 0, name
            continue
        for bad in _bad_arg_sets(args):
            caplog.clear()
            with caplog.at_level(logging.ERROR, logger="imp.capi"):
                result = fn(*bad)
            assert result == -1, f"{name}{bad} returned {result!r} ({state})"
            assert any(r.name == "imp.capi" and name in r.getMessage() for r in caplog.records), (
                f"{name}{bad}: no log line ({state})"
            )
            checked += 1
    return checked


def test_bad_input_before_anything_runs(caplog: pytest.LogCaptureFixture) -> None:
    n = _check_all(caplog, "idle")
    print(f"{n} bad audio calls checked with nothing enabled")
    assert n >= 4 * 71


def test_bad_input_while_ai_ao_and_dmic_run(caplog: pytest.LogCaptureFixture) -> None:
    sim_overrides(clock="virtual", mic="silence")
    ac.ai_start(60, 12)
    ac.ao_start(60, 12)
    from imp.samples import dmic_common

    dmic_common.dmic_start(need_aec=0)
    n = _check_all(caplog, "running")
    print(f"{n} bad audio calls checked while running")
    # wrong order while running
    with caplog.at_level(logging.ERROR, logger="imp.capi"):
        assert capi.IMP_AI_SetPubAttr(ac.AI_DEV, ac.io_attr(40)) == -1  # enabled
        frm = capi.IMPAudioFrame()
        assert capi.IMP_AI_GetFrameAndRef(ac.AI_DEV, 0, frm, capi.IMPAudioFrame(), 0) == -1
        assert capi.IMP_AI_ReleaseFrame(ac.AI_DEV, 0, frm) == -1  # never handed out
        assert capi.IMP_AO_SendFrame(ac.AO_DEV, 0, capi.IMPAudioFrame(), 0) == -1  # NULL data
    dmic_common.dmic_stop()
    assert n >= 4 * 71


def test_polling_times_out_and_nonblocking_get_fails_without_frames() -> None:
    sim_overrides(clock="realtime", mic="silence")
    attr = ac.io_attr(4, num_per_frm=16000)  # 1 s frames
    assert capi.IMP_AI_SetPubAttr(0, attr) == 0
    assert capi.IMP_AI_Enable(0) == 0
    assert capi.IMP_AI_EnableChn(0, 0) == 0
    assert capi.IMP_AI_PollingFrame(0, 0, 50) == -1
    frm = capi.IMPAudioFrame()
    assert capi.IMP_AI_GetFrame(0, 0, frm, capi.IMPBlock.NOBLOCK) == -1
    assert capi.IMP_AI_PollingFrame(0, 0, 5000) == 0
    assert capi.IMP_AI_GetFrame(0, 0, frm, capi.IMPBlock.NOBLOCK) == 0
    assert frm.len == 32000
    assert capi.IMP_AI_ReleaseFrame(0, 0, frm) == 0
    assert capi.IMP_AI_Disable(0) == 0


def test_pythonic_layer_raises_imp_errors() -> None:
    ai, ao = get_ai(), get_ao()
    with pytest.raises(InvalidArgument) as e:
        ai.set_pub_attr(0, IoAttr(samplerate=12345))
    assert isinstance(e.value, ValueError) and isinstance(e.value, ImpError)
    with pytest.raises(InvalidState, match="SetPubAttr"):
        ai.enable(1)
    with pytest.raises(InvalidArgument, match=r"0\.5 dB"):
        ai.set_volume(1, 0, 121)
    with pytest.raises(InvalidState, match="EnableChn"):
        ao.send(0, 0, b"\0\0", 2, True)
    sim_overrides(clock="virtual", mic="silence")
    ai.set_pub_attr(1, IoAttr(16000, frmNum=2, numPerFrm=160))
    ai.enable(1)
    ai.enable_chn(1, 0)
    frames = [ai.get_frame(1, 0, True) for _ in range(2)]
    with pytest.raises(Timeout):  # both slots + queue held: nothing more can be captured
        for _ in range(3):
            frames.append(ai.get_frame(1, 0, False))
    for f in frames:
        ai.release_frame(1, 0, f.slot.addr, None)
    ai.disable(1)


def test_get_frame_and_ref_gives_what_the_speaker_played(tmp_path: Path) -> None:
    sim_overrides(clock="virtual", mic="silence", echo="off")
    ac.ao_start(60, 12, frm_num=50)
    ac.ai_start(60, 12)
    assert capi.IMP_AI_EnableAecRefFrame(ac.AI_DEV, ac.AI_CHN, ac.AO_DEV, ac.AO_CHN) == 0
    played = np.arange(1, 640 * 40 + 1, dtype=np.int16)  # every sample different, none 0
    for k in range(40):
        chunk = np.ascontiguousarray(played[k * 640 : (k + 1) * 640])
        f = capi.IMPAudioFrame()
        f.virAddr = ctypes.cast(chunk.ctypes.data, type(f.virAddr))
        f.len = 1280
        assert capi.IMP_AO_SendFrame(ac.AO_DEV, ac.AO_CHN, f, 0) == 0
    refs = []
    for _ in range(60):
        frm, ref = capi.IMPAudioFrame(), capi.IMPAudioFrame()
        if capi.IMP_AI_GetFrameAndRef(ac.AI_DEV, ac.AI_CHN, frm, ref, 0) != 0:
            continue  # captured before the reference was switched on
        addr = ctypes.cast(ref.virAddr, ctypes.c_void_p).value or 0
        assert ref.timeStamp == frm.timeStamp and ref.len == 1280
        refs.append(np.frombuffer((ctypes.c_char * ref.len).from_address(addr), "<i2").copy())
        assert capi.IMP_AI_ReleaseFrame(ac.AI_DEV, ac.AI_CHN, frm) == 0
    heard = np.concatenate(refs)
    start = int(np.flatnonzero(heard)[0])
    first = int(heard[start]) - 1  # frames captured before EnableAecRefFrame carry no reference
    n = min(len(played) - first, len(heard) - start)
    assert n >= 640 * 30
    assert np.array_equal(heard[start : start + n], played[first : first + n])
    assert capi.IMP_AI_DisableAecRefFrame(ac.AI_DEV, ac.AI_CHN, ac.AO_DEV, ac.AO_CHN) == 0


def test_device_vanishing_mid_stream_fails_calls_cleanly(caplog: pytest.LogCaptureFixture) -> None:
    from imp.kernel import current_kernel

    sim_overrides(clock="realtime", mic="silence")
    ac.ai_start(60, 12, depth=2)
    ac.ao_start(60, 12)
    frm = capi.IMPAudioFrame()
    assert capi.IMP_AI_GetFrame(ac.AI_DEV, ac.AI_CHN, frm, capi.IMPBlock.BLOCK) == 0
    assert capi.IMP_AI_ReleaseFrame(ac.AI_DEV, ac.AI_CHN, frm) == 0
    current_kernel().faults.unplug("/dev/dsp")  # type: ignore[attr-defined]
    with caplog.at_level(logging.ERROR, logger="imp.capi"):
        results = [capi.IMP_AI_GetFrame(ac.AI_DEV, ac.AI_CHN, frm, 0) for _ in range(5)]
        assert -1 in results  # once the queued frames are gone: the device error
        assert "ENODEV" in caplog.text or "unplugged" in caplog.text
        silence = np.zeros(640, np.int16)
        f = capi.IMPAudioFrame()
        f.virAddr = ctypes.cast(silence.ctypes.data, type(f.virAddr))
        f.len = 1280
        sent = [capi.IMP_AO_SendFrame(ac.AO_DEV, ac.AO_CHN, f, 1) for _ in range(30)]
        assert -1 in sent  # the writer stopped on the error; SendFrame says so
    # teardown still works and leaves nothing behind
    assert capi.IMP_AI_DisableChn(ac.AI_DEV, ac.AI_CHN) in (0, -1)
    capi.IMP_AI_Disable(ac.AI_DEV)
    capi.IMP_AO_Disable(ac.AO_DEV)
    imp.audio.shutdown()
    k = current_kernel()
    assert k.open_fds() == 0  # type: ignore[attr-defined]
