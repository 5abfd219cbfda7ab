"""IVS: intelligent video analysis on frames flowing through the bind graph (``IMP_IVS_*``).

A *group* is a graph node (device IVS = 3): bind a FrameSource output to it and it passes every
frame on to whatever is bound to its output 0 while offering it to its *channels*; each channel
runs one *algorithm* on its own thread and signals results. Algorithms: the built-in
:class:`MoveDetector` (motion per region) and :class:`BaseMoveDetector` (SAD map), any
:class:`Algorithm` subclass, or a C-style ``IMPIVSInterface`` (:class:`CAlgorithm`).

    from imp import ivs
    from imp.system import get_system

    detector = ivs.MoveDetector(ivs.MoveParams.whole_frame(640, 360, sense=3, skip_frames=5))
    with ivs.open_group(0) as grp, ivs.open_channel(0, detector, grp) as chn:
        get_system().bind((0, 1, 1), grp.cell)        # FS channel 1, output 1 -> IVS group 0
        for result in chn.results(limit=100, timeout=2.0):
            print(result.timestamp, result.regions)
        get_system().unbind((0, 1, 1), grp.cell)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from imp import log
from imp.core.lazy import exports_of, lazy_exports
from imp.errors import ImpError
from imp.ivs.channel import DEFAULT_QUEUE_DEPTH, IvsChannel, IvsChannelStats
from imp.ivs.module import MAX_CHANNELS, MAX_GROUPS, Ivs, get_ivs

if TYPE_CHECKING:
    from imp.ivs.algorithm import RESULT_DEPTH, Algorithm, AlgorithmError, IvsAlgorithm
    from imp.ivs.base_move import BaseMoveDetector, BaseMoveParams, BaseMoveResult
    from imp.ivs.cinterface import Address, CAlgorithm
    from imp.ivs.frames import FrameView, release_data
    from imp.ivs.group import IvsGroup
    from imp.ivs.move import MoveDetector, MoveParams, MoveResult, Roi

# Imported on first use (imp.core.lazy): motion detection does not load the SAD detector.
__getattr__ = lazy_exports(
    __name__,
    {
        **exports_of(
            "imp.ivs.algorithm", "RESULT_DEPTH", "Algorithm", "AlgorithmError", "IvsAlgorithm"
        ),
        **exports_of("imp.ivs.base_move", "BaseMoveDetector", "BaseMoveParams", "BaseMoveResult"),
        **exports_of("imp.ivs.cinterface", "Address", "CAlgorithm"),
        **exports_of("imp.ivs.frames", "FrameView", "release_data"),
        **exports_of("imp.ivs.group", "IvsGroup"),
        **exports_of("imp.ivs.move", "MoveDetector", "MoveParams", "MoveResult", "Roi"),
    },
)

_log = log.get("ivs")


def create_group(num: int) -> IvsGroup:
    """``IMP_IVS_CreateGroup``."""
    return get_ivs().create_group(num)


def destroy_group(num: int) -> None:
    """``IMP_IVS_DestroyGroup`` (UnBind and UnRegisterChn first)."""
    get_ivs().destroy_group(num)


def create_channel(
    num: int, algorithm: IvsAlgorithm, queue_depth: int = DEFAULT_QUEUE_DEPTH
) -> IvsChannel:
    """``IMP_IVS_CreateChn``: calls the algorithm's ``init``."""
    return get_ivs().create_channel(num, algorithm, queue_depth)


def destroy_channel(num: int) -> None:
    """``IMP_IVS_DestroyChn``: calls the algorithm's ``exit``."""
    get_ivs().destroy_channel(num)


def register(group: int, chn: int) -> None:
    """``IMP_IVS_RegisterChn``."""
    get_ivs().register(group, chn)


def unregister(chn: int) -> None:
    """``IMP_IVS_UnRegisterChn``."""
    get_ivs().unregister(chn)


@contextmanager
def open_group(num: int) -> Iterator[IvsGroup]:
    """A group for the ``with`` block, destroyed at its end (unbind it inside the block)."""
    grp = create_group(num)
    try:
        yield grp
    except BaseException:
        _quietly(destroy_group, num)  # the block's error matters more than a failed clean-up
        raise
    destroy_group(num)


@contextmanager
def open_channel(
    num: int,
    algorithm: IvsAlgorithm,
    group: IvsGroup | int,
    queue_depth: int = DEFAULT_QUEUE_DEPTH,
) -> Iterator[IvsChannel]:
    """CreateChn, RegisterChn and StartRecvPic; the reverse when the block ends."""
    chn = create_channel(num, algorithm, queue_depth)
    try:
        register(group if isinstance(group, int) else group.group, num)
        chn.start()
        yield chn
    except BaseException:
        chn.stop()
        if chn.group is not None:
            _quietly(unregister, num)
        _quietly(destroy_channel, num)
        raise
    chn.stop()
    unregister(num)
    destroy_channel(num)


def _quietly(fn: Callable[[int], None], num: int) -> None:
    try:
        fn(num)
    except ImpError as exc:
        _log.warning("clean-up after an error: %s(%d): %s", fn.__name__, num, exc)


__all__ = [
    "DEFAULT_QUEUE_DEPTH",
    "MAX_CHANNELS",
    "MAX_GROUPS",
    "RESULT_DEPTH",
    "Address",
    "Algorithm",
    "AlgorithmError",
    "BaseMoveDetector",
    "BaseMoveParams",
    "BaseMoveResult",
    "CAlgorithm",
    "FrameView",
    "Ivs",
    "IvsAlgorithm",
    "IvsChannel",
    "IvsChannelStats",
    "IvsGroup",
    "MoveDetector",
    "MoveParams",
    "MoveResult",
    "Roi",
    "create_channel",
    "create_group",
    "destroy_channel",
    "destroy_group",
    "get_ivs",
    "open_channel",
    "open_group",
    "register",
    "release_data",
    "unregister",
]
