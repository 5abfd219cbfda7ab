"""``IMP_DMIC_*`` (20 functions of 1.1.6, imp_dmic.h); re-exported by :mod:`imp.capi.audio_io`.

``IMPDmicChnFrame.rawFrame`` holds ``chnCnt`` capsules interleaved (``numPerFrm`` samples each),
``aecFrame`` the capsule named by ``SetUserInfo(aecDmicId)`` (echo cancelled while DMIC AEC is
on). ``ReleaseFrame`` recognises the frame by ``rawFrame.virAddr`` or ``rawFrame.phyAddr``.
"""

from __future__ import annotations

from typing import Any

from imp.audio.dmic import get_dmic
from imp.capi._audio_common import address_of, attr_to_c, block_flag, fill_frame, io_attr
from imp.capi._common import c_function, check_int, deref, scalar_out
from imp.errors import InvalidState
from imp.types import IMPDmicAttr, IMPDmicChnFrame, IMPDmicChnParam, IMPDmicFrame

__all__ = [
    "IMP_DMIC_Disable",
    "IMP_DMIC_DisableAec",
    "IMP_DMIC_DisableChn",
    "IMP_DMIC_Enable",
    "IMP_DMIC_EnableAec",
    "IMP_DMIC_EnableAecRefFrame",
    "IMP_DMIC_EnableChn",
    "IMP_DMIC_GetChnParam",
    "IMP_DMIC_GetFrame",
    "IMP_DMIC_GetFrameAndRef",
    "IMP_DMIC_GetGain",
    "IMP_DMIC_GetPubAttr",
    "IMP_DMIC_GetVol",
    "IMP_DMIC_PollingFrame",
    "IMP_DMIC_ReleaseFrame",
    "IMP_DMIC_SetChnParam",
    "IMP_DMIC_SetGain",
    "IMP_DMIC_SetPubAttr",
    "IMP_DMIC_SetUserInfo",
    "IMP_DMIC_SetVol",
]


def _dc(dev: Any, chn: Any) -> tuple[int, int]:
    return check_int(dev, "dmicDevId"), check_int(chn, "dmicChnId")


@c_function()
def IMP_DMIC_SetUserInfo(dmicDevId: Any, aecDmicId: Any, need_aec: Any) -> int:
    """``IMP_DMIC_SetUserInfo``: which capsule feeds ``aecFrame``; whether AEC is wanted."""
    get_dmic().set_user_info(
        check_int(dmicDevId, "dmicDevId"),
        check_int(aecDmicId, "aecDmicId"),
        check_int(need_aec, "need_aec"),
    )
    return 0


@c_function()
def IMP_DMIC_SetPubAttr(dmicDevId: Any, attr: Any) -> int:
    """``IMP_DMIC_SetPubAttr``: 8/16 kHz, 16 bit, mono, chnCnt 1..4 capsules."""
    get_dmic().set_pub_attr(check_int(dmicDevId, "dmicDevId"), io_attr(attr, IMPDmicAttr, "attr"))
    return 0


@c_function()
def IMP_DMIC_GetPubAttr(dmicDevId: Any, attr: Any) -> int:
    """``IMP_DMIC_GetPubAttr``."""
    out = deref(attr, IMPDmicAttr, "attr")
    attr_to_c(get_dmic().get_pub_attr(check_int(dmicDevId, "dmicDevId")), out)
    return 0


@c_function()
def IMP_DMIC_Enable(dmicDevId: Any) -> int:
    """``IMP_DMIC_Enable``: opens /dev/dsp for capture and starts the DMIC stream."""
    get_dmic().enable(check_int(dmicDevId, "dmicDevId"))
    return 0


@c_function()
def IMP_DMIC_Disable(dmicDevId: Any) -> int:
    """``IMP_DMIC_Disable``."""
    get_dmic().disable(check_int(dmicDevId, "dmicDevId"))
    return 0


@c_function()
def IMP_DMIC_EnableChn(dmicDevId: Any, dmicChnId: Any) -> int:
    """``IMP_DMIC_EnableChn``."""
    get_dmic().enable_chn(*_dc(dmicDevId, dmicChnId))
    return 0


@c_function()
def IMP_DMIC_DisableChn(dmicDevId: Any, dmicChnId: Any) -> int:
    """``IMP_DMIC_DisableChn``."""
    get_dmic().disable_chn(*_dc(dmicDevId, dmicChnId))
    return 0


@c_function()
def IMP_DMIC_SetChnParam(dmicDevId: Any, dmicChnId: Any, chnParam: Any) -> int:
    """``IMP_DMIC_SetChnParam``: ``usrFrmDepth``."""
    dev, chn = _dc(dmicDevId, dmicChnId)
    get_dmic().set_chn_param(
        dev, chn, int(deref(chnParam, IMPDmicChnParam, "chnParam").usrFrmDepth)
    )
    return 0


@c_function()
def IMP_DMIC_GetChnParam(dmicDevId: Any, dmicChnId: Any, chnParam: Any) -> int:
    """``IMP_DMIC_GetChnParam``."""
    dev, chn = _dc(dmicDevId, dmicChnId)
    deref(chnParam, IMPDmicChnParam, "chnParam").usrFrmDepth = get_dmic().get_chn_param(dev, chn)
    return 0


def _fill_chn_frame(out: Any, dev: int, chn: int, block: Any) -> Any:
    dmic = get_dmic()
    frame = dmic.get_frame(dev, chn, block_flag(block))
    fill_frame(out.rawFrame, frame.slot.addr, frame.slot.phys, frame, frame.nbytes, 1)
    aec = frame.extra.get("aec")
    if aec is not None:
        fill_frame(out.aecFrame, aec.addr, aec.phys, frame, aec.size, 1)
    return frame


@c_function()
def IMP_DMIC_GetFrame(dmicDevId: Any, dmicChnId: Any, chnFrm: Any, block: Any) -> int:
    """``IMP_DMIC_GetFrame``: raw capsules interleaved, plus the AEC capsule."""
    dev, chn = _dc(dmicDevId, dmicChnId)
    _fill_chn_frame(deref(chnFrm, IMPDmicChnFrame, "chnFrm"), dev, chn, block)
    return 0


@c_function()
def IMP_DMIC_GetFrameAndRef(
    dmicDevId: Any, dmicChnId: Any, chnFrm: Any, ref: Any, block: Any
) -> int:
    """``IMP_DMIC_GetFrameAndRef``: with what the speaker played at the same instant."""
    dev, chn = _dc(dmicDevId, dmicChnId)
    out = deref(chnFrm, IMPDmicChnFrame, "chnFrm")
    out_ref = deref(ref, IMPDmicFrame, "ref")
    if not get_dmic().chn.ref:
        raise InvalidState("GetFrameAndRef: call IMP_DMIC_EnableAecRefFrame first")
    frame = _fill_chn_frame(out, dev, chn, block)
    if frame.ref is None:
        get_dmic().release_frame(dev, chn, frame.slot.addr, None)
        raise InvalidState("GetFrameAndRef: this frame has no reference; try again")
    fill_frame(out_ref, frame.ref.addr, frame.ref.phys, frame, frame.ref.size, 1)
    return 0


@c_function()
def IMP_DMIC_ReleaseFrame(dmicDevId: Any, dmicChnId: Any, chnFrm: Any) -> int:
    """``IMP_DMIC_ReleaseFrame``."""
    dev, chn = _dc(dmicDevId, dmicChnId)
    raw = deref(chnFrm, IMPDmicChnFrame, "chnFrm").rawFrame
    get_dmic().release_frame(dev, chn, address_of(raw.virAddr), int(raw.phyAddr) or None)
    return 0


@c_function()
def IMP_DMIC_EnableAecRefFrame(
    dmicDevId: Any, dmicChnId: Any, audioAoDevId: Any, aoChn: Any
) -> int:
    """``IMP_DMIC_EnableAecRefFrame``: frames carry the speaker reference."""
    dev, chn = _dc(dmicDevId, dmicChnId)
    check_int(audioAoDevId, "audioAoDevId")
    check_int(aoChn, "aoChn")
    get_dmic().set_aec(dev, chn, True, ref_only=True)
    return 0


@c_function()
def IMP_DMIC_EnableAec(dmicDevId: Any, dmicChnId: Any, aoDevId: Any, aoChId: Any) -> int:
    """``IMP_DMIC_EnableAec``: ``aecFrame`` is echo cancelled against AO."""
    dev, chn = _dc(dmicDevId, dmicChnId)
    check_int(aoDevId, "aoDevId")
    check_int(aoChId, "aoChId")
    get_dmic().set_aec(dev, chn, True)
    return 0


@c_function()
def IMP_DMIC_DisableAec(dmicDevId: Any, dmicChnId: Any) -> int:
    """``IMP_DMIC_DisableAec``."""
    get_dmic().set_aec(*_dc(dmicDevId, dmicChnId), False)
    return 0


@c_function()
def IMP_DMIC_PollingFrame(dmicDevId: Any, dmicChnId: Any, timeout_ms: Any) -> int:
    """``IMP_DMIC_PollingFrame``."""
    dev, chn = _dc(dmicDevId, dmicChnId)
    get_dmic().poll(dev, chn, check_int(timeout_ms, "timeout_ms") & 0xFFFFFFFF)
    return 0


@c_function()
def IMP_DMIC_SetVol(dmicDevId: Any, dmicChnId: Any, dmicVol: Any) -> int:
    """``IMP_DMIC_SetVol``: -30 .. 120, 60 = 0 dB."""
    dev, chn = _dc(dmicDevId, dmicChnId)
    get_dmic().set_volume(dev, chn, check_int(dmicVol, "dmicVol"))
    return 0


@c_function()
def IMP_DMIC_GetVol(dmicDevId: Any, dmicChnId: Any, dmicVol: Any) -> int:
    """``IMP_DMIC_GetVol``."""
    _dc(dmicDevId, dmicChnId)
    scalar_out(dmicVol, "dmicVol").value = get_dmic().chn.volume
    return 0


@c_function()
def IMP_DMIC_SetGain(dmicDevId: Any, dmicChnId: Any, dmicGain: Any) -> int:
    """``IMP_DMIC_SetGain``: 0..31 = -18 .. +28.5 dB."""
    dev, chn = _dc(dmicDevId, dmicChnId)
    get_dmic().set_gain(dev, chn, check_int(dmicGain, "dmicGain"))
    return 0


@c_function()
def IMP_DMIC_GetGain(dmicDevId: Any, dmicChnId: Any, dmicGain: Any) -> int:
    """``IMP_DMIC_GetGain``."""
    _dc(dmicDevId, dmicChnId)
    scalar_out(dmicGain, "dmicGain").value = get_dmic().chn.gain
    return 0
