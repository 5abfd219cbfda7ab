"""imp.core.alloc over a tiny fake kernel that serves /proc/cmdline and /dev/rmem."""

from __future__ import annotations

import ctypes
import gc
import struct

import pytest

from imp.core.alloc import Block, RmemAllocator, parse_rmem_cmdline
from imp.errors import Busy, DeviceError, InvalidArgument, InvalidState, OutOfMemory
from imp.kernel.abi import (
    DMA_FROM_DEVICE,
    DMA_TO_DEVICE,
    MIPS_O_RDWR,
    MIPS_O_SYNC,
    RMEM_CMD_FLUSH_CACHE,
)
from tests.fakes import FakeRmemKernel

PHYS = 0x6300000


FakeKernel = FakeRmemKernel


def make(size: str = "1M", has_rmem: bool = True) -> tuple[FakeKernel, RmemAllocator]:
    k = FakeKernel(
        f"console=ttyS1,115200n8 mem=99M@0x0 rmem={size}@{PHYS:#x} init=/linuxrc\n", has_rmem
    )
    return k, RmemAllocator.open(k)


# --- cmdline -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("cmdline", "phys", "size"),
    [
        ("mem=99M@0x0 rmem=29M@0x6300000", 0x6300000, 29 << 20),
        ("rmem=16384K@0x7000000 quiet", 0x7000000, 16384 << 10),
        ("rmem=16384k@0x7000000", 0x7000000, 16 << 20),
        ("console=ttyS1 rmem=0x1000000@0x3000000\n", 0x3000000, 0x1000000),
        ("rmem=1048576@117440512", 117440512, 1 << 20),
        ("rmem=1G@0x40000000", 0x40000000, 1 << 30),
        ("rmem=8M@0x1000000 rmem=4M@0x2000000", 0x2000000, 4 << 20),  # last one wins
    ],
)
def test_parse_cmdline_variants(cmdline: str, phys: int, size: int) -> None:
    assert parse_rmem_cmdline(cmdline) == (phys, size)


@pytest.mark.parametrize("cmdline", ["mem=99M@0x0 console=ttyS1", "xrmem=8M@0x100", "rmem=8M"])
def test_parse_cmdline_absent(cmdline: str) -> None:
    with pytest.raises(DeviceError, match="rmem="):
        parse_rmem_cmdline(cmdline)


def test_open_maps_whole_arena_from_rmem() -> None:
    k, a = make("2M")
    assert a.phys_base == PHYS and a.size == 2 << 20
    assert a.device == "/dev/rmem" and not a.uncached
    assert k.mapped == [(PHYS, 2 << 20)]
    assert list(k.opened.values()) == [("/dev/rmem", MIPS_O_RDWR)]
    a.close()
    assert k.opened == {} and k.maps == {}


def test_open_without_rmem_cmdline_fails_clearly() -> None:
    k = FakeKernel("console=ttyS1 mem=128M@0x0")
    with pytest.raises(DeviceError, match="rmem"):
        RmemAllocator.open(k)
    assert k.opened == {}


def test_fallback_to_dev_mem_is_uncached_and_flush_is_noop() -> None:
    k, a = make(has_rmem=False)
    assert a.device == "/dev/mem" and a.uncached
    assert list(k.opened.values()) == [("/dev/mem", MIPS_O_RDWR | MIPS_O_SYNC)]
    b = a.alloc(4096)
    a.flush(b)
    assert k.ioctls == []
    a.free(b)
    a.close()


# --- alloc / free --------------------------------------------------------------------------------
def test_alloc_free_and_stats() -> None:
    _, a = make("1M")
    s = a.stats()
    assert s == {"total": 1 << 20, "used": 0, "free": 1 << 20, "largest_free": 1 << 20, "blocks": 0}
    b1 = a.alloc(100_000, "one")
    b2 = a.alloc(200_000, "two")
    assert isinstance(b1, Block) and b1.name == "one" and b1.size == 100_000
    assert len(b1.view) == 100_000 and not b1.view.readonly
    assert b1.phys != b2.phys
    assert b2.phys >= b1.phys + b1.size or b1.phys >= b2.phys + b2.size
    s = a.stats()
    assert s["blocks"] == 2 and s["used"] + s["free"] == s["total"]
    assert s["used"] >= 300_000
    assert a.live_blocks() == [b1, b2]
    a.free(b1)
    a.free(b2)
    assert a.stats()["free"] == 1 << 20 and a.stats()["largest_free"] == 1 << 20
    a.close()


def test_coalescing_restores_one_run() -> None:
    _, a = make("1M")
    blocks = [a.alloc(64 << 10, f"b{i}") for i in range(16)]
    assert a.stats()["free"] == 0
    with pytest.raises(OutOfMemory):
        a.alloc(1)
    # Free every other one: 8 holes of 64K, none adjacent.
    for b in blocks[::2]:
        a.free(b)
    assert a.stats()["largest_free"] == 64 << 10
    with pytest.raises(OutOfMemory):
        a.alloc(128 << 10)
    # Freeing the rest merges everything back into a single run.
    for b in blocks[1::2]:
        a.free(b)
    assert a.stats()["largest_free"] == 1 << 20
    big = a.alloc(1 << 20)
    assert big.phys == PHYS
    a.free(big)
    a.close()


def test_free_in_middle_merges_both_neighbours() -> None:
    _, a = make("1M")
    x, y, z = (a.alloc(4096) for _ in range(3))
    rest = a.alloc(a.stats()["largest_free"])
    a.free(x)
    a.free(z)
    assert a.stats()["largest_free"] == 4096
    a.free(y)
    assert a.stats()["largest_free"] == 3 * 4096
    assert a.alloc(3 * 4096).phys == x.phys
    del rest


@pytest.mark.parametrize("align", [1, 32, 4096, 65536, 1 << 20])
def test_alignment_is_of_the_physical_address(align: int) -> None:
    _, a = make("4M")
    pad = a.alloc(100, align=1)
    b = a.alloc(5000, align=align)
    assert b.phys % align == 0
    assert b.addr - a.virt_base == b.phys - a.phys_base
    a.free(pad)
    a.free(b)
    assert a.stats()["largest_free"] == 4 << 20


def test_best_fit_reuses_the_tightest_hole() -> None:
    _, a = make("1M")
    b = [a.alloc(4096 * n) for n in (4, 1, 2, 1, 8)]
    a.free(b[0])  # 16K hole
    a.free(b[2])  # 8K hole
    c = a.alloc(8192)
    assert c.phys == b[2].phys


def test_out_of_memory_message() -> None:
    _, a = make("1M")
    a.alloc(600 << 10, "held")
    with pytest.raises(OutOfMemory) as ei:
        a.alloc(800_000, "fs0-vb")
    msg = str(ei.value)
    assert "800000" in msg and "fs0-vb" in msg
    largest = a.stats()["largest_free"]
    assert f"largest free block is {largest}" in msg
    assert str(a.stats()["free"]) in msg
    assert isinstance(ei.value, MemoryError)


def test_bad_alloc_arguments() -> None:
    _, a = make()
    with pytest.raises(InvalidArgument):
        a.alloc(0)
    with pytest.raises(InvalidArgument):
        a.alloc(10, align=3)


def test_double_free_and_foreign_block() -> None:
    _, a = make()
    b = a.alloc(4096)
    a.free(b)
    with pytest.raises(InvalidArgument, match="double free"):
        a.free(b)
    _, other = make()
    ob = other.alloc(4096)
    with pytest.raises(InvalidArgument):
        a.free(ob)
    # A forged block at a live address is not the live block either.
    live = a.alloc(4096)
    fake = Block(live.phys, live.size, live.addr, memoryview(bytearray(4096)), "forged")
    with pytest.raises(InvalidArgument):
        a.free(fake)
    a.free(live)


def test_freed_view_is_released() -> None:
    _, a = make()
    b = a.alloc(4096)
    a.free(b)
    with pytest.raises(ValueError):
        b.view[0] = 1


# --- addresses -----------------------------------------------------------------------------------
def test_phys_virt_round_trip() -> None:
    _, a = make("1M")
    b = a.alloc(10_000, align=64)
    assert a.virt_to_phys(b.addr) == b.phys
    assert a.phys_to_virt(b.phys) == b.addr
    for off in (0, 1, 9_999):
        assert a.phys_to_virt(a.virt_to_phys(b.addr + off)) == b.addr + off
    assert a.virt_to_phys(a.virt_base) == PHYS
    with pytest.raises(InvalidArgument):
        a.virt_to_phys(a.virt_base + a.size)
    with pytest.raises(InvalidArgument):
        a.phys_to_virt(PHYS - 1)
    assert a.block_at(b.phys + 5) is b
    assert a.block_at(b.phys + b.size + 64) is None


def test_virtual_address_aliases_the_mapping() -> None:
    _, a = make("1M")
    b = a.alloc(4096, "alias")
    payload = b"hello rmem \x00\xff"
    ctypes.memmove(b.addr + 100, payload, len(payload))
    assert bytes(b.view[100 : 100 + len(payload)]) == payload
    assert bytes(a.view(b.phys + 100, len(payload))) == payload
    b.view[0:4] = b"ABCD"
    assert ctypes.string_at(b.addr, 4) == b"ABCD"
    a.view(b.phys + 8, 2)[:] = b"zz"
    assert ctypes.string_at(b.addr + 8, 2) == b"zz"
    with pytest.raises(InvalidArgument):
        a.view(PHYS + a.size - 4, 8)


# --- flush ---------------------------------------------------------------------------------------
def test_flush_issues_rmem_ioctl_with_virtual_address() -> None:
    k, a = make("1M")
    b = a.alloc(8192)
    a.flush(b)
    a.flush(b.addr + 4096, 100, DMA_FROM_DEVICE)
    a.flush(b.addr + 4096)  # rest of the block
    assert [c for _, c, _ in k.ioctls] == [RMEM_CMD_FLUSH_CACHE] * 3
    args = [struct.unpack("<III", arg) for _, _, arg in k.ioctls]
    mask = 0xFFFFFFFF
    assert args[0] == (b.addr & mask, 8192, DMA_TO_DEVICE)
    assert args[1] == ((b.addr + 4096) & mask, 100, DMA_FROM_DEVICE)
    assert args[2] == ((b.addr + 4096) & mask, 4096, DMA_TO_DEVICE)
    with pytest.raises(InvalidArgument):
        a.flush(b, direction=7)
    with pytest.raises(InvalidArgument):
        a.flush(a.virt_base + a.size - 10, 100)


# --- close ---------------------------------------------------------------------------------------
def test_close_refuses_live_blocks_unless_forced() -> None:
    k, a = make()
    b = a.alloc(4096, "still-here")
    with pytest.raises(Busy, match="still-here"):
        a.close()
    assert not a.closed
    a.close(force=True)
    assert a.closed and k.opened == {}
    a.close()  # idempotent
    with pytest.raises(InvalidState):
        a.alloc(10)
    del b


def test_close_with_lingering_views_does_not_crash() -> None:
    k, a = make()
    b = a.alloc(4096)
    keep = a.view(b.phys, 16)
    a.free(b)
    a.close()  # the mapping stays pinned by `keep`; no dangling pointer
    assert a.closed and k.opened == {}
    keep[0] = 1
    assert keep[0] == 1
    del keep
    gc.collect()
