"""Random call sequences over ``imp.capi``: an application that does everything, in any order.

A Hypothesis ``RuleBasedStateMachine`` drives System, ISP and FrameSource (and Encoder, IVS and
OSD when they are there) through create/destroy, bind/unbind, enable/disable, get/release,
start/stop, with valid and invalid arguments. The invariants are the C API's promises:

- no exception escapes an ``IMP_*`` call, and none is an *internal* error (a Python exception the
  library did not expect: ``c_function`` logs those as "internal error");
- no call blocks past its bound (``CALL_BOUND``; the GetFrame timeout is shortened to
  ``GETFRAME_TIMEOUT`` for speed, the bound is the same);
- after ``IMP_System_Exit`` and ``IMP_ISP_Close`` every DMA buffer is back (the rmem allocator
  had no block left and was unmapped), no device is open, and every ``imp-*`` thread ended.

Profiles: ``ci`` (default: 500 sequences, derandomised, a few minutes at most on 2 cores) and
``long`` (``HYPOTHESIS_PROFILE=long``: 5000 random sequences of up to 80 steps). The number of
sequences and calls run is printed at the end.
"""

from __future__ import annotations

import ctypes
import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule

import imp.capi as capi
from imp.capi import *

settings.register_profile(
    "ci",
    max_examples=500,
    stateful_step_count=40,
    deadline=None,
    derandomize=True,  # CI runs the same sequences every time: a failure reproduces as is
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
settings.register_profile(
    "long",
    max_examples=5000,
    stateful_step_count=80,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
pytestmark = pytest.mark.timeout(4 * 3600 if PROFILE == "long" else 600)

CALL_BOUND = 3.0  # s, for every IMP_* call
GETFRAME_TIMEOUT = 0.2  # s instead of libimp's 2 s: same code path, 10x less waiting
SENSOR = (640, 360)  # a small sensor keeps the simulated ISP's rendering cheap

HAVE_ENCODER = hasattr(capi, "IMP_Encoder_CreateChn") and "not implemented" not in (
    capi.IMP_Encoder_CreateChn.__doc__ or ""
)
HAVE_IVS = "not implemented" not in (capi.IMP_IVS_CreateChn.__doc__ or "")
HAVE_OSD = "not implemented" not in (capi.IMP_OSD_CreateRgn.__doc__ or "")

STATS: Counter[str] = Counter()
SLOWEST: dict[str, float] = {}


@pytest.fixture(scope="module", autouse=True)
def report(request: pytest.FixtureRequest) -> Iterator[None]:
    start = time.monotonic()
    yield
    took = time.monotonic() - start
    if not STATS["examples"]:
        return  # the machine was deselected
    calls = sum(v for k, v in STATS.items() if k.startswith("IMP_"))
    slow = sorted(SLOWEST.items(), key=lambda kv: -kv[1])[:4]
    lines = [
        f"STATEFUL C API ({PROFILE} profile): {STATS['examples']} sequences, {STATS['steps']} "
        f"steps, {calls} IMP_* calls ({STATS['failed']} returned an error) in {took:.0f} s; "
        f"modules: System ISP FrameSource"
        + (" Encoder" if HAVE_ENCODER else "")
        + (" IVS" if HAVE_IVS else "")
        + (" OSD" if HAVE_OSD else ""),
        "  slowest calls: " + ", ".join(f"{name} {t:.2f} s" for name, t in slow),
        "  succeeded: "
        + ", ".join(
            f"{name.removeprefix('IMP_')} {STATS['ok:' + name]}"
            for name in (
                "IMP_FrameSource_EnableChn",
                "IMP_FrameSource_GetFrame",
                "IMP_FrameSource_ReleaseFrame",
                "IMP_FrameSource_SnapFrame",
                "IMP_System_Bind",
                "IMP_Encoder_GetStream",
                "IMP_IVS_GetResult",
                "IMP_OSD_Start",
            )
        ),
    ]
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None:
        print("\n".join(lines))
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line("")
        for line in lines:
            reporter.write_line(line)


class _InternalErrors(logging.Handler):
    """Log lines of the C layer for exceptions the library did not expect (bugs)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "internal error" in message:
            self.messages.append(message)


def _fs_attr(kind: str) -> IMPFSChnAttr:
    a = IMPFSChnAttr()
    w, h = SENSOR
    a.pixFmt, a.outFrmRateNum, a.outFrmRateDen, a.nrVBs, a.type = PIX_FMT_NV12, 25, 1, 2, 0
    a.picWidth, a.picHeight = w, h
    if kind == "small":
        a.picWidth, a.picHeight = 320, 180
        a.scaler.enable, a.scaler.outwidth, a.scaler.outheight = 1, 320, 180
    elif kind == "slow":
        a.outFrmRateNum, a.nrVBs = 5, 3  # decimated 25 -> 5 fps
    elif kind == "ext":
        a.picWidth, a.picHeight, a.type = 320, 180, FS_EXT_CHANNEL
        a.scaler.enable, a.scaler.outwidth, a.scaler.outheight = 1, 320, 180
    elif kind == "crop":
        a.crop.enable, a.crop.width, a.crop.height = 1, w // 2, h // 2
        a.picWidth, a.picHeight = w // 2, h // 2
    elif kind == "odd":
        a.picWidth, a.picHeight = 17, 9
    elif kind == "no-vbs":
        a.nrVBs = 0
    elif kind == "rgb":
        a.pixFmt = PIX_FMT_BGRA
    elif kind == "too-big":
        a.picWidth, a.picHeight = 1920, 1080  # larger than the sensor, no scaler
    return a


FS_ATTRS = st.sampled_from(
    ["full", "small", "small", "slow", "ext", "crop", "odd", "no-vbs", "rgb"]
)
FS_CHN = st.integers(-1, 6)
PICK = st.integers(0, 19)  # which existing channel / held frame, mostly
FLAG = st.integers(0, 9)  # 9: the rare variant (NULL pointer, wrong channel, out of order)
SIZES = st.sampled_from([(320, 180), SENSOR, (0, 0)])
DEPTH = st.integers(-1, 3)


def _ops(names: str) -> st.SearchStrategy[str]:
    """An operation drawn from ``names``; one listed twice is drawn twice as often."""
    return st.sampled_from(names.split())


def _pick(pick: int, existing: list[int], other: int) -> int:
    """An existing one four times in five (so sequences go deep), else ``other``."""
    # Hypothesis favours small draws: make them the common case.
    return existing[pick % len(existing)] if existing and pick % 5 != 4 else other


def _cell(dev: int, grp: int, out: int) -> IMPCell:
    return IMPCell(dev, grp, out)


SOURCES = st.sampled_from(
    [(DEV_ID_FS, 0, 0), (DEV_ID_FS, 1, 0), (DEV_ID_FS, 1, 1), (DEV_ID_FS, 3, 0)]
    + ([(DEV_ID_OSD, 0, 0)] if HAVE_OSD else [])
    + ([(DEV_ID_IVS, 0, 0)] if HAVE_IVS else [])
    + [(9, 0, 0), (DEV_ID_FS, -1, 0)]
)
TARGETS = st.sampled_from(
    ([(DEV_ID_ENC, 0, 0), (DEV_ID_ENC, 1, 0)] if HAVE_ENCODER else [])
    + ([(DEV_ID_IVS, 0, 0)] if HAVE_IVS else [])
    + ([(DEV_ID_OSD, 0, 0)] if HAVE_OSD else [])
    + [(DEV_ID_FS, 0, 0), (DEV_ID_ENC, 7, 0)]
)


def _sensor_info(name: bytes = b"gc2053") -> IMPSensorInfo:
    info = IMPSensorInfo()
    info.name = info.i2c.type = name
    info.cbus_type, info.i2c.addr = TX_SENSOR_CONTROL_INTERFACE_I2C, 0x37
    return info


class CApiMachine(RuleBasedStateMachine):
    """One application's life, from nothing to IMP_System_Exit + IMP_ISP_Close.

    One rule per module draws an operation from a list in which the common ones appear more
    often, so that sequences reach running pipelines (create, enable, bind, start) and then
    tear them down in every possible order."""

    def __init__(self) -> None:
        super().__init__()
        from imp.kernel import sim_overrides

        STATS["examples"] += 1
        sim_overrides(clock="virtual", sensor_size=SENSOR)
        self.errors = _InternalErrors()
        logging.getLogger("imp").addHandler(self.errors)
        self.frames: list[tuple[int, Any]] = []  # (channel, POINTER(IMPFrameInfo)) held
        self.streams: list[tuple[int, Any]] = []  # (encoder channel, IMPEncoderStream) held
        self.results: list[tuple[int, Any]] = []  # (IVS channel, result pointer) held
        self.interfaces: list[Any] = []  # IVS move interfaces created

    # -- the call wrapper: bounded, never raising -------------------------------------------------
    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        name = fn.__name__
        start = time.monotonic()
        result = fn(*args)  # an exception here fails the test: none may escape
        took = time.monotonic() - start
        STATS[name] += 1
        if result == -1:
            STATS["failed"] += 1
        elif result == 0:
            STATS["ok:" + name] += 1
        SLOWEST[name] = max(SLOWEST.get(name, 0.0), took)
        assert took <= CALL_BOUND, f"{name}{args!r} blocked {took:.2f} s"
        assert not self.errors.messages, f"internal error in {name}: {self.errors.messages}"
        return result

    # -- start states -----------------------------------------------------------------------------
    @initialize(mode=_ops("running running running running running running running isp"))
    def start(self, mode: str) -> None:
        if mode in ("isp", "running"):
            self.call(IMP_ISP_Open)
            self.call(IMP_ISP_AddSensor, _sensor_info())
            self.call(IMP_ISP_EnableSensor)
        if mode == "running":
            self.call(IMP_System_Init)
            self.call(IMP_ISP_EnableTuning)

    # -- System -----------------------------------------------------------------------------------
    @rule(
        op=_ops("bind bind bind unbind get_bind rebase restart restart init exit"),
        src=SOURCES,
        dst=TARGETS,
        value=st.integers(-5, 10**12),
    )
    def system(
        self, op: str, src: tuple[int, int, int], dst: tuple[int, int, int], value: int
    ) -> None:
        STATS["steps"] += 1
        if op in ("exit", "restart"):
            self.call(IMP_System_Exit)
        if op in ("init", "restart"):
            self.call(IMP_System_Init)
        if op == "bind":
            self.call(IMP_System_Bind, _cell(*src), _cell(*dst))
        elif op == "unbind":
            self.call(IMP_System_UnBind, _cell(*src), _cell(*dst))
        elif op == "get_bind":
            self.call(IMP_System_GetBindbyDest, _cell(*dst), IMPCell() if value % 2 else None)
        elif op == "rebase":
            self.call(IMP_System_RebaseTimeStamp, value)
            self.call(IMP_System_GetTimeStamp)

    # -- ISP --------------------------------------------------------------------------------------
    @rule(
        op=_ops(
            "brightness brightness fps tuning_on tuning_off sensor_off sensor_on restart restart"
            " open close add del"
        ),
        name=st.sampled_from([b"gc2053", b"gc2053", b"jxf23", b""]),
        value=st.integers(-1, 300),
    )
    def isp(self, op: str, name: bytes, value: int) -> None:
        STATS["steps"] += 1
        simple = {
            "open": IMP_ISP_Open,
            "close": IMP_ISP_Close,
            "sensor_on": IMP_ISP_EnableSensor,
            "sensor_off": IMP_ISP_DisableSensor,
            "tuning_on": IMP_ISP_EnableTuning,
            "tuning_off": IMP_ISP_DisableTuning,
        }
        if op in simple:
            self.call(simple[op])
        elif op == "restart":  # the whole ISP again, under whatever runs
            self.call(IMP_ISP_Close)
            self.call(IMP_ISP_Open)
            self.call(IMP_ISP_AddSensor, _sensor_info())
            self.call(IMP_ISP_EnableSensor)
            self.call(IMP_ISP_EnableTuning)
        elif op == "add":
            self.call(IMP_ISP_AddSensor, _sensor_info(name))
        elif op == "del":
            self.call(IMP_ISP_DelSensor, _sensor_info(name))
        elif op == "brightness":
            self.call(IMP_ISP_Tuning_SetBrightness, value)
        else:
            self.call(IMP_ISP_Tuning_SetSensorFPS, value // 8, 1)

    # -- FrameSource ------------------------------------------------------------------------------
    # Every rule draws the same arguments whatever the library's state (Hypothesis replays a
    # sequence by its draws, and the state depends on timing); the state only decides how the
    # drawn numbers are used, e.g. which existing channel ``pick`` selects.
    FS_OPS = _ops(
        "create destroy set_attr depth enable disable query snap"
        " start start start get get get get release release release"
    )

    def _fs(self, op: str, chn: int, pick: int, kind: str, depth: int, flag: int) -> None:
        from imp.framesource import get_framesource

        STATS["steps"] += 1
        if op not in ("create", "start"):
            channels = get_framesource().channels
            existing = sorted(channels)
            if op in ("get", "snap"):
                existing = sorted(c for c, ch in channels.items() if ch.enabled) or existing
            chn = _pick(pick, existing, chn)
        elif op == "start":
            chn %= 4
        if op == "create":
            self.call(IMP_FrameSource_CreateChn, chn, _fs_attr(kind))
        elif op == "destroy":
            self.call(IMP_FrameSource_DestroyChn, chn)
        elif op == "set_attr":
            self.call(IMP_FrameSource_SetChnAttr, chn, _fs_attr(kind))
        elif op == "depth":
            self.call(IMP_FrameSource_SetFrameDepth, chn, depth)
        elif op == "enable":
            self.call(IMP_FrameSource_EnableChn, chn)
        elif op == "disable":
            self.call(IMP_FrameSource_DisableChn, chn)
        elif op == "query":
            self.call(IMP_FrameSource_ChnStatQuery, chn, ctypes.c_int())
        elif op == "snap":
            w, h = (320, 180) if chn else SENSOR
            buf = (ctypes.c_uint8 * (w * h * 3 // 2))()
            self.call(IMP_FrameSource_SnapFrame, chn, PIX_FMT_NV12, w, h, buf, IMPFrameInfo())
        elif op == "start":  # the usual sequence in one step, so running channels are common
            attr = _fs_attr({0: "full", 3: "ext"}.get(chn, "small"))
            self.call(IMP_FrameSource_CreateChn, chn, attr)
            self.call(IMP_FrameSource_SetFrameDepth, chn, 1 + flag % 2)
            self.call(IMP_FrameSource_EnableChn, chn)
        elif op == "get":
            ptr = None if flag == 9 else ctypes.POINTER(IMPFrameInfo)()
            if self.call(IMP_FrameSource_GetFrame, chn, ptr) == 0:
                self.frames.append((chn, ptr))
        elif self.frames:  # release
            i = pick % len(self.frames)
            held_chn, ptr = self.frames[i]
            if flag == 9:  # the wrong channel: refused, the frame stays held
                self.call(IMP_FrameSource_ReleaseFrame, (held_chn + 1) % 4, ptr)
                return
            self.call(IMP_FrameSource_ReleaseFrame, held_chn, ptr)
            del self.frames[i]  # released, or refused because its channel is gone

    def _fs_running(self, chn: int) -> None:
        """Channel ``chn`` created and enabled, as the samples do before binding it."""
        self.call(IMP_FrameSource_CreateChn, chn, _fs_attr("full" if chn == 0 else "small"))
        self.call(IMP_FrameSource_EnableChn, chn)

    @rule(op=FS_OPS, chn=FS_CHN, pick=PICK, kind=FS_ATTRS, depth=DEPTH, flag=FLAG)
    def framesource(self, op: str, chn: int, pick: int, kind: str, depth: int, flag: int) -> None:
        self._fs(op, chn, pick, kind, depth, flag)

    @rule(op=FS_OPS, chn=FS_CHN, pick=PICK, kind=FS_ATTRS, depth=DEPTH, flag=FLAG)
    def framesource_again(
        self, op: str, chn: int, pick: int, kind: str, depth: int, flag: int
    ) -> None:
        """The same rule twice: FrameSource gets twice the share of steps."""
        self._fs(op, chn, pick, kind, depth, flag)

    # -- Encoder ----------------------------------------------------------------------------------
    def _enc_attr(self, jpeg: bool, size: tuple[int, int]) -> Any:
        attr = IMPEncoderChnAttr()
        profile = IMP_ENC_PROFILE_JPEG if jpeg else IMP_ENC_PROFILE_AVC_BASELINE
        rc = IMP_ENC_RC_MODE_FIXQP if jpeg else IMP_ENC_RC_MODE_CBR
        r = self.call(IMP_Encoder_SetDefaultParam, attr, profile, rc, *size, 25, 1, 50, 2, 30, 300)
        return attr if r == 0 else None

    if HAVE_ENCODER:

        @rule(
            op=_ops(
                "group ungroup create destroy register unregister recv_on recv_off"
                " start start get get release release"
            ),
            chn=st.integers(-1, 3),
            grp=st.integers(-1, 2),
            pick=PICK,
            size=SIZES,
            flag=FLAG,
        )
        def encoder(
            self, op: str, chn: int, grp: int, pick: int, size: tuple[int, int], flag: int
        ) -> None:
            from imp.encoder import get_encoder

            STATS["steps"] += 1
            jpeg = flag % 2 == 1
            if op not in ("create", "start"):
                chn = _pick(pick, sorted(get_encoder().channels), chn)
            if op == "group":
                self.call(IMP_Encoder_CreateGroup, grp)
            elif op == "ungroup":
                self.call(IMP_Encoder_DestroyGroup, grp)
            elif op == "create":
                self.call(IMP_Encoder_CreateChn, chn, self._enc_attr(jpeg, size))
            elif op == "destroy":
                self.call(IMP_Encoder_DestroyChn, chn)
            elif op == "register":
                self.call(IMP_Encoder_RegisterChn, grp, chn)
            elif op == "unregister":
                self.call(IMP_Encoder_UnRegisterChn, chn)
            elif op == "recv_on":
                self.call(IMP_Encoder_StartRecvPic, chn)
            elif op == "recv_off":
                self.call(IMP_Encoder_StopRecvPic, chn)
            elif op == "start":  # sample-encoder's sequence in one step
                grp, fs = max(grp, 0) % 2, pick % 2
                chn = grp + (2 if jpeg else 0)
                self._fs_running(fs)
                self.call(IMP_Encoder_CreateGroup, grp)
                attr = self._enc_attr(jpeg, SENSOR if fs == 0 else (320, 180))
                self.call(IMP_Encoder_CreateChn, chn, attr)
                self.call(IMP_Encoder_RegisterChn, grp, chn)
                self.call(IMP_System_Bind, _cell(DEV_ID_FS, fs, 0), _cell(DEV_ID_ENC, grp, 0))
                self.call(IMP_Encoder_StartRecvPic, chn)
            elif op == "get":
                self.call(IMP_Encoder_PollingStream, max(chn, 0), (0, 50, 200)[flag % 3])
                stream = IMPEncoderStream()
                if self.call(IMP_Encoder_GetStream, max(chn, 0), stream, False) == 0:
                    self.streams.append((max(chn, 0), stream))
            elif self.streams:  # release: in GetStream order, or the newest (refused if not)
                newest = flag == 9
                held = self.streams[-1] if newest else self.streams[0]
                if self.call(IMP_Encoder_ReleaseStream, *held) == 0 or not newest:
                    self.streams.remove(held)

    # -- IVS --------------------------------------------------------------------------------------
    if HAVE_IVS:

        @rule(
            op=_ops(
                "group ungroup create destroy register unregister recv_on recv_off"
                " start get get release"
            ),
            chn=st.integers(-1, 1),
            grp=st.integers(-1, 1),
            pick=PICK,
            size=SIZES,
            flag=FLAG,
        )
        def ivs(
            self, op: str, chn: int, grp: int, pick: int, size: tuple[int, int], flag: int
        ) -> None:
            from imp.ivs.module import get_ivs

            STATS["steps"] += 1
            if op not in ("create", "start"):
                chn = _pick(pick, sorted(get_ivs().channels), chn)
            if op == "group":
                self.call(IMP_IVS_CreateGroup, grp)
            elif op == "ungroup":
                self.call(IMP_IVS_DestroyGroup, grp)
            elif op == "create":
                self.call(IMP_IVS_CreateChn, chn, self._move_interface(size))
            elif op == "destroy":
                self.call(IMP_IVS_DestroyChn, chn)
            elif op == "register":
                self.call(IMP_IVS_RegisterChn, grp, chn)
            elif op == "unregister":
                self.call(IMP_IVS_UnRegisterChn, chn)
            elif op == "recv_on":
                self.call(IMP_IVS_StartRecvPic, chn)
            elif op == "recv_off":
                self.call(IMP_IVS_StopRecvPic, chn)
            elif op == "start":  # the move sample's sequence in one step, on FS channel 1
                self._fs_running(1)
                self.call(IMP_IVS_CreateGroup, 0)
                self.call(IMP_IVS_CreateChn, 0, self._move_interface((320, 180)))
                self.call(IMP_IVS_RegisterChn, 0, 0)
                self.call(IMP_System_Bind, _cell(DEV_ID_FS, 1, 1), _cell(DEV_ID_IVS, 0, 0))
                self.call(IMP_IVS_StartRecvPic, 0)
            elif op == "get":
                chn = max(chn, 0)
                if self.call(IMP_IVS_PollingResult, chn, (0, 50)[flag % 2]) != 0:
                    return
                result = ctypes.POINTER(IMP_IVS_MoveOutput)()
                if self.call(IMP_IVS_GetResult, chn, result) == 0:
                    self.results.append((chn, result))
            elif self.results:  # release
                self.call(IMP_IVS_ReleaseResult, *self.results.pop(0))

        def _move_interface(self, size: tuple[int, int]) -> Any:
            param = IMP_IVS_MoveParam()
            param.skipFrameCnt, param.roiRectCnt, param.sense[0] = 1, 1, 4
            param.frameInfo.width, param.frameInfo.height = size
            rect = param.roiRect[0]
            rect.p1.x, rect.p1.y = max(size[0] - 1, 0), max(size[1] - 1, 0)
            iface = self.call(IMP_IVS_CreateMoveInterface, param)
            if iface:
                self.interfaces.append(iface)
            return iface

    # -- OSD --------------------------------------------------------------------------------------
    if HAVE_OSD:

        @rule(
            op=_ops("group ungroup region unregion register unregister on off start"),
            handle=st.integers(-1, 3),
            grp=st.integers(-1, 1),
            x=st.integers(-8, 700),
        )
        def osd(self, op: str, handle: int, grp: int, x: int) -> None:
            STATS["steps"] += 1
            if op == "group":
                self.call(IMP_OSD_CreateGroup, grp)
            elif op == "ungroup":
                self.call(IMP_OSD_DestroyGroup, grp)
            elif op == "region":
                self.call(IMP_OSD_CreateRgn, _cover(x))
            elif op == "unregion":
                self.call(IMP_OSD_DestroyRgn, handle)
            elif op == "register":
                g = IMPOSDGrpRgnAttr()
                g.show, g.layer = x % 2, 1
                self.call(IMP_OSD_RegisterRgn, handle, grp, g)
            elif op == "unregister":
                self.call(IMP_OSD_UnRegisterRgn, handle, grp)
            elif op in ("on", "off"):
                self.call(IMP_OSD_Start if op == "on" else IMP_OSD_Stop, grp)
            else:  # FS0 -> OSD0 -> ENC0 with one shown region, in one step
                grp = 0
                self._fs_running(0)
                self.call(IMP_OSD_CreateGroup, grp)
                h = self.call(IMP_OSD_CreateRgn, _cover(x))
                g = IMPOSDGrpRgnAttr()
                g.show, g.layer = 1, 1
                self.call(IMP_OSD_RegisterRgn, h, grp, g)
                self.call(IMP_System_Bind, _cell(DEV_ID_FS, 0, 0), _cell(DEV_ID_OSD, grp, 0))
                if HAVE_ENCODER:
                    self.call(IMP_System_Bind, _cell(DEV_ID_OSD, grp, 0), _cell(DEV_ID_ENC, 0, 0))
                self.call(IMP_OSD_Start, grp)

    # -- the end of the application ---------------------------------------------------------------
    def teardown(self) -> None:
        import gc

        from imp import kernel as kernel_mod
        from imp import runtime
        from imp.kernel import sim_overrides

        try:
            # What an application does at exit; in any state both may fail (-1), never raise.
            self.call(IMP_System_Exit)
            self.call(IMP_ISP_Close)
            for iface in self.interfaces:
                self.call(IMP_IVS_DestroyMoveInterface, iface)
            allocator = runtime._allocator
            blocks = [] if allocator is None else allocator.live_blocks()
            kernel = kernel_mod._kernel
            deadline = time.monotonic() + 3
            while _imp_threads() and time.monotonic() < deadline:
                time.sleep(0.01)
            threads = _imp_threads()
        finally:
            logging.getLogger("imp").removeHandler(self.errors)
            _force_clean()
            sim_overrides()
            _forget_captured_logs()
            # A dropped simulated kernel is a reference cycle around a 29 MiB low mapping;
            # collect it now rather than let hundreds of sequences pile them up.
            gc.collect()
        assert not blocks, f"DMA memory not returned: {blocks}"
        assert allocator is None, "the rmem arena is still mapped"
        assert kernel is None, "a device is still open (the simulated kernel is still in use)"
        assert not threads, f"threads still running: {threads}"


def _cover(x: int) -> IMPOSDRgnAttr:
    a = IMPOSDRgnAttr()
    a.type, a.fmt = OSD_REG_COVER, PIX_FMT_BGRA
    a.rect.p0.x, a.rect.p0.y, a.rect.p1.x, a.rect.p1.y = x, 10, x + 63, 73
    a.data.coverData.color = OSD_WHITE
    return a


def _forget_captured_logs() -> None:
    """pytest keeps every log record of a test, and this one test runs hundreds of sequences.
    The C layer logs the exception object of each failed call; its traceback holds the call's
    frames and with them the simulated kernel and its arena mapping, so keeping the records would
    keep every sequence's memory."""
    loggers = [logging.getLogger(), logging.getLogger("imp")]
    for logger in loggers:
        for handler in logger.handlers:
            reset = getattr(handler, "reset", None)
            if type(handler).__name__ == "LogCaptureHandler" and callable(reset):
                reset()


def _imp_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(("imp-", "sim-"))]


def _force_clean() -> None:
    """Whatever a failing sequence left behind goes, so the next one starts clean."""
    from imp.framesource import get_framesource
    from imp.isp import get_isp
    from imp.kernel import set_kernel
    from imp.system import get_system

    if get_system().initialized:
        get_system().exit()
    get_framesource().shutdown()
    if get_isp().txisp is not None:
        get_isp().close()
    if HAVE_OSD:
        from imp.osd.module import get_osd

        get_osd().shutdown()
    set_kernel(None)


@pytest.fixture(autouse=True)
def fast_simulator(monkeypatch: pytest.MonkeyPatch) -> None:
    """Shorter waits, same code paths: the GetFrame timeout, and the virtual clock's start gate
    and starvation wait (a channel whose buffers the application holds)."""
    import imp.framesource as framesource
    from kernel_stubs.devices import engine

    monkeypatch.setattr(framesource, "DEFAULT_GETFRAME_TIMEOUT", GETFRAME_TIMEOUT)
    monkeypatch.setattr(engine, "START_GATE", 0.005)
    monkeypatch.setattr(engine, "STARVATION_TIMEOUT", 0.02)


TestCApiStateful = CApiMachine.TestCase
TestCApiStateful.settings = settings.get_profile(PROFILE)


# -- bugs the machine found, pinned down ----------------------------------------------------------


def test_snapframe_fills_a_width_height_3_2_buffer_with_packed_nv12() -> None:
    """SnapFrame used to copy the whole DMA buffer, whose UV plane starts at W*align16(H): for a
    height like 360 (or 1080) the caller's W*H*3/2 buffer was refused as too small (and an
    address was overrun), and the UV plane came out shifted by the padding lines."""
    import numpy as np

    from imp.framesource import get_framesource
    from tests.conftest import running_system

    w, h = 640, 360  # 360 is not a multiple of 16: the buffer has 8 padding lines
    with running_system("virtual", sensor_size=(w, h), sensor="synthetic:static"):
        assert IMP_FrameSource_CreateChn(0, _fs_attr("full")) == 0
        assert IMP_FrameSource_SetFrameDepth(0, 1) == 0
        assert IMP_FrameSource_EnableChn(0) == 0
        buf = (ctypes.c_uint8 * (w * h * 3 // 2))()
        info = IMPFrameInfo()
        assert IMP_FrameSource_SnapFrame(0, PIX_FMT_NV12, w, h, buf, info) == 0
        assert info.size == w * h * 3 // 2
        ptr = ctypes.POINTER(IMPFrameInfo)()
        assert IMP_FrameSource_GetFrame(0, ptr) == 0
        frame, _generation = (
            get_framesource().channel(0).find_user_frame(ptr.contents.index, ptr.contents.phyAddr)
        )
        snap = np.frombuffer(buf, dtype=np.uint8)
        # A static scene: the chroma of any two frames is the same picture.
        assert np.array_equal(snap[w * h :].reshape(h // 2, w), frame.uv)
        assert IMP_FrameSource_ReleaseFrame(0, ptr) == 0
