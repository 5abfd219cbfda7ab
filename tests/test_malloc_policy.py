"""The simulator keeps picture-sized heap blocks from pinning RSS (kernel_stubs/malloc_policy.py).

Each case runs in a fresh interpreter: the allocator policy is process-wide."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

_SCRIPT = """
import ctypes, sys
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
if sys.argv[1] == "sim":
    from kernel_stubs import SimKernel
    SimKernel()

def rss_kib():
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))

size = 3 * 1024 * 1024  # a 1080p NV12 picture
for _ in range(2):  # the first free raises glibc's dynamic threshold; the second block stays
    before = rss_kib()
    p = libc.malloc(size)
    ctypes.memset(p, 1, size)
    libc.free(p)
print(rss_kib() - before)
"""


def _kept_kib(mode: str) -> int:
    out = subprocess.run(
        [sys.executable, "-c", _SCRIPT, mode],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return int(out.stdout.split()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc")
def test_a_freed_picture_sized_block_returns_to_the_system_under_the_simulator() -> None:
    plain = _kept_kib("plain")
    sim = _kept_kib("sim")
    # Without the policy glibc keeps the whole block resident after free (what grew the soak's
    # RSS by a picture's size); with it the block is unmapped.
    assert plain > 2048, f"expected glibc to keep the freed block (kept {plain} KiB)"
    assert sim < 512, f"the simulator's process kept {sim} KiB of a freed 3 MiB block"
