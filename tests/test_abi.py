"""The kernel ABI table: literal ioctl numbers, the arch-aware _IOC, layout sizes/offsets."""

from __future__ import annotations

import ctypes

import pytest

from imp.kernel import abi, abi_tables


def test_every_ioctl_number_is_reproduced_by_the_mips_ioc() -> None:
    for name, literal, direction, type_, nr, size in abi_tables.IOCTL_TABLE:
        assert abi.ioc(direction, type_, nr, size, arch="mips") == literal, name
        assert abi.decode_mips(literal) == (direction, type_, nr, size), name
        assert getattr(abi, name) == literal
    print(f"{len(abi_tables.IOCTL_TABLE)} ioctl numbers checked")


def test_generic_ioc_differs_from_mips_as_tooling_md_says() -> None:
    # VIDIOC_QUERYCAP: MIPS 0x40685600, asm-generic 0x80685600
    assert abi.ioc("r", "V", 0, 0x68, arch="mips") == 0x40685600
    assert abi.ioc("r", "V", 0, 0x68, arch="generic") == 0x80685600
    with pytest.raises(ValueError):
        abi.ioc("rw", "V", 1, 1 << 13, arch="mips")


def test_layouts_match_kernel_abi_md() -> None:
    offsets = 0
    for cls, size, fields in abi_tables.LAYOUT_TABLE:
        assert ctypes.sizeof(cls) == size, cls.__name__
        for field, off in fields.items():
            assert getattr(cls, field).offset == off, f"{cls.__name__}.{field}"
            offsets += 1
    print(f"{len(abi_tables.LAYOUT_TABLE)} layouts, {offsets} offsets checked")


def test_isp_buffer_size_formula() -> None:
    # Appendix A by hand for 1920x1080, memopt 0
    w, h = 1920, 1080
    f = w * h + w * h // 2
    s = ((60 + 7) >> 3) * 8 * (68 + 1)
    c = (w // 2) * h
    m = (64 * h) >> 5  # c8(W >> 5) = c8(60) = 64
    assert abi.isp_buf_size(w, h) == f + c + c // 2 + m + 4 * s
    assert abi.isp_buf_size(w, h, memopt=1) == f + s


def test_nv12_geometry() -> None:
    assert abi.nv12_sizeimage(1920, 1080) == 2880 * 1088
    assert abi.nv12_uv_offset(1920, 1080) == 1920 * 1088
    assert abi.nv12_uv_offset(640, 368) == 640 * 368
