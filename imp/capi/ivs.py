"""``IMP_IVS_*`` (18 functions of 1.1.6: imp_ivs.h, imp_ivs_move.h, imp_ivs_base_move.h).

C pointer conventions here: ``IMPIVSInterface *`` is a ``POINTER(IMPIVSInterface)`` (what the
Create*Interface functions return) or the struct; ``void **result`` is a ``POINTER(T)()`` or a
``c_void_p()`` (or byref of either), pointed at the algorithm's result; ``void *`` arguments
(result, param, vaddr) take a ctypes struct, a pointer to one, a ``c_void_p`` or an address.
"""

from __future__ import annotations

import ctypes
from typing import Any

from imp.capi._common import c_function, check_int, deref, log
from imp.errors import Busy, InvalidArgument, Timeout
from imp.ivs import base_move as _base_move
from imp.ivs import frames as _frames
from imp.ivs import move as _move
from imp.ivs.algorithm import Algorithm, IvsAlgorithm
from imp.ivs.channel import IvsChannel
from imp.ivs.cinterface import (
    CAlgorithm,
    export_interface,
    exported_algorithm,
    interface_pointer,
    param_address,
    unexport,
)
from imp.ivs.module import get_ivs
from imp.types import IMP_IVS_BaseMoveParam, IMP_IVS_MoveParam

__all__ = [
    "IMP_IVS_CreateBaseMoveInterface",
    "IMP_IVS_CreateChn",
    "IMP_IVS_CreateGroup",
    "IMP_IVS_CreateMoveInterface",
    "IMP_IVS_DestroyBaseMoveInterface",
    "IMP_IVS_DestroyChn",
    "IMP_IVS_DestroyGroup",
    "IMP_IVS_DestroyMoveInterface",
    "IMP_IVS_GetParam",
    "IMP_IVS_GetResult",
    "IMP_IVS_PollingResult",
    "IMP_IVS_RegisterChn",
    "IMP_IVS_ReleaseData",
    "IMP_IVS_ReleaseResult",
    "IMP_IVS_SetParam",
    "IMP_IVS_StartRecvPic",
    "IMP_IVS_StopRecvPic",
    "IMP_IVS_UnRegisterChn",
]


def _chn(num: Any, what: str = "ChnNum") -> IvsChannel:
    return get_ivs().channel(check_int(num, what))


def _address(arg: Any, what: str) -> int:
    """A C ``void *`` argument as an address (NULL refused)."""
    obj = getattr(arg, "_obj", arg)  # byref(x)
    if isinstance(obj, ctypes.c_void_p | ctypes.c_uint32 | ctypes.c_ulong | ctypes.c_size_t):
        obj = obj.value
    if isinstance(obj, ctypes._Pointer):
        if not obj:
            raise InvalidArgument(f"{what} is NULL")
        return ctypes.addressof(obj.contents)
    if isinstance(obj, ctypes.Structure | ctypes.Union | ctypes.Array):
        return ctypes.addressof(obj)
    if isinstance(obj, int) and not isinstance(obj, bool):
        if obj <= 0:
            raise InvalidArgument(f"{what} is NULL")
        return obj
    if obj is None:
        raise InvalidArgument(f"{what} is NULL")
    raise InvalidArgument(
        f"{what} must be a pointer, a ctypes object or an address, got {type(arg).__name__}"
    )


def _pointer_slot(arg: Any, what: str) -> ctypes.c_void_p:
    """The storage a C ``void **`` argument points at, seen as a ``void *`` to assign."""
    if arg is None:
        raise InvalidArgument(f"{what} is NULL")
    obj = getattr(arg, "_obj", arg)
    if isinstance(obj, ctypes._Pointer) and issubclass(
        obj._type_, ctypes._Pointer | ctypes.c_void_p
    ):
        if not obj:
            raise InvalidArgument(f"{what} is NULL")
        obj = obj.contents  # a T ** made with pointer(POINTER(T)())
    if isinstance(obj, ctypes.c_void_p):
        return obj
    if isinstance(obj, ctypes._Pointer):
        return ctypes.c_void_p.from_address(ctypes.addressof(obj))
    raise InvalidArgument(
        f"{what} must be a ctypes.POINTER(T)() or ctypes.c_void_p() (or byref of one), "
        f"got {type(arg).__name__}"
    )


# -- groups and channels -------------------------------------------------------------------------
@c_function()
def IMP_IVS_CreateGroup(GrpNum: int) -> int:
    get_ivs().create_group(check_int(GrpNum, "GrpNum"))
    return 0


@c_function()
def IMP_IVS_DestroyGroup(GrpNum: int) -> int:
    get_ivs().destroy_group(check_int(GrpNum, "GrpNum"))
    return 0


def _algorithm_of(handler: Any) -> IvsAlgorithm:
    ptr = interface_pointer(handler)
    python = exported_algorithm(ptr)
    if python is not None:
        return python  # ours: run the Python object directly, no ctypes round trip
    algorithm = CAlgorithm(ptr)
    for other in get_ivs().channels.values():
        if isinstance(other.algorithm, CAlgorithm) and other.algorithm.address == (
            algorithm.address
        ):
            raise Busy(
                f"this IMPIVSInterface already runs in channel {other.num}; one channel "
                "carries one algorithm instance"
            )
    return algorithm


@c_function()
def IMP_IVS_CreateChn(ChnNum: int, handler: Any) -> int:
    """``int IMP_IVS_CreateChn(int ChnNum, IMPIVSInterface *handler)``; calls ``handler->init``."""
    chn = check_int(ChnNum, "ChnNum")
    get_ivs().create_channel(chn, _algorithm_of(handler))
    return 0


@c_function()
def IMP_IVS_DestroyChn(ChnNum: int) -> int:
    """Calls ``handler->exit``; StopRecvPic and UnRegisterChn first."""
    get_ivs().destroy_channel(check_int(ChnNum, "ChnNum"))
    return 0


@c_function()
def IMP_IVS_RegisterChn(GrpNum: int, ChnNum: int) -> int:
    get_ivs().register(check_int(GrpNum, "GrpNum"), check_int(ChnNum, "ChnNum"))
    return 0


@c_function()
def IMP_IVS_UnRegisterChn(ChnNum: int) -> int:
    get_ivs().unregister(check_int(ChnNum, "ChnNum"))
    return 0


@c_function()
def IMP_IVS_StartRecvPic(ChnNum: int) -> int:
    _chn(ChnNum).start()
    return 0


@c_function()
def IMP_IVS_StopRecvPic(ChnNum: int) -> int:
    """Joins the channel's worker; frames the algorithm kept are flushed and released."""
    _chn(ChnNum).stop()
    return 0


# -- results -------------------------------------------------------------------------------------
@c_function()
def IMP_IVS_PollingResult(ChnNum: int, timeoutMs: int) -> int:
    """0 when a fresh result is ready; -1 on timeout. ``timeoutMs``: -1
    (``IMP_IVS_DEFAULT_TIMEOUTMS``) waits until a result comes or the channel stops, 0 does not
    wait, > 0 waits that many ms."""
    chn = _chn(ChnNum)
    ms = check_int(timeoutMs, "timeoutMs")
    if ms < -1:
        raise InvalidArgument(f"timeoutMs {ms}: use -1 (default: wait), 0 (no wait) or > 0 ms")
    try:
        chn.poll(None if ms == -1 else ms / 1000)
    except Timeout:
        log.debug("IMP_IVS_PollingResult(%d): timeout", chn.num)  # a normal outcome
        return -1
    return 0


@c_function()
def IMP_IVS_GetResult(ChnNum: int, result: Any) -> int:
    """``int IMP_IVS_GetResult(int ChnNum, void **result)``: pass ``POINTER(IMP_IVS_MoveOutput)()``
    (or ``c_void_p()``); it is pointed at the result, which stays valid until ReleaseResult.
    Only fresh after a successful PollingResult (else the previous result again)."""
    chn = _chn(ChnNum)
    slot = _pointer_slot(result, "result")  # checked before a fresh result is taken
    res = chn.get_result()
    try:
        slot.value = chn.c_results.box(res, chn.algorithm.c_result(res))
    except BaseException:
        chn.release_result(res)
        raise
    return 0


@c_function()
def IMP_IVS_ReleaseResult(ChnNum: int, result: Any) -> int:
    """``int IMP_IVS_ReleaseResult(int ChnNum, void *result)``: the pointer GetResult gave."""
    chn = _chn(ChnNum)
    addr = _address(result, "result")
    chn.release_result(chn.c_results.unbox(addr))
    return 0


@c_function()
def IMP_IVS_ReleaseData(vaddr: Any) -> int:
    """``int IMP_IVS_ReleaseData(void *vaddr)``: called by an algorithm's processAsync with the
    ``virAddr`` of the frame it was given, once it is done with the pixels."""
    _frames.release_data(_address(vaddr, "vaddr"))
    return 0


# -- parameters ----------------------------------------------------------------------------------
def _param_type(chn: IvsChannel) -> type | None:
    return chn.algorithm.param_type if isinstance(chn.algorithm, Algorithm) else None


@c_function()
def IMP_IVS_GetParam(chnNum: int, param: Any) -> int:
    """Fills ``param`` (e.g. an ``IMP_IVS_MoveParam``) with the channel's current parameters."""
    chn = _chn(chnNum, "chnNum")
    chn.algorithm.get_param(param_address(param, _param_type(chn)))
    return 0


@c_function()
def IMP_IVS_SetParam(chnNum: int, param: Any) -> int:
    """New parameters, effective from the next frame (the channel may keep running)."""
    chn = _chn(chnNum, "chnNum")
    chn.algorithm.set_param(param_address(param, _param_type(chn)))
    return 0


# -- move interfaces -----------------------------------------------------------------------------
def _destroy_interface(moveInterface: Any, kind: type, name: str) -> None:
    ptr = interface_pointer(moveInterface)
    algorithm = exported_algorithm(ptr)
    if not isinstance(algorithm, kind):
        raise InvalidArgument(f"{name}: not an interface created by its Create function")
    user = get_ivs().uses(algorithm)
    if user is not None:
        raise Busy(f"{name}: channel {user.num} still runs this interface; DestroyChn first")
    unexport(ptr)


@c_function(error_return=None)
def IMP_IVS_CreateMoveInterface(param: Any) -> Any:
    """``IMPIVSInterface *IMP_IVS_CreateMoveInterface(IMP_IVS_MoveParam *param)``: a
    ``POINTER(IMPIVSInterface)``, or None (NULL) when the parameters are unusable."""
    c_param = deref(param, IMP_IVS_MoveParam, "param")
    algorithm = _move.MoveDetector(_move.params_from_c(c_param))
    kept = IMP_IVS_MoveParam.from_buffer_copy(c_param)  # inf->param outlives the caller's
    return export_interface(algorithm, kept)


@c_function(error_return=None)
def IMP_IVS_DestroyMoveInterface(moveInterface: Any) -> None:
    _destroy_interface(moveInterface, _move.MoveDetector, "IMP_IVS_DestroyMoveInterface")


@c_function(error_return=None)
def IMP_IVS_CreateBaseMoveInterface(param: Any) -> Any:
    """``IMPIVSInterface *IMP_IVS_CreateBaseMoveInterface(IMP_IVS_BaseMoveParam *param)``."""
    c_param = deref(param, IMP_IVS_BaseMoveParam, "param")
    algorithm = _base_move.BaseMoveDetector(_base_move.params_from_c(c_param))
    kept = IMP_IVS_BaseMoveParam.from_buffer_copy(c_param)
    return export_interface(algorithm, kept)


@c_function(error_return=None)
def IMP_IVS_DestroyBaseMoveInterface(moveInterface: Any) -> None:
    _destroy_interface(
        moveInterface, _base_move.BaseMoveDetector, "IMP_IVS_DestroyBaseMoveInterface"
    )
