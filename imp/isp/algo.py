"""Custom AE/AWB algorithms (``IMP_ISP_SetAeAlgoFunc`` / ``IMP_ISP_SetAwbAlgoFunc``).

isp_tuning_ids.md §4.4: libimp keeps the callbacks; when the sensor is enabled it sends the OPEN
ioctl on ``/dev/tx-isp`` and runs a worker that loops GET (blocks until the ISP's next AE/AWB
cycle, returns the statistics) -> ``handle(info, attr)`` -> SET (applied when ``attr.change`` is
1); CLOSE ends it. Every buffer carries an 8-byte prefix the kernel does not interpret.

An algorithm is either the C-style ``IMPISPAeAlgoFunc``/``IMPISPAwbAlgoFunc`` (ctypes function
pointers called with ``priv_data``) or a Python object with ``open(init)``, ``handle(info,
attr)`` and ``close()`` taking the same ctypes structs.
"""

from __future__ import annotations

import ctypes
import threading
from typing import Any

from imp import log
from imp.drivers.txisp import TxIspDevice
from imp.errors import DeviceError, InvalidArgument
from imp.kernel.abi_isp import (
    AE_ALGO_GET_SIZE,
    AE_ALGO_OPEN_SIZE,
    AE_ALGO_SET_SIZE,
    ALGO_CLOSE_SIZE,
    ALGO_PREFIX,
    AWB_ALGO_GET_SIZE,
    AWB_ALGO_SET_SIZE,
    TISP_AE_ALGO_CLOSE,
    TISP_AE_ALGO_OPEN,
    TISP_AWB_ALGO_CLOSE,
    TISP_AWB_ALGO_OPEN,
    TISP_GET_AE_ALGO_HANDLE,
    TISP_GET_AWB_ALGO_HANDLE,
    TISP_SET_AE_ALGO_HANDLE,
    TISP_SET_AWB_ALGO_HANDLE,
)
from imp.types import (
    IMPISPAeAlgoFunc,
    IMPISPAeAttr,
    IMPISPAeInfo,
    IMPISPAeInitAttr,
    IMPISPAwbAlgoFunc,
    IMPISPAwbAttr,
    IMPISPAwbInfo,
)

_log = log.get("isp")

_KINDS = {
    "ae": (TISP_AE_ALGO_OPEN, TISP_GET_AE_ALGO_HANDLE, TISP_SET_AE_ALGO_HANDLE, TISP_AE_ALGO_CLOSE),
    "awb": (
        TISP_AWB_ALGO_OPEN,
        TISP_GET_AWB_ALGO_HANDLE,
        TISP_SET_AWB_ALGO_HANDLE,
        TISP_AWB_ALGO_CLOSE,
    ),
}
_TYPES = {
    "ae": (IMPISPAeAlgoFunc, IMPISPAeInfo, IMPISPAeAttr, AE_ALGO_GET_SIZE, AE_ALGO_SET_SIZE),
    "awb": (IMPISPAwbAlgoFunc, IMPISPAwbInfo, IMPISPAwbAttr, AWB_ALGO_GET_SIZE, AWB_ALGO_SET_SIZE),
}


class AlgoRunner:
    """One registered custom algorithm and, while the sensor runs, its worker thread."""

    def __init__(self, kind: str, funcs: Any) -> None:
        if kind not in _KINDS:
            raise InvalidArgument(f"algorithm kind {kind!r}: 'ae' or 'awb'")
        ctype = _TYPES[kind][0]
        if isinstance(funcs, ctype):
            if not funcs.handle:
                raise InvalidArgument(f"{ctype.__name__}.handle is NULL")
        elif not callable(getattr(funcs, "handle", None)):
            raise InvalidArgument(
                f"a {kind.upper()} algorithm is an {ctype.__name__} or an object with "
                "open(init), handle(info, attr) and close()"
            )
        self.kind = kind
        self.funcs = funcs
        self.calls = 0  # handle() calls so far
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._dev: TxIspDevice | None = None

    # -- callbacks (C-style or Python) --------------------------------------------------------
    def _c(self) -> Any:
        return self.funcs if isinstance(self.funcs, _TYPES[self.kind][0]) else None

    def _open(self, init: IMPISPAeInitAttr | None) -> int:
        c = self._c()
        if c is not None:
            if not c.open:
                return 0
            if init is not None:  # AE
                return int(c.open(c.priv_data, ctypes.byref(init)))
            return int(c.open(c.priv_data))
        opener = getattr(self.funcs, "open", None)
        if opener is None:
            return 0
        result = opener(init) if self.kind == "ae" else opener()
        return int(result or 0)

    def _handle(self, info: Any, attr: Any) -> None:
        c = self._c()
        if c is not None:
            c.handle(c.priv_data, ctypes.byref(info), ctypes.byref(attr))
        else:
            self.funcs.handle(info, attr)

    def _close(self) -> None:
        c = self._c()
        if c is not None:
            if c.close:
                c.close(c.priv_data)
        elif callable(getattr(self.funcs, "close", None)):
            self.funcs.close()

    # -- the worker ------------------------------------------------------------------------
    def start(self, dev: TxIspDevice) -> None:
        """OPEN (as EnableSensor does) and start the GET -> handle -> SET loop."""
        if self._thread is not None:
            return
        open_cmd = _KINDS[self.kind][0]
        init = None
        if self.kind == "ae":
            buf = dev.command(open_cmd, bytearray(AE_ALGO_OPEN_SIZE), "AE_ALGO_OPEN")
            init = IMPISPAeInitAttr.from_buffer_copy(bytes(buf[ALGO_PREFIX:]))
        else:
            dev.command(open_cmd, bytearray(ALGO_CLOSE_SIZE), "AWB_ALGO_OPEN")
        if self._open(init) != 0:
            self._send_close(dev)
            raise InvalidArgument(f"the custom {self.kind.upper()} algorithm's open() failed")
        self._dev = dev
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, name=f"imp-isp-{self.kind}-algo", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """CLOSE (unblocks the worker's GET), join it, then the algorithm's close()."""
        thread, dev = self._thread, self._dev
        if thread is None or dev is None:
            return
        self._stop.set()
        self._send_close(dev)
        thread.join(timeout=5)
        self._thread = self._dev = None
        self._close()

    def _send_close(self, dev: TxIspDevice) -> None:
        try:
            dev.command(_KINDS[self.kind][3], bytearray(ALGO_CLOSE_SIZE), "ALGO_CLOSE")
        except DeviceError as exc:
            _log.warning("%s algorithm close: %s", self.kind, exc)

    def _run(self) -> None:
        _, get_cmd, set_cmd, _ = _KINDS[self.kind]
        _, info_t, attr_t, get_size, set_size = _TYPES[self.kind]
        dev = self._dev
        assert dev is not None
        while not self._stop.is_set():
            try:
                got = dev.command(get_cmd, bytearray(get_size), f"{self.kind} GET")
            except DeviceError as exc:
                if not self._stop.is_set():
                    _log.warning("custom %s algorithm stops: %s", self.kind, exc)
                return
            if self._stop.is_set():
                return
            info = info_t.from_buffer_copy(bytes(got[ALGO_PREFIX:get_size]))
            attr = attr_t()
            try:
                self._handle(info, attr)
            except Exception:  # a user algorithm must not kill the worker silently
                _log.exception("custom %s algorithm handle() failed", self.kind)
                continue
            self.calls += 1
            out = bytearray(set_size)
            out[ALGO_PREFIX:] = bytes(attr)
            try:
                dev.command(set_cmd, out, f"{self.kind} SET")
            except DeviceError as exc:
                _log.warning("custom %s algorithm SET: %s", self.kind, exc)
