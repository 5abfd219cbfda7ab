"""The kernel ABI of ``imp.kernel.abi`` seen from a MIPS32 process.

The layouts and literal ioctl numbers are what libimp passes to the T31 drivers; here they are
checked in the byte order, pointer size and ``_IOC`` encoding of the target, and the host itself
is checked to be such a target (so a mis-built root cannot pass for one).
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import mmap
import os
import platform
import struct
import sys
import termios
from collections import Counter

import pytest

from imp.kernel import abi, abi_tables


def test_host_is_mips32_little_endian() -> None:
    assert platform.machine().startswith("mips"), platform.machine()
    assert platform.architecture()[0] == "32bit"
    assert struct.calcsize("P") == 4 and struct.calcsize("l") == 4
    assert sys.byteorder == "little"
    assert sys.maxsize == 2**31 - 1


def test_host_arch_ioc(checked: Counter[str]) -> None:
    """The interpreter's own ioctl constants were built from MIPS kernel headers.

    MIPS puts the direction in 3 bits at 29 (read = 2, write = 4); x86/arm use 2 bits at 30.
    termios' window-size requests are ``_IOR``/``_IOW('t', ...)`` on MIPS (plain numbers on
    x86), so they show which ``_IOC`` the host uses; ``abi.ioc(arch="mips")`` must agree.
    (On MIPS, TIOCSWINSZ has bit 31 set and Python's termios gives it as a negative int.)
    """
    cases = [
        ("TIOCGWINSZ", "r", "t", 104, 8),  # _IOR('t', 104, struct winsize) = 0x40087468
        ("TIOCSWINSZ", "w", "t", 103, 8),  # _IOW('t', 103, struct winsize) = 0x80087467
    ]
    for name, direction, type_, nr, size in cases:
        value = getattr(termios, name) & 0xFFFFFFFF  # termios exposes it as a signed C int
        assert value == abi.ioc(direction, type_, nr, size, arch="mips"), name
        assert value != abi.ioc(direction, type_, nr, size, arch="generic"), name
        checked["host ioctl constants"] += 1
    assert termios.FIONREAD == 0x467F  # MIPS' own number (x86: 0x541B)
    checked["host ioctl constants"] += 1


def test_qemu_passes_known_ioctls_and_refuses_unknown_ones() -> None:
    """FIONREAD on a pipe goes through qemu-user to the host kernel; a T31 driver ioctl on a
    pipe fails (ENOTTY on a real kernel; qemu-user answers for ioctls it does not know)."""
    r, w = os.pipe()
    try:
        os.write(w, b"hello")
        out = fcntl.ioctl(r, termios.FIONREAD, b"\0\0\0\0")
        assert int.from_bytes(out, sys.byteorder) == 5
        with pytest.raises(OSError) as info:
            fcntl.ioctl(r, abi.VIDIOC_REQBUFS, bytearray(0x14))
        assert info.value.errno in (errno.ENOTTY, errno.ENOSYS, errno.EINVAL)
        print(f"VIDIOC_REQBUFS on a pipe: {errno.errorcode[info.value.errno]}")
    finally:
        os.close(r)
        os.close(w)


def test_every_ioctl_number(checked: Counter[str]) -> None:
    names = set()
    for name, literal, direction, type_, nr, size in abi_tables.IOCTL_TABLE:
        assert getattr(abi, name) == literal, name
        assert abi.ioc(direction, type_, nr, size, arch="mips") == literal, name
        assert abi.decode_mips(literal) == (direction, type_, nr, size), name
        # the number fits the 32-bit request argument of ioctl(2) on this host
        assert ctypes.c_ulong(literal).value == literal, name
        names.add(name)
    assert len(names) == len(abi_tables.IOCTL_TABLE)
    checked["ioctl numbers"] += len(abi_tables.IOCTL_TABLE)


def test_every_kernel_layout(checked: Counter[str]) -> None:
    offsets = 0
    for cls, size, fields in abi_tables.LAYOUT_TABLE:
        assert ctypes.sizeof(cls) == size, cls.__name__
        for field, off in fields.items():
            assert getattr(cls, field).offset == off, f"{cls.__name__}.{field}"
            offsets += 1
    checked["kernel ABI layouts (sizeof)"] += len(abi_tables.LAYOUT_TABLE)
    checked["kernel ABI field offsets"] += offsets


def test_layouts_pack_little_endian() -> None:
    ctrl = abi.V4L2Control(id=abi.CID_HFLIP, value=-1)
    assert ctrl.pack() == bytearray(b"\x14\x09\x98\x00\xff\xff\xff\xff")
    buf = abi.V4L2Buffer.unpack(bytes(range(0x44)))
    assert buf.userptr == int.from_bytes(bytes(range(0x34, 0x38)), "little")
    assert abi.int_of(abi.int_arg(-2)) == -2


def test_lowmem_takes_the_32_bit_branch() -> None:
    """Every address is below 4 GiB here: LowBuffer is a plain mmap, no MAP_32BIT games."""
    from imp.kernel.lowmem import LowBuffer

    low = LowBuffer(3 * mmap.PAGESIZE)
    assert isinstance(low._keep, mmap.mmap)
    assert low.addr > 0 and low.addr + low.size <= 1 << 32
    low.view[:4] = b"T31!"
    assert ctypes.string_at(low.addr, 4) == b"T31!"
