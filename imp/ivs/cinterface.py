"""``IMPIVSInterface`` structs: calling a C-style one, and building one for a Python algorithm.

- :class:`CAlgorithm` drives an interface an application built itself (calloc'd struct, CFUNCTYPE
  callbacks, sample-Encoder-video-IVS-exalgo style) through the :class:`IvsAlgorithm` contract.
- :func:`export_interface` gives a Python :class:`~imp.ivs.algorithm.Algorithm` a real struct
  whose callbacks forward to it: ``IMP_IVS_CreateMoveInterface`` returns one, and an application
  may call its members directly (sample-Framesource-algo calls ``intf->processAsync``).
  ``IMP_IVS_CreateChn`` recognises these and runs the Python object without the ctypes detour.
- :class:`ResultTable` remembers which object each address handed to a C caller stands for, so
  ReleaseResult can give the right one back.
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from imp import log
from imp.errors import ImpError, InvalidArgument
from imp.ivs.algorithm import FAILED, Algorithm, AlgorithmError
from imp.ivs.frames import PIX_FMT_NV12, FrameView
from imp.ivs.results import ResultTable, param_address
from imp.types import IMPIVSInterface

_log = log.get("ivs")

InterfacePtr = Any  # ctypes.POINTER(IMPIVSInterface); ctypes pointer types are not generic


class Address(int):
    """A result of a C algorithm: the ``void *`` its getResult produced."""

    def __repr__(self) -> str:
        return f"Address({int(self):#x})"


class CAlgorithm:
    """An application's ``IMPIVSInterface *`` seen through the :class:`IvsAlgorithm` contract."""

    def __init__(self, ptr: InterfacePtr) -> None:
        if not ptr:
            raise InvalidArgument("handler is NULL")
        self._ptr = ptr
        self._iface: IMPIVSInterface = ptr.contents
        if not self._iface.processAsync:
            raise InvalidArgument("handler->processAsync is NULL; every algorithm must have one")
        if int(self._iface.pixfmt) != PIX_FMT_NV12:
            _log.warning(
                "handler->pixfmt is %d; IVS delivers NV12 (%d) frames", self._iface.pixfmt, 10
            )

    @property
    def pixfmt(self) -> int:
        return int(self._iface.pixfmt)

    @property
    def address(self) -> int:
        return ctypes.addressof(self._iface)

    def _check(self, name: str, ret: int) -> int:
        if ret is not None and ret < 0:
            raise AlgorithmError(f"handler->{name} returned {ret}")
        return ret

    def init(self) -> None:
        if self._iface.init:
            self._check("init", self._iface.init(self._ptr))

    def exit(self) -> None:
        if self._iface.exit:
            self._iface.exit(self._ptr)

    def preprocess_sync(self, frame: FrameView) -> int:
        if not self._iface.preProcessSync:
            return 0
        return int(self._iface.preProcessSync(self._ptr, ctypes.byref(frame.info)))

    def process_async(self, frame: FrameView) -> int:
        return int(self._iface.processAsync(self._ptr, ctypes.byref(frame.info)))

    def get_result(self) -> Address:
        if not self._iface.getResult:
            raise AlgorithmError("handler->getResult is NULL")
        out = ctypes.c_void_p()
        self._check("getResult", self._iface.getResult(self._ptr, ctypes.byref(out)))
        if not out.value:
            raise AlgorithmError("handler->getResult gave a NULL result")
        return Address(out.value)

    def release_result(self, result: Any) -> None:
        if self._iface.releaseResult:
            self._check("releaseResult", self._iface.releaseResult(self._ptr, int(result)))

    def get_param(self, dst: int) -> None:
        if not self._iface.getParam:
            raise AlgorithmError("handler->getParam is NULL")
        self._check("getParam", self._iface.getParam(self._ptr, dst))

    def set_param(self, src: int) -> None:
        if not self._iface.setParam:
            raise AlgorithmError("handler->setParam is NULL")
        self._check("setParam", self._iface.setParam(self._ptr, src))

    def flush_frame(self) -> None:
        if self._iface.flushFrame:
            self._check("flushFrame", self._iface.flushFrame(self._ptr))

    def c_result(self, result: Any) -> int:
        return int(result)


@dataclass
class _Export:
    algorithm: Algorithm[Any, Any]
    struct: IMPIVSInterface
    callbacks: list[Any]  # the CFUNCTYPE objects must outlive the struct
    param: ctypes.Structure | None
    results: ResultTable = field(default_factory=ResultTable)


_exports: dict[int, _Export] = {}
_exports_lock = threading.Lock()


def _guard(name: str, algorithm: Algorithm[Any, Any], fn: Callable[..., int]) -> Callable[..., int]:
    """A callback body that never lets an exception into ctypes (it would print a traceback)."""

    def call(*args: Any) -> int:
        try:
            return fn(*args)
        except ImpError as exc:
            _log.error("%s.%s: %s", type(algorithm).__name__, name, exc)
        except Exception:
            _log.exception("%s.%s failed", type(algorithm).__name__, name)
        return FAILED

    return call


def export_interface(algorithm: Algorithm[Any, Any], param: ctypes.Structure | None = None) -> Any:
    """A ``POINTER(IMPIVSInterface)`` whose callbacks run ``algorithm``.

    ``param`` (the struct the interface was created from) becomes ``inf->param``; it is kept
    alive with the interface until :func:`unexport`.
    """
    iface = IMPIVSInterface()
    exp = _Export(algorithm, iface, [], param)
    fields: dict[str, Any] = {f[0]: f[1] for f in IMPIVSInterface._fields_}

    def frame_of(frame_ptr: Any) -> FrameView:
        if not frame_ptr:
            raise InvalidArgument("frame is NULL")
        return FrameView.of_info(frame_ptr.contents)

    def get_result(_inf: Any, out: Any) -> int:
        if not out:
            raise InvalidArgument("result is NULL")
        result = algorithm.get_result()
        try:
            out[0] = exp.results.box(result, algorithm.c_result(result))
        except BaseException:
            algorithm.release_result(result)
            raise
        return 0

    def release_result(_inf: Any, addr: int | None) -> int:
        algorithm.release_result(exp.results.unbox(addr or 0))
        return 0

    def init(_inf: Any) -> int:
        algorithm.init()
        return 0

    def exit_(_inf: Any) -> None:
        try:
            algorithm.exit()
        except Exception:
            _log.exception("%s.exit failed", type(algorithm).__name__)

    def void(_inf: Any, fn: Callable[[int], None], addr: int | None) -> int:
        fn(addr or 0)
        return 0

    def flush(_inf: Any) -> int:
        algorithm.flush_frame()
        return 0

    bodies: dict[str, Callable[..., Any]] = {
        "init": _guard("init", algorithm, init),
        "exit": exit_,
        "preProcessSync": _guard(
            "preProcessSync", algorithm, lambda _i, f: algorithm.preprocess_sync(frame_of(f))
        ),
        "processAsync": _guard(
            "processAsync", algorithm, lambda _i, f: algorithm.process_async(frame_of(f))
        ),
        "getResult": _guard("getResult", algorithm, get_result),
        "releaseResult": _guard("releaseResult", algorithm, release_result),
        "getParam": _guard("getParam", algorithm, lambda i, a: void(i, algorithm.get_param, a)),
        "setParam": _guard("setParam", algorithm, lambda i, a: void(i, algorithm.set_param, a)),
        "flushFrame": _guard("flushFrame", algorithm, flush),
    }
    for name, body in bodies.items():
        cb = fields[name](body)
        exp.callbacks.append(cb)
        setattr(iface, name, cb)
    if param is not None:
        iface.param = ctypes.addressof(param)
        iface.paramSize = ctypes.sizeof(param)
    iface.pixfmt = algorithm.pixfmt
    ptr = ctypes.pointer(iface)
    with _exports_lock:
        _exports[ctypes.addressof(iface)] = exp
    if algorithm._interface is None:
        algorithm._interface = ptr
    return ptr


def exported_algorithm(ptr: Any) -> Algorithm[Any, Any] | None:
    """The Python algorithm behind an interface from :func:`export_interface`, else None."""
    if not ptr:
        return None
    with _exports_lock:
        exp = _exports.get(ctypes.addressof(ptr.contents))
    return None if exp is None else exp.algorithm


def unexport(ptr: Any) -> Algorithm[Any, Any]:
    """Forget an exported interface (Destroy*Interface); returns its algorithm."""
    if not ptr:
        raise InvalidArgument("interface is NULL")
    with _exports_lock:
        exp = _exports.pop(ctypes.addressof(ptr.contents), None)
    if exp is None:
        raise InvalidArgument("not an interface created by IMP_IVS_Create*Interface (or destroyed)")
    if exp.algorithm._interface is not None and ctypes.addressof(
        exp.algorithm._interface.contents
    ) == ctypes.addressof(exp.struct):
        exp.algorithm._interface = None
    return exp.algorithm


def interface_pointer(handler: Any) -> Any:
    """Resolve a C ``IMPIVSInterface *`` argument: a POINTER, a struct, or byref of one."""
    if handler is None:
        raise InvalidArgument("handler is NULL")
    if isinstance(handler, IMPIVSInterface):
        return ctypes.pointer(handler)
    obj = getattr(handler, "_obj", None)  # byref(struct) or byref(pointer)
    if isinstance(obj, IMPIVSInterface):
        return ctypes.pointer(obj)
    if obj is not None and isinstance(obj, ctypes._Pointer):
        handler = obj
    if isinstance(handler, ctypes._Pointer) and handler._type_ is IMPIVSInterface:
        if not handler:
            raise InvalidArgument("handler is NULL")
        return handler
    raise InvalidArgument(
        f"handler must be a POINTER(IMPIVSInterface) (or the struct), got {type(handler).__name__}"
    )


__all__ = [
    "Address",
    "CAlgorithm",
    "ResultTable",
    "export_interface",
    "exported_algorithm",
    "interface_pointer",
    "param_address",
    "unexport",
]
