"""The audio ABI seen from a MIPS32 process: every ``/dev/dsp`` ioctl number and argument
layout, every audio struct of ``imp.types`` at its vendor o32 size and offsets, and sample-Ai
over ``kernel_stubs`` with real 32-bit frame addresses."""

from __future__ import annotations

import ctypes
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import imp.types as t
from imp.kernel import abi, abi_audio

AUDIO_STRUCTS = (
    "IMPAudioIOAttr",
    "IMPAudioFrame",
    "IMPAudioIChnParam",
    "IMPAudioOChnState",
    "IMPAudioStream",
    "IMPAudioEncChnAttr",
    "IMPAudioEncEncoder",
    "IMPAudioDecChnAttr",
    "IMPAudioDecDecoder",
    "IMPAudioAgcConfig",
    "IMPDmicAttr",
    "IMPDmicFrame",
    "IMPDmicChnFrame",
    "IMPDmicChnParam",
    "DmicXInfo",
)

# (direction, nr, argument size) of each /dev/dsp command, type 'P' (kernel_abi.md §6)
IOCTLS = {
    "SNDCTL_DSP_SPEED": ("rw", 0x02, 4),
    "SNDCTL_DSP_STEREO": ("rw", 0x03, 4),
    "SNDCTL_DSP_SETFMT": ("rw", 0x05, 4),
    "SNDCTL_DSP_CHANNELS": ("rw", 0x06, 4),
    "SNDCTL_DSP_GETFMTS": ("r", 0x0B, 4),
    "SNDCTL_EXT_SET_REPLAY_VOLUME": ("r", 0x5A, 4),
    "SNDCTL_EXT_SET_RECORD_VOLUME": ("r", 0x5B, 4),
    "SNDCTL_EXT_DISABLE_AEC": ("r", 0x64, 4),
    "SNDCTL_EXT_ENABLE_AEC": ("r", 0x65, 4),
    "SNDCTL_EXT_ENABLE_STREAM": ("r", 0x66, 4),
    "SNDCTL_EXT_DISABLE_STREAM": ("r", 0x67, 4),
    "SNDCTL_EXT_GET_AI_STREAM": ("r", 0x68, ctypes.sizeof(abi_audio.AiStreamArg)),
    "SNDCTL_EXT_SET_AO_STREAM": ("r", 0x69, ctypes.sizeof(abi_audio.AoStreamArg)),
    "SNDCTL_EXT_FLUSH_STREAM": ("r", 0x6A, 4),
    "SNDCTL_EXT_SYNC_STREAM": ("r", 0x6B, 4),
    "SNDCTL_EXT_ENABLE_DMIC_STREAM": ("r", 0x70, 4),
    "SNDCTL_EXT_DISABLE_DMIC_STREAM": ("r", 0x71, 4),
}


def test_every_dsp_ioctl_number(checked: Counter[str]) -> None:
    assert set(IOCTLS) == set(abi_audio.IOCTL_NUMBERS)
    for name, (direction, nr, size) in IOCTLS.items():
        literal = abi_audio.IOCTL_NUMBERS[name]
        assert abi.ioc(direction, "P", nr, size, arch="mips") == literal, name
        assert abi.decode_mips(literal) == (direction, "P", nr, size), name
        checked["audio ioctl numbers"] += 1


def test_stream_argument_layouts(checked: Counter[str]) -> None:
    assert ctypes.sizeof(abi_audio.AiStreamArg) == 12
    assert [abi_audio.AiStreamArg.data.offset, abi_audio.AiStreamArg.aec.offset] == [0, 4]
    assert abi_audio.AiStreamArg.size.offset == 8
    assert ctypes.sizeof(abi_audio.AoStreamArg) == 8
    assert abi_audio.AoStreamArg.size.offset == 4
    assert bytes(abi_audio.AoStreamArg(0x12345678, 1280)) == bytes.fromhex("7856341200050000")
    checked["audio ABI layouts"] += 2


def test_audio_structs_have_their_vendor_o32_layout(
    v116: dict[str, Any], checked: Counter[str]
) -> None:
    problems = []
    for name in AUDIO_STRUCTS:
        cls = getattr(t, name)
        want = v116["sizeof_mips32"][name]
        if ctypes.sizeof(cls) != want:
            problems.append(f"sizeof({name}) = {ctypes.sizeof(cls)}, vendor {want}")
        for field, offset in v116["offsetof_mips32"].get(name, {}).items():
            if getattr(cls, field).offset != offset:
                problems.append(f"offsetof({name}, {field}) = {getattr(cls, field).offset}")
        checked["audio structs"] += 1
    assert not problems, "\n".join(problems)
    assert ctypes.sizeof(t.IMPAudioFrame) == 32 and t.IMPAudioFrame.timeStamp.offset == 16


@pytest.fixture
def sim(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("IMP_PLATFORM", "sim")
    monkeypatch.setenv("IMP_SIM_CLOCK", "virtual")
    monkeypatch.setenv("IMP_SIM_MIC", "tone:1000:-40")
    from imp.kernel import set_kernel, sim_overrides

    sim_overrides()
    yield
    import imp.audio

    imp.audio.shutdown()
    set_kernel(None)


def test_sample_ai_over_kernel_stubs(sim: Any, tmp_path: Path) -> None:
    from imp.samples import ai

    path = ai.run(str(tmp_path), frames=25, vol=60, gain=12)
    data = np.fromfile(path, dtype="<i2")
    assert len(data) * 2 == 25 * 1280
    assert abs(int(np.abs(data).max()) - 328) <= 1  # tone:1000:-40 at unity


def test_ai_frames_carry_32_bit_addresses(sim: Any) -> None:
    import imp.capi as capi
    from imp.samples import audio_common as ac

    ac.ai_start(60, 12)
    frm = capi.IMPAudioFrame()
    assert capi.IMP_AI_GetFrame(ac.AI_DEV, ac.AI_CHN, frm, capi.IMPBlock.BLOCK) == 0
    addr = ctypes.cast(frm.virAddr, ctypes.c_void_p).value
    assert addr is not None and addr < 1 << 32 and frm.phyAddr >= 0x6300000
    samples = np.frombuffer((ctypes.c_char * frm.len).from_address(addr), dtype="<i2")
    assert abs(int(np.abs(samples).max()) - 328) <= 1
    assert capi.IMP_AI_ReleaseFrame(ac.AI_DEV, ac.AI_CHN, frm) == 0
    ac.ai_stop()
