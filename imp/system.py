"""System: lifecycle, the IMP clock and the bind graph (``IMP_System_*``).

``System`` is process-wide, as in libimp. Modules (FrameSource, Encoder, ...) register an exit hook
so ``IMP_System_Exit`` tears everything down in one place: disabled channels, pools back in rmem.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from imp import log, runtime
from imp.core.clock import ImpClock
from imp.core.graph import Cell, Graph, cell_name, check_cell
from imp.core.teardown import run_all
from imp.errors import InvalidArgument, InvalidState

VERSION = "IMP-1.1.6"
_log = log.get("system")


class System:
    """The state behind ``IMP_System_*``. Use :func:`get_system`."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.initialized = False
        self.clock = ImpClock()
        self.graph = Graph()
        # (device or None, order, hook): device hooks run in the graph's teardown order.
        self._exit_hooks: list[tuple[int | None, int, Callable[[], None]]] = []

    # -- lifecycle ---------------------------------------------------------------------------
    def init(self) -> None:
        """``IMP_System_Init``: data structures and the clock; no hardware is touched."""
        log.ensure_default_handler()
        with self._lock:
            if self.initialized:
                raise InvalidState("IMP_System_Init was already called; call IMP_System_Exit first")
            runtime.kernel()  # the platform is chosen (and the simulator configured) now
            self.clock = ImpClock()
            self.graph = Graph()
            self.initialized = True

    def exit(self) -> None:
        """``IMP_System_Exit``: stop and free everything the modules hold."""
        with self._lock:
            if not self.initialized:
                raise InvalidState("IMP_System_Exit without IMP_System_Init")
            hooks = self._exit_order()
            self.initialized = False
        try:
            errors = run_all(((getattr(h, "__qualname__", str(h)), h) for h in hooks), _log)
        finally:  # even when a Ctrl-C landed in a hook (run_all re-raises it after the last)
            with self._lock:
                self.graph.clear()
            runtime.release_if_idle()
        if errors:
            raise InvalidState("System_Exit finished with errors: " + "; ".join(errors))

    def require_init(self, what: str) -> None:
        if not self.initialized:
            raise InvalidState(f"{what}: call IMP_System_Init first")

    def on_exit(self, hook: Callable[[], None], order: int = 50, device: int | None = None) -> None:
        """Run ``hook`` at System_Exit. With ``device`` (a DEV_ID_*) the graph decides when:
        consumers before the groups that feed them (:meth:`Graph.teardown_order`). Without,
        ``order`` does: below 50 before every device's hook, 50 and above after them."""
        with self._lock:
            if all(h != hook for _, _, h in self._exit_hooks):  # bound methods compare equal
                self._exit_hooks.append((device, order, hook))

    def remove_exit_hook(self, hook: Callable[[], None]) -> None:
        with self._lock:
            self._exit_hooks = [e for e in self._exit_hooks if e[2] != hook]

    def _exit_order(self) -> list[Callable[[], None]]:
        devices = {dev for dev, _, _ in self._exit_hooks if dev is not None}
        rank = {dev: i for i, dev in enumerate(self.graph.teardown_order(devices))}

        def key(entry: tuple[int | None, int, Callable[[], None]]) -> tuple[int, int]:
            dev, order, _ = entry
            if dev is not None:
                return (1, rank[dev])
            return (0 if order < 50 else 2, order)

        return [hook for _, _, hook in sorted(self._exit_hooks, key=key)]

    # -- clock --------------------------------------------------------------------------------
    def timestamp(self) -> int:
        """``IMP_System_GetTimeStamp``: µs of CLOCK_MONOTONIC_RAW since Init (or the rebase)."""
        return self.clock.now()

    def rebase(self, basets: int) -> None:
        if basets < 0:
            raise InvalidArgument(f"basets must be >= 0 µs, got {basets}")
        self.clock.rebase(basets)

    # -- binding -----------------------------------------------------------------------------
    def bind(self, src: Cell, dst: Cell) -> None:
        self.require_init("Bind")
        self.graph.bind(src, dst)  # checks both cells
        _log.info("bind %s -> %s", cell_name(src), cell_name(dst))

    def unbind(self, src: Cell, dst: Cell) -> None:
        self.require_init("UnBind")
        self.graph.unbind(src, dst)  # checks both cells

    def source_of(self, dst: Cell) -> Cell:
        self.require_init("GetBindbyDest")
        dev, grp, _ = check_cell(dst, "destination")
        return self.graph.source_of(dev, grp)


_system = System()


def get_system() -> System:
    return _system


CPU_INFO = "T31-X"


def cpu_info() -> str:
    """``IMP_System_GetCPUInfo``: the SoC variant, from /proc/cpuinfo when it says."""
    try:
        text = runtime.kernel().read_text("/proc/cpuinfo")
    except OSError:
        return CPU_INFO
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() in ("soc", "machine", "system type") and "T31" in value:
            return value.strip().split()[-1] if value.strip() else CPU_INFO
    return CPU_INFO
