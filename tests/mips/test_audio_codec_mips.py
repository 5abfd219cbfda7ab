"""AENC/ADEC on a MIPS32 o32 Python: sample-Audio (AI -> C-registered G.711A encoder -> ADEC)
with its ctypes callbacks and 32-bit stream addresses, and the built-in G.711/PCM types."""

from __future__ import annotations

import ctypes
from pathlib import Path
from typing import Any

import numpy as np
import pytest


@pytest.fixture
def sim(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("IMP_PLATFORM", "sim")
    monkeypatch.setenv("IMP_SIM_CLOCK", "virtual")
    monkeypatch.setenv("IMP_SIM_MIC", "tone:1000:-20")
    from imp.kernel import set_kernel, sim_overrides

    sim_overrides()
    yield
    import imp.audio
    from imp.audio.adec import get_adec
    from imp.audio.aenc import get_aenc

    get_aenc().shutdown()
    get_adec().shutdown()
    imp.audio.shutdown()
    set_kernel(None)


def test_sample_audio_on_mips(sim: Any, tmp_path: Path) -> None:
    from imp.audio.codecs.g711 import alaw_encode
    from imp.samples import audio

    pcm_path, g711_path, dec_path = audio.run(str(tmp_path), seconds=1.0)
    pcm = np.fromfile(pcm_path, dtype="<i2")
    assert len(pcm) == 8000
    assert Path(g711_path).read_bytes() == alaw_encode(pcm.astype(np.int16))
    decoded = np.fromfile(dec_path, dtype="<i2").astype(float)
    snr = 10 * np.log10(np.mean(pcm.astype(float) ** 2) / np.mean((pcm - decoded) ** 2))
    assert snr >= 30


def test_streams_carry_32_bit_addresses(sim: Any) -> None:
    import imp.capi as capi

    assert capi.IMP_AENC_CreateChn(0, capi.IMPAudioEncChnAttr(type=capi.PT_G711U, bufSize=4)) == 0
    pcm = (np.arange(320, dtype=np.int16) * 50).astype(np.int16)
    frm = capi.IMPAudioFrame()
    frm.bitwidth, frm.len = 16, pcm.nbytes
    frm.virAddr = ctypes.cast(pcm.ctypes.data, ctypes.POINTER(ctypes.c_uint32))
    assert capi.IMP_AENC_SendFrame(0, frm) == 0
    s = capi.IMPAudioStream()
    assert capi.IMP_AENC_GetStream(0, s, capi.BLOCK) == 0
    addr = ctypes.cast(s.stream, ctypes.c_void_p).value
    assert addr is not None and addr < 1 << 32 and s.phyAddr >= 0x6300000 and s.len == 320
    assert capi.IMP_AENC_ReleaseStream(0, s) == 0
    assert capi.IMP_AENC_DestroyChn(0) == 0
