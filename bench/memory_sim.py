"""Leave the simulator out of a heap figure without deep tracebacks (bench/memory.py).

On a board the fake kernel, sensor and ISP (``kernel_stubs``) are the kernel's and the
hardware's, so their Python heap is not imp's. Telling their allocations apart by a deep
traceback (any frame in ``kernel_stubs``) works but costs ~100 times the run's CPU, which the
MIPS tier under qemu cannot afford. With one frame per allocation instead:

- the simulator is created first (the fake kernel ``imp.open()`` would create, with its
  modules, PyAV, ``numpy.random`` and the stdlib modules only it uses), between two
  snapshots, after the case's imp modules are loaded and before anything runs; the
  allocations of that window whose frame is not a ``kernel_stubs`` line (code objects, other
  packages' module bodies) are subtracted later;
- what it allocates *running* is left out by its frame: a ``kernel_stubs`` line (numpy's C
  code adds no frame, so the arrays the simulator makes count as its own).

What this misses (objects the simulator creates through a Python-level library function and
keeps) is small: on x86 the figures agree with the deep-traceback ones within ~0.1 MB
(``bench.memory --deep``).
"""

from __future__ import annotations

import tracemalloc
from collections import Counter

SIMULATOR_FILES = "*/kernel_stubs/*"
_NOT_SIMULATOR = (tracemalloc.Filter(False, SIMULATOR_FILES),)


def _unfiltered(snapshot: tracemalloc.Snapshot) -> Counter[str]:
    """Bytes per allocation site of traces whose (only) frame is not a simulator line."""
    sites: Counter[str] = Counter()
    for stat in snapshot.filter_traces(_NOT_SIMULATOR).statistics("lineno"):
        sites[str(stat.traceback[0])] += stat.size
    return sites


def import_simulator() -> tuple[int, Counter[str]]:
    """Create the simulator (and import what only it needs) now, while tracing; returns the
    bytes of that import the frame filter cannot see as the simulator's (net: what it freed
    counts against it), and the sites that grew."""
    before = _unfiltered(tracemalloc.take_snapshot())
    import numpy.random  # noqa: F401  # the simulated sensor's noise; imp draws none

    from imp.kernel import current_kernel

    current_kernel()  # the fake kernel imp.open() would create: its modules, devices, arena
    after = _unfiltered(tracemalloc.take_snapshot())
    net = after.total() - before.total()
    after.subtract(before)
    return net, +after
