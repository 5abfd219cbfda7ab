"""``/dev/isp-m0``: the ISP tuning node (kernel_abi.md §3.4, isp_tuning_ids.md §1-§3).

Rules enforced as the 1.1.6 driver has them: open only while tuning state is 2 (after the
``/dev/tx-isp`` open), exclusive (a second open gives EPERM), every ioctl refused with EPERM
outside state 3; G_CTRL/S_CTRL take 8 B ``{id, value}``, any other command 12 B
``{dir, id, value}`` (dir 0 set, anything else get); each id is handled as
``imp.kernel.abi_isp.CONTROLS`` says — scalar in ``value``, or ``value`` a user pointer the
driver copies exactly ``size`` bytes from or to (a bad pointer gives EFAULT); a handler's -1
becomes EPERM; unknown ids give EPERM except the no-op ids the kernel answers with 0.

Struct-valued controls carry a 32-bit user address (zero-extended). On a 64-bit host the struct
must therefore live below 4 GiB (``imp.kernel.lowmem`` arranges that).
"""

from __future__ import annotations

import errno
import math
import struct
from typing import TYPE_CHECKING

from imp.kernel import abi
from imp.kernel.abi_isp import (
    BY_ID,
    CACHED_GET_IDS,
    CONTROLS,
    DIR_SET,
    NOOP_GET_IDS,
    NOOP_SET_IDS,
    ZONES,
    Control,
)
from kernel_stubs.devices import isp_stats
from kernel_stubs.devices.base import Device, OpenFile, fail, need
from kernel_stubs.devices.channel import BufState
from kernel_stubs.devices.usercopy import copy_from_user, copy_to_user

if TYPE_CHECKING:
    from kernel_stubs.isp_core import IspCore

__all__ = ["IspTuningDevice"]

_ACTIVATED, _OPENED = 2, 3
_HZ = 100  # the T31 kernel's jiffy rate: WaitFrame's timeout goes unconverted into jiffies
_V4L2_U8 = frozenset(CONTROLS[n].cid for n in ("brightness", "contrast", "saturation", "sharpness"))
_BOOL_IDS = frozenset(CONTROLS[n].cid for n in ("hflip", "vflip"))
_WB_MODES = 10  # ISP_CORE_WB_MODE_AUTO .. CUSTOM


def _cid(name: str) -> int:
    return CONTROLS[name].cid


class IspTuningDevice(Device):
    path = "/dev/isp-m0"

    def __init__(self, core: IspCore) -> None:
        self.core = core
        self._stats_key: tuple[int, int, int, int] | None = None
        self._stats: isp_stats.Statistics | None = None
        core.controls.stats_fallback = self._latest_statistics

    # -- node state (§3.4) ---------------------------------------------------------------
    def open(self, file: OpenFile) -> None:
        with self.core.lock:
            if self.core.tuning_state == _OPENED:
                fail(errno.EPERM, "isp-m0 is already open (exclusive)")
            if self.core.tuning_state != _ACTIVATED:
                fail(errno.EPERM, "isp-m0: ISP modules not activated (open /dev/tx-isp first)")
            self.core.tuning_state = _OPENED

    def release(self, file: OpenFile) -> None:
        with self.core.lock:
            if self.core.tuning_state == _OPENED:
                self.core.tuning_state = _ACTIVATED

    def ioctl(self, file: OpenFile, cmd: int, arg: bytearray) -> int:
        with self.core.lock:
            if self.core.tuning_state != _OPENED:
                fail(errno.EPERM, f"isp-m0: tuning state {self.core.tuning_state} invalid")
        if cmd in (abi.VIDIOC_G_CTRL, abi.VIDIOC_S_CTRL):
            need(arg, 8, "G/S_CTRL")
            cid = abi.int_of(arg[0:4], signed=False)
            value = abi.int_of(arg[4:8])
            if cmd == abi.VIDIOC_S_CTRL:
                self._set(cid, value)
            else:
                arg[4:8] = abi.int_arg(self._get(cid, value))
            return 0
        # Any other number is the {dir, id, value} tuning call: the driver never checks cmd.
        need(arg, 12, "ISP_TUNING")
        direction = abi.int_of(arg[0:4], signed=False)
        cid = abi.int_of(arg[4:8], signed=False)
        value = abi.int_of(arg[8:12])
        if direction == DIR_SET:
            self._set(cid, value)
        else:
            arg[8:12] = abi.int_arg(self._get(cid, value))
        return 0

    # -- set -----------------------------------------------------------------------------
    def _set(self, cid: int, value: int) -> None:
        ctl = BY_ID.get(cid)
        if ctl is None or ctl.set is None:
            if cid in NOOP_SET_IDS:
                return
            fail(errno.EPERM, f"s_ctrl {cid:#x}: not a settable control")
        if ctl.set == "noop":
            return
        if ctl.set == "ptr":
            data = copy_from_user(value & 0xFFFFFFFF, ctl.size, f"s_ctrl {ctl.name}")
            self._check_blob(ctl, data)
            self.core.controls.set_blob(cid, data)
            return
        self._set_int(ctl, value)

    def _check_blob(self, ctl: Control, data: bytes) -> None:
        if ctl.weights and max(data) > 8:
            fail(errno.EPERM, f"s_ctrl {ctl.name}: every weight must be 0..8, got {max(data)}")
        if ctl.name == "wb" and struct.unpack_from("<I", data)[0] >= _WB_MODES:
            fail(errno.EPERM, f"s_ctrl wb: mode {struct.unpack_from('<I', data)[0]} is not 0..9")

    def _set_int(self, ctl: Control, value: int) -> None:
        core, cid = self.core, ctl.cid
        unsigned = value & 0xFFFFFFFF
        if ctl.limit is not None and unsigned >= ctl.limit:
            fail(errno.EPERM, f"s_ctrl {ctl.name}: {unsigned} is not below {ctl.limit}")
        if cid == _cid("anti_flicker") and unsigned > 2:
            fail(errno.EINVAL, f"s_ctrl anti_flicker: {value} is not 0 (off), 1 (50 Hz), 2 (60 Hz)")
        if cid == _cid("sensor_fps"):
            if unsigned != core.controls.get(cid):
                core.set_fps(unsigned)
            return
        if cid == _cid("running_mode"):
            core.set_running_mode(value)
            return
        if cid in _V4L2_U8:
            value &= 0xFF
        elif cid in _BOOL_IDS:
            value = int(value != 0)
        elif cid == _cid("hvflip"):
            value &= 3
        core.controls.set(cid, value)

    # -- get -----------------------------------------------------------------------------
    def _get(self, cid: int, value: int) -> int:
        ctl = BY_ID.get(cid)
        if ctl is None or ctl.get is None:
            if cid in NOOP_GET_IDS or cid in CACHED_GET_IDS:
                return value if cid in NOOP_GET_IDS else 0
            fail(errno.EPERM, f"g_ctrl {cid:#x}: not a readable control")
        if ctl.get == "noop":
            return value  # nothing written
        if ctl.get == "int":
            return self._get_int(ctl)
        address = value & 0xFFFFFFFF
        if ctl.name == "wait_frame":
            self._wait_frame(address)
            return value
        data = self._live_blob(ctl)
        copy_to_user(address, data, f"g_ctrl {ctl.name}")
        return value  # the pointer itself stays in the struct

    def _get_int(self, ctl: Control) -> int:
        store = self.core.controls
        name = ctl.name
        if name in ("wb_statis", "wb_gol_statis"):
            r, b, _ = store.awb_gains()
            return ((r & 0xFFFF) << 16) | (b & 0xFFFF)
        if name == "total_gain":
            return store.exposure.total_gain
        if name == "ae_luma":
            return min(255, store.ae_state().mean)
        if name == "running_mode":
            return store.get(ctl.cid) & 1
        return store.get(ctl.cid)

    def _live_blob(self, ctl: Control) -> bytes:
        """Read-only pointer controls are computed; settable ones come from the store."""
        store = self.core.controls
        name = ctl.name
        if name in ("ae_zone", "ae_hist", "ae_hist_origin", "awb_zone", "af_zone", "af_metric"):
            return self._statistic(name)
        if name == "ae_state":
            st = store.ae_state()
            return struct.pack("<B3xII", int(st.stable), st.target, max(st.mean, 0))
        if name == "ev_attr":
            ex = store.exposure
            line_us = self._line_us()
            expr_us = round(self._integration_time() * line_us)
            total = ex.total_gain
            ev = expr_us * total // 1024
            log2_ev = round(32 * math.log2(max(ev, 1)))
            return struct.pack(
                "<6I", ev, expr_us, log2_ev, ex.again, ex.dgain, store.log2_gain(total)
            )
        if name == "expr":
            return self._expr_get()
        if name == "awb_ct":
            return struct.pack("<I", store.awb_gains()[2])
        if name == "sensor_attr":
            hts, vts = self._timing()
            w, h = self.core.sensor_size()
            return struct.pack("<5I", hts, vts, store.get_named("sensor_fps"), w, h)
        return store.get_blob(ctl.cid)

    # -- live values -----------------------------------------------------------------------
    def _timing(self) -> tuple[int, int]:
        """(HTS, VTS) of the simulated sensor: a 1080p-class timing scaled to its size."""
        w, h = self.core.sensor_size()
        return (max(w, 1) * 2200 // 1920, max(h, 1) + 45)

    def _line_us(self) -> float:
        num, den = self.core.controls.fps()
        _, vts = self._timing()
        return 1e6 * den / (max(num, 1) * vts)

    def _it_max(self) -> int:
        _, vts = self._timing()
        return min(self.core.controls.get_named("ae_it_max"), vts - 4)

    def _integration_time(self) -> int:
        """The applied integration time (lines): SetExpr's, else the published one, bounded."""
        manual = self.core.controls.manual_exposure(self._line_us())
        if manual is not None:
            return manual
        return min(self.core.controls.exposure.integration_time, self._it_max())

    def _expr_get(self) -> bytes:
        store = self.core.controls
        it_max, it_min = self._it_max(), store.ae_min()[0]
        it = self._integration_time()
        mode = 0 if store.manual_exposure(self._line_us()) is None else 1
        line_us = max(1, round(self._line_us()))
        return struct.pack("<IHHHH", mode, it & 0xFFFF, it_min & 0xFFFF, it_max & 0xFFFF, line_us)

    def _statistic(self, name: str) -> bytes:
        stats = self.core.controls.statistics()
        if name == "ae_zone":
            return stats.ae_zone.astype("<u4").tobytes()
        if name == "ae_hist_origin":
            return stats.hist256.astype("<u4").tobytes()
        if name == "awb_zone":
            return stats.awb_r.tobytes() + stats.awb_g.tobytes() + stats.awb_b.tobytes()
        if name == "af_zone":
            return stats.af_zone.astype("<u4").tobytes()
        if name == "af_metric":
            return struct.pack("<I", stats.af_metric)
        config = self.core.controls.blob("ae_hist")
        bins = [min(v, 0xFFFF) for v in isp_stats.hist5(stats.hist256, config[:4])]
        return config[:4] + struct.pack("<5H", *bins) + bytes([ZONES, ZONES])

    def _latest_statistics(self) -> isp_stats.Statistics | None:
        """Statistics of the newest picture a channel delivered (largest channel first).

        QBUF clears a buffer's timestamp: when every buffer is queued again, the most recently
        re-queued one is read (a picture of the last few frames)."""
        core = self.core
        with core.lock:
            best = None
            for ch in core.channels:
                if ch.fmt is None:
                    continue
                w, h = int(ch.fmt.pix.width), int(ch.fmt.pix.height)
                for buf in ch.buffers:
                    stamp = buf.tv_sec * 1_000_000 + buf.tv_usec
                    if buf.state is not BufState.ACTIVE and stamp and not buf.error:
                        key = (w * h, stamp, ch.index, buf.index)
                        if best is None or key > best[0]:
                            best = (key, buf.phys, w, h)
                if best is None and ch.delivered and ch.queued:
                    # every buffer queued again: the last re-queued one still holds a picture
                    # of the last few frames until the ISP claims it
                    buf = ch.queued[-1]
                    best = ((w * h, -1, ch.index, core.engine.frame_no), buf.phys, w, h)
            if best is None:
                return None
            key, phys, w, h = best
            if key == self._stats_key and self._stats is not None:
                return self._stats
            y = core.arena.array(phys, h, w).copy()
            uv = core.arena.array(phys + abi.nv12_uv_offset(w, h), h // 2, w).copy()
        stats = isp_stats.from_nv12(y, uv, core.engine.frame_no)
        self._stats_key, self._stats = key, stats
        return stats

    def _wait_frame(self, address: int) -> None:
        """0x8000162: wait for the next frame done; timeout in jiffies; count at offset 8."""
        buf = bytearray(copy_from_user(address, 24, "g_ctrl wait_frame"))
        timeout = struct.unpack_from("<I", buf)[0] / _HZ
        core = self.core
        with core.cond:
            start = core.engine.frame_no
            arrived = core.cond.wait_for(
                lambda: core.engine.frame_no != start or core.shut_down, timeout
            )
            count = core.engine.frame_no + 1
        struct.pack_into("<Q", buf, 8, max(count, 0))
        copy_to_user(address, bytes(buf), "g_ctrl wait_frame")
        if not arrived or core.shut_down:
            fail(errno.ETIMEDOUT, "wait_frame: no frame done within the timeout")
