"""Memory below 4 GiB, so 32-bit address fields of the T31 ABI can hold real pointers.

On the MIPS32 target every address fits in 32 bits. On a 64-bit PC the simulator must still hand
out ``virAddr`` values that fit the ``uint32_t`` fields of ``IMPFrameInfo``/``IMPEncoderStream``
and the 32-bit ``value`` of pointer-valued tuning controls, so memory that such fields point to is
mapped low: with ``MAP_32BIT`` on x86-64, else with address hints below 4 GiB.
"""

from __future__ import annotations

import ctypes
import mmap
import os
import threading
import weakref

_PROT = mmap.PROT_READ | mmap.PROT_WRITE
_MAP_PRIVATE = 0x02
_MAP_ANONYMOUS = 0x20
_MAP_32BIT = 0x40  # x86-64 only
_MAP_FAILED = ctypes.c_void_p(-1).value
_LIMIT = 1 << 32


def _libc() -> ctypes.CDLL:
    # The process's own symbols, libc's mmap among them: ctypes.util.find_library("c") would
    # import subprocess, tempfile and shutil (~0.5 MB of heap for good; issue 10, memory).
    lib = ctypes.CDLL(None, use_errno=True)
    lib.mmap.restype = ctypes.c_void_p
    lib.mmap.argtypes = [
        ctypes.c_void_p,
        ctypes.c_size_t,
        ctypes.c_int,
        ctypes.c_int,
        ctypes.c_int,
        ctypes.c_long,
    ]
    lib.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    lib.munmap.restype = ctypes.c_int
    return lib


_lib: ctypes.CDLL | None = None
_lock = threading.Lock()


def _get_lib() -> ctypes.CDLL:
    global _lib
    with _lock:
        if _lib is None:
            _lib = _libc()
        return _lib


class LowBuffer:
    """An anonymous, zero-filled mapping whose address is below 4 GiB.

    The mapping lives until the last view of it is gone: every view holds the ctypes array,
    which holds this object, whose finalizer unmaps. So a numpy array or memoryview made from
    ``view`` can never outlive the memory (no use-after-unmap), and nothing needs closing.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        if ctypes.sizeof(ctypes.c_void_p) == 4:
            # 32-bit host: every address is low; a plain mmap will do.
            mm = mmap.mmap(-1, size)
            self.addr = ctypes.addressof(ctypes.c_char.from_buffer(mm))
            self._keep: object = mm
        else:
            self.addr = _map_low(size)
            self._keep = None
            weakref.finalize(self, _get_lib().munmap, self.addr, size)
        array = (ctypes.c_char * size).from_address(self.addr)
        array._owner = self  # type: ignore[attr-defined]  # views keep the mapping alive
        self.view = memoryview(array).cast("B")


def _map_low(size: int) -> int:
    try:
        return _try_map_low(size)
    except MemoryError:
        # Unreachable LowBuffers (e.g. in reference cycles) may still hold the low range.
        import gc

        gc.collect()
        return _try_map_low(size)


def _try_map_low(size: int) -> int:
    lib = _get_lib()
    if os.uname().machine in ("x86_64", "AMD64"):
        addr = lib.mmap(None, size, _PROT, _MAP_PRIVATE | _MAP_ANONYMOUS | _MAP_32BIT, -1, 0)
        if addr not in (None, _MAP_FAILED) and addr + size <= _LIMIT:
            return int(addr)
    # Other 64-bit hosts: ask for addresses in the low range; the kernel honours free hints.
    hint = 0x10000000
    while hint + size < _LIMIT:
        addr = lib.mmap(ctypes.c_void_p(hint), size, _PROT, _MAP_PRIVATE | _MAP_ANONYMOUS, -1, 0)
        if addr not in (None, _MAP_FAILED):
            if addr + size <= _LIMIT:
                return int(addr)
            lib.munmap(addr, size)
        hint += 0x10000000
    raise MemoryError(f"cannot map {size} bytes below 4 GiB on this host")
