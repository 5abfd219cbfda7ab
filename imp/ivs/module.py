"""The IVS module: the table of groups and channels behind ``IMP_IVS_*``.

Process-wide like libimp's. Order of use (imp_ivs.h): CreateGroup, Bind FS -> IVS, CreateChn
(which calls the algorithm's ``init``), RegisterChn, StartRecvPic, Polling/Get/ReleaseResult,
StopRecvPic, UnRegisterChn, DestroyChn (``exit``), UnBind, DestroyGroup. prudynt binds after
StartRecvPic with the FrameSource already running; both orders work.
"""

from __future__ import annotations

import threading

from imp import log
from imp.core.graph import DEV_ID_IVS
from imp.core.registry import Registry
from imp.errors import AlreadyExists, Busy, ImpError, NotFound
from imp.ivs.algorithm import IvsAlgorithm
from imp.ivs.channel import DEFAULT_QUEUE_DEPTH, IvsChannel
from imp.ivs.group import IvsGroup
from imp.system import get_system

_log = log.get("ivs")

MAX_GROUPS = 6
MAX_CHANNELS = 32


class Ivs:
    """Groups and channels of the IVS module."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.groups: Registry[IvsGroup] = Registry("IVS group", MAX_GROUPS, "IMP_IVS_CreateGroup")
        self.channels: Registry[IvsChannel] = Registry(
            "IVS channel", MAX_CHANNELS, "IMP_IVS_CreateChn"
        )
        self._hooked = False

    # -- lookups --------------------------------------------------------------------------------
    def group(self, num: int) -> IvsGroup:
        return self.groups.lookup(num)

    def channel(self, num: int) -> IvsChannel:
        return self.channels.lookup(num)

    def uses(self, algorithm: object) -> IvsChannel | None:
        """The channel running ``algorithm``, if any."""
        with self._lock:
            return next((c for c in self.channels.values() if c.algorithm is algorithm), None)

    def _hook(self) -> None:
        if not self._hooked:
            # Stopped before whatever feeds the groups (the graph orders System_Exit).
            get_system().on_exit(self.shutdown, device=DEV_ID_IVS)
            self._hooked = True

    # -- groups ---------------------------------------------------------------------------------
    def create_group(self, num: int) -> IvsGroup:
        return self.groups.create_node(
            num, self._lock, "IVS CreateGroup", lambda: IvsGroup(num), self.shutdown, DEV_ID_IVS
        )

    def destroy_group(self, num: int) -> None:
        with self._lock:
            grp = self.group(num)
            if grp.channels:
                raise Busy(
                    f"IVS DestroyGroup({num}): channels {[c.num for c in grp.channels]} are "
                    "still registered; UnRegisterChn them first"
                )
            get_system().graph.unregister(DEV_ID_IVS, num)  # Busy while bound
            del self.groups[num]

    # -- channels -------------------------------------------------------------------------------
    def create_channel(
        self, num: int, algorithm: IvsAlgorithm, queue_depth: int = DEFAULT_QUEUE_DEPTH
    ) -> IvsChannel:
        self.channels.check(num)
        get_system().require_init(f"IVS CreateChn({num})")
        with self._lock:
            if num in self.channels:
                raise AlreadyExists(f"IVS channel {num} exists already; DestroyChn it first")
            other = self.uses(algorithm)
            if other is not None:
                raise Busy(
                    f"IVS CreateChn({num}): this interface already runs in channel {other.num}; "
                    "one channel carries one algorithm instance"
                )
            chn = IvsChannel(num, algorithm, queue_depth)
            algorithm.init()
            self.channels[num] = chn
            self._hook()
            return chn

    def destroy_channel(self, num: int) -> None:
        chn = self.channel(num)
        with chn.lifecycle, self._lock:  # no StartRecvPic between the check and the act
            if self.channels.get(num) is not chn:
                raise NotFound(f"IVS DestroyChn({num}): the channel was destroyed already")
            chn.check_idle("IVS DestroyChn")
            if chn.group is not None:
                raise Busy(
                    f"IVS DestroyChn({num}): registered to group {chn.group.group}; "
                    "UnRegisterChn first"
                )
            del self.channels[num]
            chn.closed = True
        self._release_results(chn)
        chn.algorithm.exit()

    def register(self, group: int, chn: int) -> None:
        self.group(group).register(self.channel(chn))

    def unregister(self, chn: int) -> None:
        c = self.channel(chn)
        if c.group is None:
            raise NotFound(f"IVS channel {chn} is not registered to a group")
        c.group.unregister(c)

    @staticmethod
    def _release_results(chn: IvsChannel) -> None:
        for result in chn.c_results.drain():
            try:
                chn.release_result(result)
            except ImpError:
                pass

    # -- System_Exit ----------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop every channel (frames back to the FrameSource), exit the algorithms, forget all."""
        with self._lock:
            channels = list(self.channels.values())
            self.channels.clear()
            self.groups.clear()  # System_Exit clears the graph itself
            self._hooked = False
        for chn in channels:
            try:
                with chn.lifecycle:  # a racing StartRecvPic waits, then finds it closed
                    chn.closed = True
                    chn.stop()
                    if chn.group is not None:
                        chn.group.unregister(chn)
                self._release_results(chn)
                chn.algorithm.exit()
            except Exception as exc:
                _log.error("IVS channel %d: teardown: %s", chn.num, exc)


_ivs = Ivs()


def get_ivs() -> Ivs:
    return _ivs


__all__ = ["MAX_CHANNELS", "MAX_GROUPS", "Ivs", "get_ivs"]
