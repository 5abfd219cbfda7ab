"""``IMP_AI_*`` (32) here, with ``IMP_AO_*`` (25, :mod:`._audio_ao`) and ``IMP_DMIC_*`` (20,
:mod:`._audio_dmic`) re-exported: the audio input/output functions of libimp 1.1.6.

Frames handed out (``IMPAudioFrame``, ``IMPDmicChnFrame``) point into rmem: ``virAddr`` is a real
address, ``phyAddr`` its physical address; ``ReleaseFrame`` recognises the frame by either.
``IMP_AO_SendFrame`` copies ``len`` bytes from ``virAddr`` during the call. ``IMPBlock``:
``BLOCK`` (0) waits, ``NOBLOCK`` (1) fails at once when nothing is ready / no buffer is free.
"""

from __future__ import annotations

from typing import Any

from imp.audio.ai import get_ai
from imp.capi._audio_ao import *
from imp.capi._audio_ao import __all__ as _ao_all
from imp.capi._audio_common import address_of, attr_to_c, block_flag, fill_frame, io_attr
from imp.capi._audio_dmic import *
from imp.capi._audio_dmic import __all__ as _dmic_all
from imp.capi._common import c_function, c_string, check_int, deref, scalar_out
from imp.errors import InvalidArgument, InvalidState
from imp.types import (
    IMPAudioAgcConfig,
    IMPAudioFrame,
    IMPAudioIChnParam,
    IMPAudioIOAttr,
)

__all__ = [
    "IMP_AI_DisableAec",
    "IMP_AI_DisableAecRefFrame",
    "IMP_AI_DisableAgc",
    "IMP_AI_DisableChn",
    "IMP_AI_Disable",
    "IMP_AI_DisableHpf",
    "IMP_AI_DisableNs",
    "IMP_AI_EnableAec",
    "IMP_AI_EnableAecRefFrame",
    "IMP_AI_EnableAgc",
    "IMP_AI_EnableChn",
    "IMP_AI_Enable",
    "IMP_AI_EnableHpf",
    "IMP_AI_EnableNs",
    "IMP_AI_GetAlcGain",
    "IMP_AI_GetChnParam",
    "IMP_AI_GetFrame",
    "IMP_AI_GetFrameAndRef",
    "IMP_AI_GetGain",
    "IMP_AI_GetPubAttr",
    "IMP_AI_GetVol",
    "IMP_AI_PollingFrame",
    "IMP_AI_ReleaseFrame",
    "IMP_AI_SetAgcMode",
    "IMP_AI_SetAlcGain",
    "IMP_AI_SetChnParam",
    "IMP_AI_SetGain",
    "IMP_AI_SetHpfCoFrequency",
    "IMP_AI_SetPubAttr",
    "IMP_AI_SetVol",
    "IMP_AI_SetVolMute",
    "IMP_AI_Set_WebrtcProfileIni_Path",
    *_ao_all,
    *_dmic_all,
]


def _ints(*pairs: tuple[Any, str]) -> list[int]:
    return [check_int(v, what) for v, what in pairs]


# -- AI: device ---------------------------------------------------------------------------------
@c_function()
def IMP_AI_SetPubAttr(audioDevId: Any, attr: Any) -> int:
    """``IMP_AI_SetPubAttr``: rate, 16 bit, mono, frmNum (<= 50), numPerFrm, chnCnt 1."""
    get_ai().set_pub_attr(
        check_int(audioDevId, "audioDevId"), io_attr(attr, IMPAudioIOAttr, "attr")
    )
    return 0


@c_function()
def IMP_AI_GetPubAttr(audioDevId: Any, attr: Any) -> int:
    """``IMP_AI_GetPubAttr``."""
    out = deref(attr, IMPAudioIOAttr, "attr")
    attr_to_c(get_ai().get_pub_attr(check_int(audioDevId, "audioDevId")), out)
    return 0


@c_function()
def IMP_AI_Enable(audioDevId: Any) -> int:
    """``IMP_AI_Enable``: opens /dev/dsp for capture and starts the stream."""
    get_ai().enable(check_int(audioDevId, "audioDevId"))
    return 0


@c_function()
def IMP_AI_Disable(audioDevId: Any) -> int:
    """``IMP_AI_Disable``."""
    get_ai().disable(check_int(audioDevId, "audioDevId"))
    return 0


# -- AI: channel --------------------------------------------------------------------------------
@c_function()
def IMP_AI_EnableChn(audioDevId: Any, aiChn: Any) -> int:
    """``IMP_AI_EnableChn``: the reader starts filling the frame queue."""
    get_ai().enable_chn(*_ints((audioDevId, "audioDevId"), (aiChn, "aiChn")))
    return 0


@c_function()
def IMP_AI_DisableChn(audioDevId: Any, aiChn: Any) -> int:
    """``IMP_AI_DisableChn``."""
    get_ai().disable_chn(*_ints((audioDevId, "audioDevId"), (aiChn, "aiChn")))
    return 0


@c_function()
def IMP_AI_SetChnParam(audioDevId: Any, aiChn: Any, chnParam: Any) -> int:
    """``IMP_AI_SetChnParam``: ``usrFrmDepth`` frames are kept for GetFrame."""
    dev, chn = _ints((audioDevId, "audioDevId"), (aiChn, "aiChn"))
    param = deref(chnParam, IMPAudioIChnParam, "chnParam")
    get_ai().set_chn_param(dev, chn, int(param.usrFrmDepth))
    return 0


@c_function()
def IMP_AI_GetChnParam(audioDevId: Any, aiChn: Any, chnParam: Any) -> int:
    """``IMP_AI_GetChnParam``."""
    dev, chn = _ints((audioDevId, "audioDevId"), (aiChn, "aiChn"))
    param = deref(chnParam, IMPAudioIChnParam, "chnParam")
    param.usrFrmDepth = get_ai().get_chn_param(dev, chn)
    return 0


@c_function()
def IMP_AI_PollingFrame(audioDevId: Any, aiChn: Any, timeout_ms: Any) -> int:
    """``IMP_AI_PollingFrame``: 0 once a frame is ready, -1 after ``timeout_ms``."""
    dev, chn, ms = _ints((audioDevId, "audioDevId"), (aiChn, "aiChn"), (timeout_ms, "timeout_ms"))
    get_ai().poll(dev, chn, ms & 0xFFFFFFFF)
    return 0


def _ai_soundmode(dev: int) -> int:
    return get_ai().get_pub_attr(dev).soundmode


@c_function()
def IMP_AI_GetFrame(audioDevId: Any, aiChn: Any, frm: Any, block: Any) -> int:
    """``IMP_AI_GetFrame``: the oldest frame (in rmem) until ReleaseFrame."""
    dev, chn = _ints((audioDevId, "audioDevId"), (aiChn, "aiChn"))
    out = deref(frm, IMPAudioFrame, "frm")
    frame = get_ai().get_frame(dev, chn, block_flag(block))
    fill_frame(out, frame.slot.addr, frame.slot.phys, frame, frame.nbytes, _ai_soundmode(dev))
    return 0


@c_function()
def IMP_AI_GetFrameAndRef(audioDevId: Any, aiChn: Any, frm: Any, ref: Any, block: Any) -> int:
    """``IMP_AI_GetFrameAndRef``: the frame and what the speaker played at the same instant
    (needs ``IMP_AI_EnableAecRefFrame``)."""
    dev, chn = _ints((audioDevId, "audioDevId"), (aiChn, "aiChn"))
    out = deref(frm, IMPAudioFrame, "frm")
    out_ref = deref(ref, IMPAudioFrame, "ref")
    ai = get_ai()
    if not ai.channel(dev, chn).ref:
        raise InvalidState("GetFrameAndRef: call IMP_AI_EnableAecRefFrame first")
    frame = ai.get_frame(dev, chn, block_flag(block))
    mode = _ai_soundmode(dev)
    fill_frame(out, frame.slot.addr, frame.slot.phys, frame, frame.nbytes, mode)
    if frame.ref is None:  # the reference was switched on after this frame was captured
        ai.release_frame(dev, chn, frame.slot.addr, None)
        raise InvalidState("GetFrameAndRef: this frame has no reference; try again")
    fill_frame(out_ref, frame.ref.addr, frame.ref.phys, frame, frame.ref.size, 1)
    return 0


@c_function()
def IMP_AI_ReleaseFrame(audioDevId: Any, aiChn: Any, frm: Any) -> int:
    """``IMP_AI_ReleaseFrame``: the frame's memory goes back to the queue."""
    dev, chn = _ints((audioDevId, "audioDevId"), (aiChn, "aiChn"))
    f = deref(frm, IMPAudioFrame, "frm")
    get_ai().release_frame(dev, chn, address_of(f.virAddr), int(f.phyAddr) or None)
    return 0


# -- AI: echo cancellation ---------------------------------------------------------------------
@c_function()
def IMP_AI_EnableAec(aiDevId: Any, aiChn: Any, aoDevId: Any, aoChn: Any) -> int:
    """``IMP_AI_EnableAec``: cancel what AO plays from the recording."""
    dev, chn, _, _ = _ints(
        (aiDevId, "aiDevId"), (aiChn, "aiChn"), (aoDevId, "aoDevId"), (aoChn, "aoChn")
    )
    get_ai().set_aec(dev, chn, True)
    return 0


@c_function()
def IMP_AI_DisableAec(aiDevId: Any, aiChn: Any) -> int:
    """``IMP_AI_DisableAec``."""
    dev, chn = _ints((aiDevId, "aiDevId"), (aiChn, "aiChn"))
    get_ai().set_aec(dev, chn, False)
    return 0


@c_function()
def IMP_AI_EnableAecRefFrame(audioDevId: Any, aiChn: Any, audioAoDevId: Any, aoChn: Any) -> int:
    """``IMP_AI_EnableAecRefFrame``: frames carry the speaker reference (GetFrameAndRef)."""
    dev, chn, _, _ = _ints(
        (audioDevId, "audioDevId"),
        (aiChn, "aiChn"),
        (audioAoDevId, "audioAoDevId"),
        (aoChn, "aoChn"),
    )
    get_ai().set_aec(dev, chn, True, ref_only=True)
    return 0


@c_function()
def IMP_AI_DisableAecRefFrame(audioDevId: Any, aiChn: Any, audioAoDevId: Any, aoChn: Any) -> int:
    """``IMP_AI_DisableAecRefFrame``."""
    dev, chn, _, _ = _ints(
        (audioDevId, "audioDevId"),
        (aiChn, "aiChn"),
        (audioAoDevId, "audioAoDevId"),
        (aoChn, "aoChn"),
    )
    get_ai().set_aec(dev, chn, False, ref_only=True)
    return 0


# -- AI: processing ------------------------------------------------------------------------------
@c_function()
def IMP_AI_EnableNs(attr: Any, mode: Any) -> int:
    """``IMP_AI_EnableNs``: noise suppression, level 0..3 (IMPAudioNsLevel)."""
    get_ai().chain.enable_ns(io_attr(attr, IMPAudioIOAttr, "attr"), check_int(mode, "mode"))
    return 0


@c_function()
def IMP_AI_DisableNs() -> int:
    """``IMP_AI_DisableNs``."""
    get_ai().chain.ns = None
    return 0


@c_function()
def IMP_AI_SetAgcMode(mode: Any) -> int:
    """``IMP_AI_SetAgcMode``: WebRTC AGC mode 0 (adaptive analog), 1 (adaptive digital),
    2 (fixed digital); stored for the next EnableAgc."""
    value = check_int(mode, "mode")
    if value not in (0, 1, 2):
        raise InvalidArgument(f"AGC mode {value}: 0, 1 or 2")
    get_ai().agc_mode = value
    return 0


@c_function()
def IMP_AI_EnableAgc(attr: Any, agcConfig: Any) -> int:
    """``IMP_AI_EnableAgc``: TargetLevelDbfs 0..31, CompressionGaindB 0..90."""
    cfg = deref(agcConfig, IMPAudioAgcConfig, "agcConfig")
    get_ai().chain.enable_agc(
        io_attr(attr, IMPAudioIOAttr, "attr"), int(cfg.TargetLevelDbfs), int(cfg.CompressionGaindB)
    )
    return 0


@c_function()
def IMP_AI_DisableAgc() -> int:
    """``IMP_AI_DisableAgc``."""
    get_ai().chain.agc = None
    return 0


@c_function()
def IMP_AI_EnableHpf(attr: Any) -> int:
    """``IMP_AI_EnableHpf``: high-pass at the cut-off of SetHpfCoFrequency (150 Hz)."""
    get_ai().chain.enable_hpf(io_attr(attr, IMPAudioIOAttr, "attr"))
    return 0


@c_function()
def IMP_AI_SetHpfCoFrequency(cofrequency: Any) -> int:
    """``IMP_AI_SetHpfCoFrequency``: the cut-off (Hz) of the next EnableHpf."""
    get_ai().chain.set_hpf_cofrequency(check_int(cofrequency, "cofrequency"))
    return 0


@c_function()
def IMP_AI_DisableHpf() -> int:
    """``IMP_AI_DisableHpf``."""
    get_ai().chain.hpf = None
    return 0


@c_function()
def IMP_AI_Set_WebrtcProfileIni_Path(path: Any) -> int:
    """``IMP_AI_Set_WebrtcProfileIni_Path``: stored; the processing takes no profile file."""
    get_ai().profile_path = c_string(path, "path").decode(errors="replace")
    return 0


# -- AI: levels -----------------------------------------------------------------------------------
@c_function()
def IMP_AI_SetVol(audioDevId: Any, aiChn: Any, aiVol: Any) -> int:
    """``IMP_AI_SetVol``: -30 (mute) .. 60 (0 dB) .. 120 (+30 dB), 0.5 dB a step."""
    dev, chn, vol = _ints((audioDevId, "audioDevId"), (aiChn, "aiChn"), (aiVol, "aiVol"))
    get_ai().set_volume(dev, chn, vol)
    return 0


@c_function()
def IMP_AI_GetVol(audioDevId: Any, aiChn: Any, vol: Any) -> int:
    """``IMP_AI_GetVol``."""
    dev, chn = _ints((audioDevId, "audioDevId"), (aiChn, "aiChn"))
    scalar_out(vol, "vol").value = get_ai().channel(dev, chn).volume
    return 0


@c_function()
def IMP_AI_SetVolMute(audioDevId: Any, aiChn: Any, mute: Any) -> int:
    """``IMP_AI_SetVolMute``: 1 mutes, 0 restores the volume."""
    dev, chn, on = _ints((audioDevId, "audioDevId"), (aiChn, "aiChn"), (mute, "mute"))
    if on not in (0, 1):
        raise InvalidArgument(f"mute {on}: 0 or 1")
    get_ai().set_mute(dev, chn, bool(on))
    return 0


@c_function()
def IMP_AI_SetGain(audioDevId: Any, aiChn: Any, aiGain: Any) -> int:
    """``IMP_AI_SetGain``: PGA 0..31 = -18 .. +28.5 dB (SNDCTL_EXT_SET_RECORD_VOLUME)."""
    dev, chn, gain = _ints((audioDevId, "audioDevId"), (aiChn, "aiChn"), (aiGain, "aiGain"))
    get_ai().set_gain(dev, chn, gain)
    return 0


@c_function()
def IMP_AI_GetGain(audioDevId: Any, aiChn: Any, aiGain: Any) -> int:
    """``IMP_AI_GetGain``."""
    dev, chn = _ints((audioDevId, "audioDevId"), (aiChn, "aiChn"))
    scalar_out(aiGain, "aiGain").value = get_ai().channel(dev, chn).gain
    return 0


@c_function()
def IMP_AI_SetAlcGain(audioDevId: Any, aiChn: Any, aiPgaGain: Any) -> int:
    """``IMP_AI_SetAlcGain``: 0..7."""
    dev, chn, gain = _ints((audioDevId, "audioDevId"), (aiChn, "aiChn"), (aiPgaGain, "aiPgaGain"))
    get_ai().set_alc_gain(dev, chn, gain)
    return 0


@c_function()
def IMP_AI_GetAlcGain(audioDevId: Any, aiChn: Any, aiPgaGain: Any) -> int:
    """``IMP_AI_GetAlcGain``."""
    dev, chn = _ints((audioDevId, "audioDevId"), (aiChn, "aiChn"))
    scalar_out(aiPgaGain, "aiPgaGain").value = get_ai().channel(dev, chn).alc_gain
    return 0
