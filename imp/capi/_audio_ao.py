"""``IMP_AO_*`` (25 functions of 1.1.6, imp_audio.h); re-exported by :mod:`imp.capi.audio_io`.

``IMP_AO_SendFrame`` copies ``len`` bytes from ``virAddr`` during the call; ``IMPBlock``
``BLOCK`` (0) waits for a free buffer, ``NOBLOCK`` (1) fails at once when all are busy.
"""

from __future__ import annotations

from typing import Any

from imp.audio.ao import get_ao
from imp.capi._audio_common import address_of, attr_to_c, block_flag, io_attr
from imp.capi._common import c_function, check_int, deref, scalar_out
from imp.errors import InvalidArgument
from imp.types import IMPAudioAgcConfig, IMPAudioFrame, IMPAudioIOAttr, IMPAudioOChnState

__all__ = [
    "IMP_AO_CacheSwitch",
    "IMP_AO_ClearChnBuf",
    "IMP_AO_Disable",
    "IMP_AO_DisableAgc",
    "IMP_AO_DisableChn",
    "IMP_AO_DisableHpf",
    "IMP_AO_Enable",
    "IMP_AO_EnableAgc",
    "IMP_AO_EnableChn",
    "IMP_AO_EnableHpf",
    "IMP_AO_FlushChnBuf",
    "IMP_AO_GetGain",
    "IMP_AO_GetPubAttr",
    "IMP_AO_GetVol",
    "IMP_AO_PauseChn",
    "IMP_AO_QueryChnStat",
    "IMP_AO_ResumeChn",
    "IMP_AO_SendFrame",
    "IMP_AO_SetGain",
    "IMP_AO_SetHpfCoFrequency",
    "IMP_AO_SetPubAttr",
    "IMP_AO_SetVol",
    "IMP_AO_SetVolMute",
    "IMP_AO_Soft_Mute",
    "IMP_AO_Soft_UNMute",
]


def _ints(*pairs: tuple[Any, str]) -> list[int]:
    return [check_int(v, what) for v, what in pairs]


# -- AO -------------------------------------------------------------------------------------------
@c_function()
def IMP_AO_SetPubAttr(audioDevId: Any, attr: Any) -> int:
    """``IMP_AO_SetPubAttr``."""
    get_ao().set_pub_attr(
        check_int(audioDevId, "audioDevId"), io_attr(attr, IMPAudioIOAttr, "attr")
    )
    return 0


@c_function()
def IMP_AO_GetPubAttr(audioDevId: Any, attr: Any) -> int:
    """``IMP_AO_GetPubAttr``."""
    out = deref(attr, IMPAudioIOAttr, "attr")
    attr_to_c(get_ao().get_pub_attr(check_int(audioDevId, "audioDevId")), out)
    return 0


@c_function()
def IMP_AO_Enable(audioDevId: Any) -> int:
    """``IMP_AO_Enable``: opens /dev/dsp for playback and starts the stream."""
    get_ao().enable(check_int(audioDevId, "audioDevId"))
    return 0


@c_function()
def IMP_AO_Disable(audioDevId: Any) -> int:
    """``IMP_AO_Disable``: the simulator's speaker file is complete when this returns."""
    get_ao().disable(check_int(audioDevId, "audioDevId"))
    return 0


@c_function()
def IMP_AO_EnableChn(audioDevId: Any, aoChn: Any) -> int:
    """``IMP_AO_EnableChn``."""
    get_ao().enable_chn(*_ints((audioDevId, "audioDevId"), (aoChn, "aoChn")))
    return 0


@c_function()
def IMP_AO_DisableChn(audioDevId: Any, aoChn: Any) -> int:
    """``IMP_AO_DisableChn``: frames still queued are dropped."""
    get_ao().disable_chn(*_ints((audioDevId, "audioDevId"), (aoChn, "aoChn")))
    return 0


@c_function()
def IMP_AO_SendFrame(audioDevId: Any, aoChn: Any, data: Any, block: Any) -> int:
    """``IMP_AO_SendFrame``: copies ``len`` bytes at ``virAddr`` into the play queue."""
    dev, chn = _ints((audioDevId, "audioDevId"), (aoChn, "aoChn"))
    frame = deref(data, IMPAudioFrame, "data")
    addr = address_of(frame.virAddr)
    if addr is None:
        raise InvalidArgument("data->virAddr is NULL")
    get_ao().send(dev, chn, addr, int(frame.len), block_flag(block))
    return 0


def _ao_chn(audioDevId: Any, aoChn: Any) -> tuple[int, int]:
    dev, chn = _ints((audioDevId, "audioDevId"), (aoChn, "aoChn"))
    return dev, chn


@c_function()
def IMP_AO_PauseChn(audioDevId: Any, aoChn: Any) -> int:
    """``IMP_AO_PauseChn``: nothing more is played until ResumeChn (silence)."""
    get_ao().pause(*_ao_chn(audioDevId, aoChn), True)
    return 0


@c_function()
def IMP_AO_ResumeChn(audioDevId: Any, aoChn: Any) -> int:
    """``IMP_AO_ResumeChn``."""
    get_ao().pause(*_ao_chn(audioDevId, aoChn), False)
    return 0


@c_function()
def IMP_AO_ClearChnBuf(audioDevId: Any, aoChn: Any) -> int:
    """``IMP_AO_ClearChnBuf``: drops every queued frame not yet played."""
    get_ao().clear(*_ao_chn(audioDevId, aoChn))
    return 0


@c_function()
def IMP_AO_FlushChnBuf(audioDevId: Any, aoChn: Any) -> int:
    """``IMP_AO_FlushChnBuf``: returns when everything queued was played."""
    get_ao().flush(*_ao_chn(audioDevId, aoChn))
    return 0


@c_function()
def IMP_AO_QueryChnStat(audioDevId: Any, aoChn: Any, status: Any) -> int:
    """``IMP_AO_QueryChnStat``: chnTotalNum / chnFreeNum / chnBusyNum buffers."""
    dev, chn = _ao_chn(audioDevId, aoChn)
    out = deref(status, IMPAudioOChnState, "status")
    out.chnTotalNum, out.chnFreeNum, out.chnBusyNum = get_ao().status(dev, chn)
    return 0


@c_function()
def IMP_AO_SetVol(audioDevId: Any, aoChn: Any, aoVol: Any) -> int:
    """``IMP_AO_SetVol``: same scale as AI (60 = 0 dB)."""
    dev, chn = _ao_chn(audioDevId, aoChn)
    get_ao().set_volume(dev, chn, check_int(aoVol, "aoVol"))
    return 0


@c_function()
def IMP_AO_GetVol(audioDevId: Any, aoChn: Any, vol: Any) -> int:
    """``IMP_AO_GetVol``."""
    dev, chn = _ao_chn(audioDevId, aoChn)
    scalar_out(vol, "vol").value = get_ao().levels_of(dev, chn)[0]
    return 0


@c_function()
def IMP_AO_SetVolMute(audioDevId: Any, aoChn: Any, mute: Any) -> int:
    """``IMP_AO_SetVolMute``."""
    dev, chn = _ao_chn(audioDevId, aoChn)
    on = check_int(mute, "mute")
    if on not in (0, 1):
        raise InvalidArgument(f"mute {on}: 0 or 1")
    get_ao().set_mute(dev, chn, bool(on))
    return 0


@c_function()
def IMP_AO_SetGain(audioDevId: Any, aoChn: Any, aoGain: Any) -> int:
    """``IMP_AO_SetGain``: DAC 0..31 = -18 .. +28.5 dB, 12 = 0 dB (SET_REPLAY_VOLUME)."""
    dev, chn = _ao_chn(audioDevId, aoChn)
    get_ao().set_gain(dev, chn, check_int(aoGain, "aoGain"))
    return 0


@c_function()
def IMP_AO_GetGain(audioDevId: Any, aoChn: Any, aoGain: Any) -> int:
    """``IMP_AO_GetGain``."""
    dev, chn = _ao_chn(audioDevId, aoChn)
    scalar_out(aoGain, "aoGain").value = get_ao().levels_of(dev, chn)[2]
    return 0


@c_function()
def IMP_AO_Soft_Mute(audioDevId: Any, aoChn: Any) -> int:
    """``IMP_AO_Soft_Mute``: fades out over one frame, then silence."""
    get_ao().soft_mute(*_ao_chn(audioDevId, aoChn), True)
    return 0


@c_function()
def IMP_AO_Soft_UNMute(audioDevId: Any, aoChn: Any) -> int:
    """``IMP_AO_Soft_UNMute``: fades back in over one frame."""
    get_ao().soft_mute(*_ao_chn(audioDevId, aoChn), False)
    return 0


@c_function()
def IMP_AO_CacheSwitch(audioDevId: Any, aoChn: Any, cache_en: Any) -> int:
    """``IMP_AO_CacheSwitch``: 1 queues frames (default), 0 makes SendFrame write through."""
    dev, chn = _ao_chn(audioDevId, aoChn)
    on = check_int(cache_en, "cache_en")
    if on not in (0, 1):
        raise InvalidArgument(f"cache_en {on}: 0 or 1")
    get_ao().cache_switch(dev, chn, bool(on))
    return 0


@c_function()
def IMP_AO_EnableAgc(attr: Any, agcConfig: Any) -> int:
    """``IMP_AO_EnableAgc``."""
    cfg = deref(agcConfig, IMPAudioAgcConfig, "agcConfig")
    get_ao().chain.enable_agc(
        io_attr(attr, IMPAudioIOAttr, "attr"), int(cfg.TargetLevelDbfs), int(cfg.CompressionGaindB)
    )
    return 0


@c_function()
def IMP_AO_DisableAgc() -> int:
    """``IMP_AO_DisableAgc``."""
    get_ao().chain.agc = None
    return 0


@c_function()
def IMP_AO_EnableHpf(attr: Any) -> int:
    """``IMP_AO_EnableHpf``."""
    get_ao().chain.enable_hpf(io_attr(attr, IMPAudioIOAttr, "attr"))
    return 0


@c_function()
def IMP_AO_SetHpfCoFrequency(cofrequency: Any) -> int:
    """``IMP_AO_SetHpfCoFrequency``."""
    get_ao().chain.set_hpf_cofrequency(check_int(cofrequency, "cofrequency"))
    return 0


@c_function()
def IMP_AO_DisableHpf() -> int:
    """``IMP_AO_DisableHpf``."""
    get_ao().chain.hpf = None
    return 0
