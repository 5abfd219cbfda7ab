"""Encoder structs <-> the core's attributes: ``IMPEncoderChnAttr``, rate control, GOP."""

from __future__ import annotations

import ctypes

from imp.codec import RcMode
from imp.encoder import attr as _attr
from imp.types import (
    IMPEncoderAttrRcMode,
    IMPEncoderChnAttr,
    IMPEncoderGopAttr,
)


def rc_from_c(m: IMPEncoderAttrRcMode, profile: int | None = None) -> _attr.RcAttr:
    if profile == _attr.PROFILE_JPEG:
        return _attr.RcAttr(
            mode=RcMode.FIXQP, initial_qp=int(m.attrFixQp.iInitialQP), target_kbps=0, max_kbps=0
        )
    mode = _attr.rc_mode(int(m.rcMode), "rcAttr")
    if mode is RcMode.FIXQP:
        return _attr.RcAttr(
            mode=mode, initial_qp=int(m.attrFixQp.iInitialQP), target_kbps=0, max_kbps=0
        )
    if mode is RcMode.CBR:
        c = m.attrCbr
        return _attr.RcAttr(
            mode=mode,
            initial_qp=int(c.iInitialQP),
            target_kbps=int(c.uTargetBitRate),
            max_kbps=int(c.uTargetBitRate),
            min_qp=int(c.iMinQP),
            max_qp=int(c.iMaxQP),
            ip_delta=int(c.iIPDelta),
            pb_delta=int(c.iPBDelta),
            rc_options=int(c.eRcOptions),
            max_picture_size=int(c.uMaxPictureSize),
        )
    v = {
        RcMode.VBR: m.attrVbr,
        RcMode.CAPPED_VBR: m.attrCappedVbr,
        RcMode.CAPPED_QUALITY: m.attrCappedQuality,
    }[mode]
    psnr = int(v.uMaxPSNR) if mode is not RcMode.VBR else _attr.DEFAULT_MAX_PSNR
    return _attr.RcAttr(
        mode=mode,
        initial_qp=int(v.iInitialQP),
        target_kbps=int(v.uTargetBitRate),
        max_kbps=int(v.uMaxBitRate),
        min_qp=int(v.iMinQP),
        max_qp=int(v.iMaxQP),
        ip_delta=int(v.iIPDelta),
        pb_delta=int(v.iPBDelta),
        rc_options=int(v.eRcOptions),
        max_picture_size=int(v.uMaxPictureSize),
        max_psnr=psnr,
    )


def rc_to_c(rc: _attr.RcAttr, m: IMPEncoderAttrRcMode) -> None:
    ctypes.memset(ctypes.addressof(m), 0, ctypes.sizeof(m))
    m.rcMode = rc.mode.value
    if rc.mode is RcMode.FIXQP:
        m.attrFixQp.iInitialQP = rc.initial_qp
        return
    if rc.mode is RcMode.CBR:
        c = m.attrCbr
        c.uTargetBitRate = rc.target_kbps
    else:
        c = {
            RcMode.VBR: m.attrVbr,
            RcMode.CAPPED_VBR: m.attrCappedVbr,
            RcMode.CAPPED_QUALITY: m.attrCappedQuality,
        }[rc.mode]
        c.uTargetBitRate, c.uMaxBitRate = rc.target_kbps, rc.max_kbps
        if rc.mode is not RcMode.VBR:
            c.uMaxPSNR = rc.max_psnr
    c.iInitialQP, c.iMinQP, c.iMaxQP = rc.initial_qp, rc.min_qp, rc.max_qp
    c.iIPDelta, c.iPBDelta = rc.ip_delta, rc.pb_delta
    c.eRcOptions, c.uMaxPictureSize = rc.rc_options, rc.max_picture_size


def gop_from_c(g: IMPEncoderGopAttr) -> _attr.GopAttr:
    return _attr.GopAttr(
        ctrl_mode=int(g.uGopCtrlMode),
        length=int(g.uGopLength),
        notify_user_lt_inter=int(g.uNotifyUserLTInter),
        max_same_scene=int(g.uMaxSameSenceCnt),
        enable_lt=bool(g.bEnableLT),
        freq_lt=int(g.uFreqLT),
        lt_rc=bool(g.bLTRC),
    )


def gop_to_c(gop: _attr.GopAttr, g: IMPEncoderGopAttr) -> None:
    ctypes.memset(ctypes.addressof(g), 0, ctypes.sizeof(g))
    g.uGopCtrlMode, g.uGopLength = gop.ctrl_mode, gop.length
    g.uNotifyUserLTInter, g.uMaxSameSenceCnt = gop.notify_user_lt_inter, gop.max_same_scene
    g.bEnableLT, g.uFreqLT, g.bLTRC = gop.enable_lt, gop.freq_lt, gop.lt_rc


def attr_from_c(c: IMPEncoderChnAttr) -> _attr.EncoderAttr:
    e = c.encAttr
    profile = int(e.eProfile)
    crop = (int(e.crop.x), int(e.crop.y), int(e.crop.w), int(e.crop.h)) if e.crop.enable else None
    return _attr.EncoderAttr(
        profile=profile,
        width=int(e.uWidth),
        height=int(e.uHeight),
        fps=(int(c.rcAttr.outFrmRate.frmRateNum), int(c.rcAttr.outFrmRate.frmRateDen)),
        rc=rc_from_c(c.rcAttr.attrRcMode, profile),
        gop=gop_from_c(c.gopAttr),
        level=int(e.uLevel),
        tier=int(e.uTier),
        pic_format=int(e.ePicFormat),
        enc_options=int(e.eEncOptions),
        enc_tools=int(e.eEncTools),
        crop=crop,
    )


def attr_to_c(a: _attr.EncoderAttr, c: IMPEncoderChnAttr) -> None:
    ctypes.memset(ctypes.addressof(c), 0, ctypes.sizeof(c))
    e = c.encAttr
    e.eProfile, e.uLevel, e.uTier = a.profile, a.level, a.tier
    e.uWidth, e.uHeight, e.ePicFormat = a.width, a.height, a.pic_format
    e.eEncOptions, e.eEncTools = a.enc_options, a.enc_tools
    if a.crop is not None:
        e.crop.enable = True
        e.crop.x, e.crop.y, e.crop.w, e.crop.h = a.crop
    rc_to_c(a.rc, c.rcAttr.attrRcMode)
    c.rcAttr.outFrmRate.frmRateNum, c.rcAttr.outFrmRate.frmRateDen = a.fps
    gop_to_c(a.gop, c.gopAttr)


__all__ = ["attr_from_c", "attr_to_c", "gop_from_c", "gop_to_c", "rc_from_c", "rc_to_c"]
