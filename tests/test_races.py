"""Race tier (issue 10, deliver 2): every pair of lifecycle calls of a module, from two threads.

For each pair, two threads call their ``IMP_*`` function over and over for a bounded time
(``RACE_SECONDS``) on the same objects, starting from a running pipeline. Then:

- no exception escaped an ``IMP_*`` call, and none logged an *internal error* (an exception the
  library did not anticipate, such as an AssertionError from a state changed under it);
- no call took longer than ``CALL_BOUND`` s (GetFrame's timeout is shortened as in the stateful
  test; a call that waits longer is stuck behind a transition);
- after ``IMP_System_Exit`` and ``IMP_ISP_Close`` no rmem block is left, the arena is unmapped,
  no device is open and no ``imp-*``/``sim-*`` thread runs;
- a fresh pipeline in the same process delivers frames (an exhausted arena or an ISP left open
  would stop it).

Run it repeatedly: ``for i in $(seq 20); do .venv/bin/python -m pytest tests/test_races.py -q
|| break; done``.
"""

from __future__ import annotations

import ctypes
import gc
import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

from imp.capi import *
from tests.conftest import _imp_threads, running_system

RACE_SECONDS = 0.3
CALL_BOUND = 3.0  # s; the slowest legitimate call here is a 0.2 s GetFrame or a 0.5 s disable
GETFRAME_TIMEOUT = 0.2
W, H = 320, 180


@pytest.fixture(autouse=True)
def fast_simulator(monkeypatch: pytest.MonkeyPatch) -> None:
    """Shorter waits, same code paths (as tests/test_capi_stateful.py)."""
    import imp.framesource as framesource
    from kernel_stubs.devices import engine

    monkeypatch.setattr(framesource, "DEFAULT_GETFRAME_TIMEOUT", GETFRAME_TIMEOUT)
    monkeypatch.setattr(engine, "START_GATE", 0.005)
    monkeypatch.setattr(engine, "STARVATION_TIMEOUT", 0.02)


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.internal: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        msg = record.getMessage()
        if "internal error" in msg:
            self.internal.append(msg)


@dataclass
class RaceResult:
    calls: int = 0
    slowest: tuple[float, str] = (0.0, "")
    escaped: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _hammer(name: str, fn: Callable[[], object], stop: float, out: RaceResult) -> None:
    while time.monotonic() < stop:
        t0 = time.monotonic()
        try:
            fn()
        except BaseException as exc:  # the C face never raises: anything here is a defect
            with out.lock:
                out.escaped.append(f"{name}: {type(exc).__name__}: {exc}")
        took = time.monotonic() - t0
        with out.lock:
            out.calls += 1
            if took > out.slowest[0]:
                out.slowest = (took, name)


def _fs_attr() -> IMPFSChnAttr:
    a = IMPFSChnAttr()
    a.picWidth, a.picHeight, a.pixFmt = W, H, PIX_FMT_NV12
    a.outFrmRateNum, a.outFrmRateDen, a.nrVBs, a.type = 25, 1, 3, FS_PHY_CHANNEL
    a.scaler.enable, a.scaler.outwidth, a.scaler.outheight = 1, W, H
    return a


def _get_release_frame() -> None:
    p = ctypes.POINTER(IMPFrameInfo)()
    if IMP_FrameSource_GetFrame(0, p) == 0:
        IMP_FrameSource_ReleaseFrame(0, p)


def _start_fs() -> None:
    assert IMP_FrameSource_CreateChn(0, _fs_attr()) == 0
    assert IMP_FrameSource_SetFrameDepth(0, 1) == 0
    assert IMP_FrameSource_EnableChn(0) == 0


# Lifecycle calls per module: name -> (setup of the running pipeline, {call name: call}).
FS_CALLS: dict[str, Callable[[], object]] = {
    "CreateChn": lambda: (
        IMP_FrameSource_CreateChn(0, _fs_attr()),
        IMP_FrameSource_SetFrameDepth(0, 1),
    ),
    "DestroyChn": lambda: IMP_FrameSource_DestroyChn(0),
    "EnableChn": lambda: IMP_FrameSource_EnableChn(0),
    "DisableChn": lambda: IMP_FrameSource_DisableChn(0),
    "GetFrame": _get_release_frame,
    "SetChnAttr": lambda: IMP_FrameSource_SetChnAttr(0, _fs_attr()),
}


def _cell(dev: int, grp: int, out: int) -> IMPCell:
    c = IMPCell()
    c.deviceID, c.groupID, c.outputID = dev, grp, out
    return c


def _enc_attr() -> IMPEncoderChnAttr:
    a = IMPEncoderChnAttr()
    assert (
        IMP_Encoder_SetDefaultParam(
            a, IMP_ENC_PROFILE_AVC_MAIN, IMP_ENC_RC_MODE_CBR, W, H, 25, 1, 25, 2, -1, 300
        )
        == 0
    )
    return a


def _start_encoder() -> None:
    _start_fs()
    assert IMP_Encoder_CreateGroup(0) == 0
    assert IMP_Encoder_CreateChn(0, _enc_attr()) == 0
    assert IMP_Encoder_RegisterChn(0, 0) == 0
    assert IMP_System_Bind(_cell(DEV_ID_FS, 0, 0), _cell(DEV_ID_ENC, 0, 0)) == 0
    assert IMP_Encoder_StartRecvPic(0) == 0


def _get_release_stream() -> None:
    s = IMPEncoderStream()
    if IMP_Encoder_PollingStream(0, 100) == 0 and IMP_Encoder_GetStream(0, s, False) == 0:
        IMP_Encoder_ReleaseStream(0, s)


ENC_CALLS: dict[str, Callable[[], object]] = {
    "StartRecvPic": lambda: IMP_Encoder_StartRecvPic(0),
    "StopRecvPic": lambda: IMP_Encoder_StopRecvPic(0),
    "RegisterChn": lambda: IMP_Encoder_RegisterChn(0, 0),
    "UnRegisterChn": lambda: IMP_Encoder_UnRegisterChn(0),
    "CreateChn": lambda: IMP_Encoder_CreateChn(0, _enc_attr()),
    "DestroyChn": lambda: IMP_Encoder_DestroyChn(0),
    "GetStream": _get_release_stream,
}
ENC_PAIRS = [
    ("StartRecvPic", "StopRecvPic"),
    ("StartRecvPic", "StartRecvPic"),
    ("StopRecvPic", "StopRecvPic"),
    ("RegisterChn", "UnRegisterChn"),
    ("StartRecvPic", "UnRegisterChn"),
    ("StopRecvPic", "UnRegisterChn"),
    ("CreateChn", "DestroyChn"),
    ("DestroyChn", "StartRecvPic"),
    ("GetStream", "StopRecvPic"),
    ("GetStream", "UnRegisterChn"),
]

_ivs_ifaces: list[object] = []


def _move_interface() -> object:
    param = IMP_IVS_MoveParam()
    param.skipFrameCnt, param.roiRectCnt, param.sense[0] = 1, 1, 4
    param.frameInfo.width, param.frameInfo.height = W, H
    param.roiRect[0].p1.x, param.roiRect[0].p1.y = W - 1, H - 1
    iface = IMP_IVS_CreateMoveInterface(param)
    assert iface
    _ivs_ifaces.append(iface)
    return iface


def _start_ivs() -> None:
    _start_fs()
    assert IMP_IVS_CreateGroup(0) == 0
    assert IMP_IVS_CreateChn(0, _move_interface()) == 0
    assert IMP_IVS_RegisterChn(0, 0) == 0
    assert IMP_System_Bind(_cell(DEV_ID_FS, 0, 0), _cell(DEV_ID_IVS, 0, 0)) == 0
    assert IMP_IVS_StartRecvPic(0) == 0


def _get_release_result() -> None:
    result = ctypes.POINTER(IMP_IVS_MoveOutput)()
    if IMP_IVS_PollingResult(0, 100) == 0 and IMP_IVS_GetResult(0, result) == 0:
        IMP_IVS_ReleaseResult(0, result)


IVS_CALLS: dict[str, Callable[[], object]] = {
    "StartRecvPic": lambda: IMP_IVS_StartRecvPic(0),
    "StopRecvPic": lambda: IMP_IVS_StopRecvPic(0),
    "RegisterChn": lambda: IMP_IVS_RegisterChn(0, 0),
    "UnRegisterChn": lambda: IMP_IVS_UnRegisterChn(0),
    "CreateChn": lambda: IMP_IVS_CreateChn(0, _move_interface()),
    "DestroyChn": lambda: IMP_IVS_DestroyChn(0),
    "GetResult": _get_release_result,
}
IVS_PAIRS = [
    ("StartRecvPic", "StopRecvPic"),
    ("StartRecvPic", "UnRegisterChn"),
    ("RegisterChn", "UnRegisterChn"),
    ("CreateChn", "DestroyChn"),
    ("DestroyChn", "StartRecvPic"),
    ("GetResult", "StopRecvPic"),
]


def _cover() -> IMPOSDRgnAttr:
    a = IMPOSDRgnAttr()
    a.type, a.fmt = OSD_REG_COVER, PIX_FMT_BGRA
    a.rect.p0.x, a.rect.p0.y, a.rect.p1.x, a.rect.p1.y = 10, 10, 73, 73
    a.data.coverData.color = OSD_WHITE
    return a


def _grp_attr() -> IMPOSDGrpRgnAttr:
    g = IMPOSDGrpRgnAttr()
    g.show, g.layer = 1, 1
    return g


def _start_osd() -> None:
    _start_fs()
    assert IMP_OSD_CreateGroup(0) == 0
    handle = IMP_OSD_CreateRgn(_cover())
    assert handle == 0
    assert IMP_OSD_RegisterRgn(0, 0, _grp_attr()) == 0
    assert IMP_System_Bind(_cell(DEV_ID_FS, 0, 0), _cell(DEV_ID_OSD, 0, 0)) == 0
    assert IMP_OSD_Start(0) == 0


OSD_CALLS: dict[str, Callable[[], object]] = {
    "Start": lambda: IMP_OSD_Start(0),
    "Stop": lambda: IMP_OSD_Stop(0),
    "CreateRgn": lambda: IMP_OSD_CreateRgn(_cover()),
    "DestroyRgn": lambda: IMP_OSD_DestroyRgn(0),
    "RegisterRgn": lambda: IMP_OSD_RegisterRgn(0, 0, _grp_attr()),
    "UnRegisterRgn": lambda: IMP_OSD_UnRegisterRgn(0, 0),
    "ShowRgn": lambda: IMP_OSD_ShowRgn(0, 0, 1),
}
OSD_PAIRS = [
    ("Start", "Stop"),
    ("RegisterRgn", "UnRegisterRgn"),
    ("CreateRgn", "DestroyRgn"),
    ("DestroyRgn", "ShowRgn"),
    ("UnRegisterRgn", "ShowRgn"),
    ("Stop", "DestroyRgn"),
]


def _bind() -> int:
    return IMP_System_Bind(_cell(DEV_ID_FS, 0, 0), _cell(DEV_ID_ENC, 0, 0))


def _unbind() -> int:
    return IMP_System_UnBind(_cell(DEV_ID_FS, 0, 0), _cell(DEV_ID_ENC, 0, 0))


SYSTEM_CALLS: dict[str, Callable[[], object]] = {
    "Bind": _bind,
    "UnBind": _unbind,
    "GetFrame": _get_release_frame,
    "DisableChn": lambda: IMP_FrameSource_DisableChn(0),
}
SYSTEM_PAIRS = [("Bind", "UnBind"), ("Bind", "DisableChn"), ("UnBind", "GetFrame")]


def _start_audio() -> None:
    from imp.samples import audio_common as ac

    ac.ai_start(60, 20)
    ac.ao_start(60, 20)


def _ai_get_release() -> None:
    frm = IMPAudioFrame()
    if IMP_AI_PollingFrame(1, 0, 100) == 0 and IMP_AI_GetFrame(1, 0, frm, IMPBlock.NOBLOCK) == 0:
        IMP_AI_ReleaseFrame(1, 0, frm)


_silence = (ctypes.c_uint8 * 640)()


def _ao_send() -> None:
    f = IMPAudioFrame()
    f.bitwidth, f.soundmode = AUDIO_BIT_WIDTH_16, AUDIO_SOUND_MODE_MONO
    f.virAddr = ctypes.cast(_silence, type(f.virAddr))
    f.len = len(_silence)
    IMP_AO_SendFrame(0, 0, f, IMPBlock.NOBLOCK)


AUDIO_CALLS: dict[str, Callable[[], object]] = {
    "AI_Enable": lambda: IMP_AI_Enable(1),
    "AI_Disable": lambda: IMP_AI_Disable(1),
    "AI_EnableChn": lambda: IMP_AI_EnableChn(1, 0),
    "AI_DisableChn": lambda: IMP_AI_DisableChn(1, 0),
    "AI_GetFrame": _ai_get_release,
    "AO_Enable": lambda: IMP_AO_Enable(0),
    "AO_Disable": lambda: IMP_AO_Disable(0),
    "AO_EnableChn": lambda: IMP_AO_EnableChn(0, 0),
    "AO_DisableChn": lambda: IMP_AO_DisableChn(0, 0),
    "AO_SendFrame": _ao_send,
}
AUDIO_PAIRS = [
    ("AI_Enable", "AI_Disable"),
    ("AI_EnableChn", "AI_DisableChn"),
    ("AI_GetFrame", "AI_DisableChn"),
    ("AI_EnableChn", "AI_Disable"),
    ("AO_Enable", "AO_Disable"),
    ("AO_EnableChn", "AO_DisableChn"),
    ("AO_SendFrame", "AO_DisableChn"),
    ("AO_EnableChn", "AO_Disable"),
]

MODULES: dict[str, tuple[Callable[[], None], dict[str, Callable[[], object]]]] = {
    "FrameSource": (_start_fs, FS_CALLS),
    "Encoder": (_start_encoder, ENC_CALLS),
    "IVS": (_start_ivs, IVS_CALLS),
    "OSD": (_start_osd, OSD_CALLS),
    "System": (_start_encoder, SYSTEM_CALLS),
    "Audio": (_start_audio, AUDIO_CALLS),
}
_EXPLICIT = {
    "Encoder": ENC_PAIRS,
    "IVS": IVS_PAIRS,
    "OSD": OSD_PAIRS,
    "System": SYSTEM_PAIRS,
    "Audio": AUDIO_PAIRS,
}


def _pairs() -> Iterator[tuple[str, str, str]]:
    """Every pair of FrameSource's calls; the lifecycle pairs of the others (both orders of a
    pair are the same race: two threads start together)."""
    for a, b in itertools.combinations_with_replacement(sorted(FS_CALLS), 2):
        yield "FrameSource", a, b
    for module, pairs in _EXPLICIT.items():
        for a, b in pairs:
            yield module, a, b


PAIRS = list(_pairs())


def _fresh_pipeline_runs() -> None:
    with running_system("virtual"):
        _start_fs()
        got = 0
        for _ in range(50):  # 0.2 s GetFrame timeouts: up to 10 s for 3 frames
            p = ctypes.POINTER(IMPFrameInfo)()
            if IMP_FrameSource_GetFrame(0, p) == 0:
                assert IMP_FrameSource_ReleaseFrame(0, p) == 0
                got += 1
                if got == 3:
                    break
        assert got == 3, "a fresh pipeline in the same process delivers no frame"


def _teardown_and_check() -> None:
    import imp.audio
    from imp import kernel as kernel_mod
    from imp import runtime

    imp.audio.shutdown()  # what an application's exit path does for AI/AO (no System hook)
    IMP_System_Exit()
    IMP_ISP_Close()
    while _ivs_ifaces:
        IMP_IVS_DestroyMoveInterface(_ivs_ifaces.pop())
    allocator = runtime._allocator
    blocks = [] if allocator is None else allocator.live_blocks()
    kernel = kernel_mod._kernel
    deadline = time.monotonic() + 3
    while _imp_threads() and time.monotonic() < deadline:
        time.sleep(0.01)
    threads = _imp_threads()
    gc.collect()
    assert not blocks, f"DMA memory not returned after System_Exit/ISP_Close: {blocks}"
    assert allocator is None, "the rmem arena is still mapped"
    assert kernel is None, "a device is still open (the simulated kernel is still in use)"
    assert not threads, f"threads still running: {threads}"


@pytest.mark.parametrize(("module", "a", "b"), PAIRS, ids=[f"{m}-{a}-{b}" for m, a, b in PAIRS])
def test_lifecycle_pair_race(module: str, a: str, b: str) -> None:
    setup, calls = MODULES[module]
    errors = _Errors()
    logging.getLogger("imp").addHandler(errors)
    result = RaceResult()
    try:
        with running_system("virtual"):
            setup()
            stop = time.monotonic() + RACE_SECONDS
            threads = [
                threading.Thread(target=_hammer, args=(name, calls[name], stop, result))
                for name in (a, b)
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join(RACE_SECONDS + 10 * CALL_BOUND)
            hung = [t for t in threads if t.is_alive()]
            assert not hung, f"a racing call never returned ({a} vs {b})"
            _teardown_and_check()
    finally:
        logging.getLogger("imp").removeHandler(errors)
    print(
        f"{module} {a} x {b}: {result.calls} calls, slowest {result.slowest[1]} "
        f"{result.slowest[0]:.2f} s"
    )
    assert not result.escaped, result.escaped[:3]
    assert not errors.internal, errors.internal[:3]
    assert result.slowest[0] <= CALL_BOUND, f"{result.slowest[1]} took {result.slowest[0]:.1f} s"
    _fresh_pipeline_runs()
