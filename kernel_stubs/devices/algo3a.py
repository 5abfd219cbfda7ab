"""Custom 3A plumbing of ``/dev/tx-isp`` (isp_tuning_ids.md §4.4): AE/AWB algorithm OPEN, GET,
SET and CLOSE.

GET blocks until the ISP's next frame (the AE/AWB cycle) and returns the statistics and current
exposure/gains from the control store (2008 B for AE, 707 B for AWB, each after the 8-byte
prefix); SET applies what the algorithm decided when its ``change`` word is 1, by publishing it
into the store (a sensor model then renders it). CLOSE ends a blocked GET with EINVAL.
"""

from __future__ import annotations

import errno
import struct
from collections.abc import Callable
from typing import TYPE_CHECKING

from imp.kernel import abi_isp as A
from kernel_stubs.devices.base import fail, need
from kernel_stubs.devices.controls import Exposure

if TYPE_CHECKING:
    from kernel_stubs.isp_core import IspCore

__all__ = ["algo_handlers"]

_P = A.ALGO_PREFIX
_TICK_S = 0.5


def algo_handlers(core: IspCore) -> dict[int, Callable[[bytearray], None]]:
    """The tx-isp command handlers of the custom AE/AWB path."""
    store = core.controls

    def wait_cycle(kind: str) -> None:
        with core.cond:
            start = core.engine.frame_no
            while core.engine.frame_no == start:
                if core.shut_down or not getattr(store, f"custom_{kind}"):
                    fail(errno.EINVAL, f"{kind} algorithm GET: the algorithm is closed")
                core.cond.wait(_TICK_S)

    def ae_open(arg: bytearray) -> None:
        need(arg, A.AE_ALGO_OPEN_SIZE, "AE_ALGO_OPEN")
        ex = store.exposure
        it_min, again_min = store.ae_min()
        words = [0, ex.integration_time, ex.again, ex.dgain, ex.isp_dgain]
        words += [it_min, again_min, 1024, 1024]
        words += [store.get_named("ae_it_max"), 1024 << 5, 1024 << 3, 1024 << 2] + [0] * 12
        fps = store.get_named("sensor_fps")
        init = struct.pack("<25I", *words) + struct.pack("<I", fps) + store.blob("ae_hist")
        arg[_P : _P + len(init)] = init
        store.custom_ae = True

    def ae_get(arg: bytearray) -> None:
        need(arg, A.AE_ALGO_GET_SIZE, "GET_AE_ALGO_HANDLE")
        wait_cycle("ae")
        stats, ex = store.statistics(), store.exposure
        body = stats.ae_zone.astype("<u4").tobytes() + stats.hist256.astype("<u4").tobytes()
        body += store.blob("ae_hist")  # thresholds (the 5 bins are in hist256 already)
        body += struct.pack(
            "<9I", 0, ex.integration_time, ex.again, ex.dgain, ex.isp_dgain, 0, 0, 0, 0
        )
        w, h = core.sensor_size()
        body += struct.pack(
            "<I5I",
            int(core.wdr_enabled),
            w * 2200 // 1920,
            h + 45,
            store.get_named("sensor_fps"),
            w,
            h,
        )
        arg[_P : _P + len(body)] = body

    def ae_set(arg: bytearray) -> None:
        need(arg, A.AE_ALGO_SET_SIZE, "SET_AE_ALGO_HANDLE")
        change, _unit, it, again, dgain, isp_dgain = struct.unpack_from("<6I", arg, _P)
        if change == 1:
            store.publish_exposure(Exposure(it, again, dgain, isp_dgain))

    def ae_close(arg: bytearray) -> None:
        with core.cond:
            store.custom_ae = False
            core.cond.notify_all()

    def awb_open(arg: bytearray) -> None:
        store.custom_awb = True

    def awb_get(arg: bytearray) -> None:
        need(arg, A.AWB_ALGO_GET_SIZE, "GET_AWB_ALGO_HANDLE")
        wait_cycle("awb")
        stats = store.statistics()
        r, b, _ = store.awb_gains()
        body = struct.pack("<6I", r, b, r, b, r, b)
        body += stats.awb_r.tobytes() + stats.awb_g.tobytes() + stats.awb_b.tobytes()
        arg[_P : _P + len(body)] = body

    def awb_set(arg: bytearray) -> None:
        need(arg, A.AWB_ALGO_SET_SIZE, "SET_AWB_ALGO_HANDLE")
        change, r, b, ct = struct.unpack_from("<4I", arg, _P)
        if change == 1:
            store.publish_awb(r, b, ct)

    def awb_close(arg: bytearray) -> None:
        with core.cond:
            store.custom_awb = False
            core.cond.notify_all()

    return {
        A.TISP_AE_ALGO_OPEN: ae_open,
        A.TISP_GET_AE_ALGO_HANDLE: ae_get,
        A.TISP_SET_AE_ALGO_HANDLE: ae_set,
        A.TISP_AE_ALGO_CLOSE: ae_close,
        A.TISP_AWB_ALGO_OPEN: awb_open,
        A.TISP_GET_AWB_ALGO_HANDLE: awb_get,
        A.TISP_SET_AWB_ALGO_HANDLE: awb_set,
        A.TISP_AWB_ALGO_CLOSE: awb_close,
    }
