"""The IMPCell registry: which groups exist, what is bound to what, and frame fan-out.

``IMP_System_Bind(src, dst)`` connects an *output* of one group to the *input* of another;
frames then flow by themselves. A group has at most one input, an output may feed several
groups (FS -> IVS and FS -> ENC from one channel), and the graph stays acyclic.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from imp.errors import AlreadyExists, Busy, InvalidArgument, NotFound

if TYPE_CHECKING:
    from imp.core.vbm import Frame

log = logging.getLogger("imp.core.graph")

Cell = tuple[int, int, int]
"""(deviceID, groupID, outputID), as IMPCell."""

DEV_ID_FS = 0
DEV_ID_ENC = 1
DEV_ID_DEC = 2
DEV_ID_IVS = 3
DEV_ID_OSD = 4
DEV_ID_FG1DIRECT = 5
# The audio modules are no IMPCell devices (nothing binds them, cell checks refuse these
# numbers); they are numbered past the vendor's reserved range 6..23 only so that System_Exit
# orders their teardown with the video modules' (``System.on_exit(hook, device=...)``).
DEV_ID_AI = 32
DEV_ID_AO = 33
DEV_ID_DMIC = 34
DEV_ID_AENC = 35
DEV_ID_ADEC = 36
PRODUCERS = frozenset({DEV_ID_FS, DEV_ID_DEC, DEV_ID_AI, DEV_ID_DMIC})
"""Devices that make frames or samples (the sensor, the decoder, the microphones) rather than
take them in: they stop after every consumer."""
DEVICE_NAMES = {
    DEV_ID_FS: "FS",
    DEV_ID_ENC: "ENC",
    DEV_ID_DEC: "DEC",
    DEV_ID_IVS: "IVS",
    DEV_ID_OSD: "OSD",
    DEV_ID_FG1DIRECT: "FG1DIRECT",
}


@runtime_checkable
class FrameSink(Protocol):
    def on_frame(self, frame: Frame) -> None:
        """Take ownership of one reference to ``frame`` (already acquired for this sink).

        Must not block (enqueue and return); must ``release()`` the frame eventually.
        """
        ...


@runtime_checkable
class GroupNode(Protocol):
    """A group as the graph sees it: an address, a number of outputs and a frame input."""

    @property
    def device(self) -> int: ...

    @property
    def group(self) -> int: ...

    @property
    def num_outputs(self) -> int: ...

    def on_frame(self, frame: Frame) -> None: ...


def cell_name(cell: tuple[int, ...]) -> str:
    """``FS(0,1)``-style text for messages: device name, group[, output]."""
    dev = DEVICE_NAMES.get(cell[0], f"dev{cell[0]}")
    return f"{dev}({', '.join(str(c) for c in cell[1:])})"


def check_cell(cell: Cell, role: str) -> Cell:
    """``cell`` as three ints, or InvalidArgument saying what is wrong with it."""
    try:
        dev, grp, out = (int(c) for c in cell)
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(
            f"{role} must be a (deviceID, groupID, outputID) triple, got {cell!r}"
        ) from exc
    if dev not in DEVICE_NAMES:
        raise InvalidArgument(
            f"{role} {cell!r}: deviceID {dev} is not one of "
            + ", ".join(f"{n}={i}" for i, n in DEVICE_NAMES.items())
        )
    if grp < 0 or out < 0:
        raise InvalidArgument(f"{role} {cell!r}: groupID and outputID must be >= 0")
    return dev, grp, out


def _check_group(device: int, group: int) -> tuple[int, int]:
    if device not in DEVICE_NAMES:
        raise InvalidArgument(f"deviceID {device} is not a valid device (0..5)")
    if group < 0:
        raise InvalidArgument(f"groupID must be >= 0, got {group}")
    return device, group


class Graph:
    """Registry of groups and their bindings. Thread-safe; dispatch runs sinks unlocked."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._nodes: dict[tuple[int, int], GroupNode] = {}
        # dst group -> the source cell feeding it.
        self._source: dict[tuple[int, int], Cell] = {}
        # src cell -> dst groups, in bind order (dispatch order is deterministic).
        self._targets: dict[Cell, list[tuple[int, int]]] = {}

    # --- registry -----------------------------------------------------------------------------
    def register(self, node: GroupNode) -> None:
        key = _check_group(node.device, node.group)
        if node.num_outputs < 0:
            raise InvalidArgument(f"{cell_name(key)}: num_outputs must be >= 0")
        with self._lock:
            if key in self._nodes:
                raise AlreadyExists(f"group {cell_name(key)} is already created; destroy it first")
            self._nodes[key] = node

    def unregister(self, device: int, group: int) -> None:
        key = (device, group)
        with self._lock:
            if key not in self._nodes:
                raise NotFound(f"group {cell_name(key)} is not created")
            src = self._source.get(key)
            if src is not None:
                raise Busy(
                    f"group {cell_name(key)} is bound to source {cell_name(src)}; "
                    "UnBind it before destroying the group"
                )
            outs = [
                (cell, dsts) for cell, dsts in self._targets.items() if cell[:2] == key and dsts
            ]
            if outs:
                desc = "; ".join(
                    f"{cell_name(c)} -> " + ", ".join(cell_name(d) for d in dsts)
                    for c, dsts in outs
                )
                raise Busy(
                    f"group {cell_name(key)} still feeds bound groups ({desc}); "
                    "UnBind them before destroying the group"
                )
            del self._nodes[key]

    def lookup(self, device: int, group: int) -> GroupNode:
        with self._lock:
            node = self._nodes.get((device, group))
        if node is None:
            raise NotFound(f"group {cell_name((device, group))} is not created")
        return node

    def get(self, device: int, group: int) -> GroupNode | None:
        """Like :meth:`lookup` but None when absent."""
        with self._lock:
            return self._nodes.get((device, group))

    def nodes(self) -> list[GroupNode]:
        with self._lock:
            return list(self._nodes.values())

    # --- binding ------------------------------------------------------------------------------
    def bind(self, src: Cell, dst: Cell) -> None:
        """Connect output ``src`` to the input of group ``dst[:2]`` (dst's outputID is ignored)."""
        s = check_cell(src, "bind source")
        d = check_cell(dst, "bind destination")
        skey, dkey = (s[0], s[1]), (d[0], d[1])
        with self._lock:
            snode = self._nodes.get(skey)
            if snode is None:
                raise NotFound(
                    f"bind source group {cell_name(skey)} is not created; create it before Bind"
                )
            if dkey not in self._nodes:
                raise NotFound(
                    f"bind destination group {cell_name(dkey)} is not created; "
                    "create it before Bind"
                )
            if s[2] >= snode.num_outputs:
                raise InvalidArgument(
                    f"bind source {cell_name(s)}: outputID {s[2]} out of range, the group has "
                    f"{snode.num_outputs} output(s)"
                )
            current = self._source.get(dkey)
            if current == s:
                raise AlreadyExists(f"{cell_name(s)} is already bound to {cell_name(dkey)}")
            if current is not None:
                raise Busy(
                    f"group {cell_name(dkey)} already receives from {cell_name(current)}; a "
                    "group has one input: UnBind that first"
                )
            # A cycle exists iff dst is already upstream of src (or is src itself).
            up: tuple[int, int] | None = skey
            while up is not None:
                if up == dkey:
                    raise InvalidArgument(
                        f"binding {cell_name(s)} -> {cell_name(dkey)} would make a cycle"
                    )
                prev = self._source.get(up)
                up = None if prev is None else (prev[0], prev[1])
            self._source[dkey] = s
            self._targets.setdefault(s, []).append(dkey)

    def unbind(self, src: Cell, dst: Cell) -> None:
        s = check_cell(src, "unbind source")
        d = check_cell(dst, "unbind destination")
        dkey = (d[0], d[1])
        with self._lock:
            current = self._source.get(dkey)
            if current != s:
                what = "is not bound" if current is None else f"is bound to {cell_name(current)}"
                raise NotFound(f"cannot UnBind {cell_name(s)} -> {cell_name(dkey)}: {dkey} {what}")
            del self._source[dkey]
            dsts = self._targets[s]
            dsts.remove(dkey)
            if not dsts:
                del self._targets[s]

    def source_of(self, dst_device: int, dst_group: int) -> Cell:
        """The output feeding group (dst_device, dst_group) (IMP_System_GetBindbyDest)."""
        with self._lock:
            src = self._source.get((dst_device, dst_group))
        if src is None:
            raise NotFound(f"group {cell_name((dst_device, dst_group))} is not bound to a source")
        return src

    def targets(self, src: Cell) -> list[GroupNode]:
        """The groups bound to output ``src``, in bind order."""
        key = (int(src[0]), int(src[1]), int(src[2]))
        with self._lock:
            return [self._nodes[d] for d in self._targets.get(key, ())]

    def bindings(self) -> list[tuple[Cell, Cell]]:
        """Every (source output, destination cell with outputID 0) pair."""
        with self._lock:
            return [(src, (d[0], d[1], 0)) for d, src in self._source.items()]

    def has_bindings(self, device: int, group: int) -> bool:
        """True if the group has an input or any of its outputs is bound."""
        key = (device, group)
        with self._lock:
            return key in self._source or any(
                cell[:2] == key and dsts for cell, dsts in self._targets.items()
            )

    def teardown_order(self, devices: set[int]) -> list[int]:
        """``devices`` in the order to stop them: consumers before what feeds them.

        A device's depth is the longest chain of bindings below any of its groups; shallower
        first. Producers (FS, DEC) go after everything else even when nothing is bound any more,
        because frames they lent may still sit in a consumer's queue.
        """
        with self._lock:
            fed: dict[tuple[int, int], list[tuple[int, int]]] = {}
            for cell, dsts in self._targets.items():
                fed.setdefault((cell[0], cell[1]), []).extend(dsts)
            groups = list(self._nodes)

        def depth(key: tuple[int, int], seen: frozenset[tuple[int, int]]) -> int:
            below = [d for d in fed.get(key, ()) if d not in seen]
            return 1 + max(depth(d, seen | {d}) for d in below) if below else 0

        deepest = {dev: 0 for dev in devices}
        for key in groups:
            if key[0] in deepest:
                deepest[key[0]] = max(deepest[key[0]], depth(key, frozenset({key})))
        return sorted(devices, key=lambda dev: (dev in PRODUCERS, deepest[dev], dev))

    # --- data flow ----------------------------------------------------------------------------
    def dispatch(self, src: Cell, frame: Frame) -> int:
        """Give each group bound to ``src`` its own reference to ``frame``.

        The caller must hold a reference during the call (so the frame cannot recycle in
        between). Returns the number of targets the frame was offered to.
        """
        targets = self.targets(src)
        for node in targets:
            frame.acquire()
            try:
                node.on_frame(frame)
            except Exception:
                frame.release()
                log.exception(
                    "%s: on_frame of %s failed; its reference was released",
                    cell_name(src),
                    cell_name((node.device, node.group)),
                )
        return len(targets)

    def clear(self) -> None:
        """Forget every group and binding (IMP_System_Exit)."""
        with self._lock:
            self._nodes.clear()
            self._source.clear()
            self._targets.clear()


__all__ = [
    "DEVICE_NAMES",
    "DEV_ID_ADEC",
    "DEV_ID_AENC",
    "DEV_ID_AI",
    "DEV_ID_AO",
    "DEV_ID_DEC",
    "DEV_ID_DMIC",
    "DEV_ID_ENC",
    "DEV_ID_FG1DIRECT",
    "DEV_ID_FS",
    "DEV_ID_IVS",
    "DEV_ID_OSD",
    "PRODUCERS",
    "Cell",
    "FrameSink",
    "Graph",
    "GroupNode",
    "cell_name",
    "check_cell",
]
