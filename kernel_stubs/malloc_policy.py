"""The host allocator's policy for picture-sized blocks, set once per simulated kernel.

On a board the pictures live in rmem (kernel memory). On a PC the simulator also makes
transient picture-sized heap blocks every frame (the scene's render planes, software codecs'
input copies). glibc's malloc raises its mmap threshold to the size of any mmapped block once it
is freed (up to 32 MiB), so after the first frames those blocks come from the heap arenas, and
the process RSS then follows the highest number ever alive at once: the 2-hour soak grew 3 MiB
in one step (a picture's size) during a load spike at minute 105, with the Python heap flat. A
fixed threshold keeps every block above it in its own mapping, returned to the system on free.
"""

from __future__ import annotations

import ctypes

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter number (malloc.h)
MMAP_THRESHOLD = 256 * 1024  # bytes: a 360p NV12 picture is 338 KiB, a text patch far less

_applied = False


def release_large_blocks() -> bool:
    """Make the C heap return picture-sized blocks on free (glibc only; True if set)."""
    global _applied
    if _applied:
        return True
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)  # musl and others have none
    if mallopt is None:
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    _applied = mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
    return _applied


__all__ = ["MMAP_THRESHOLD", "release_large_blocks"]
