"""/dev/tx-isp, /dev/isp-m0 and /dev/rmem of the fake kernel (kernel_abi.md §3, §4)."""

from __future__ import annotations

import ctypes
import errno
import struct

import pytest
from test_stub_support import RMEM, TXISP, board, expect_errno, sensor_info

from imp.kernel import abi
from kernel_stubs import SimConfig, SimKernel


# -- tx-isp ------------------------------------------------------------------------------------
def test_unknown_txisp_command_returns_zero() -> None:
    with board() as b:
        fd = b.open_isp()
        arg = bytearray(b"\x55" * 8)
        assert b.k.ioctl(fd, 0xC00456FE, arg) == 0
        assert b.k.ioctl(fd, 0x20007400, arg) == 0
        assert arg == bytearray(b"\x55" * 8)  # and touches nothing


@pytest.mark.parametrize(
    ("name", "size"),
    [
        ("gc2053", (1920, 1080)),
        ("jxf23", (1920, 1080)),
        ("ov9732", (1280, 720)),
        ("sc1035", (1280, 720)),
        ("mystery", (1920, 1080)),
    ],
)
def test_register_sensor_picks_the_native_size(name: str, size: tuple[int, int]) -> None:
    with board() as b:
        b.open_isp()
        b.add_sensor(name)
        assert b.k.sensor is not None
        assert (b.k.sensor.width, b.k.sensor.height) == size


def test_configured_sensor_size_overrides() -> None:
    with board(sensor_size=(640, 480)) as b:
        b.open_isp()
        b.add_sensor("gc2053")
        assert b.k.sensor is not None and (b.k.sensor.width, b.k.sensor.height) == (640, 480)


def test_enuminput_g_s_input_release() -> None:
    with board() as b:
        b.open_isp()
        assert abi.int_of(b.isp(abi.VIDIOC_G_INPUT, abi.int_arg(7))) == -1
        b.isp(abi.VIDIOC_REGISTER_SENSOR, sensor_info("gc2053"))
        arg = abi.V4L2Input(index=0).pack()
        arg[40:44] = b"\x11\x22\x33\x44"
        b.isp(abi.VIDIOC_ENUMINPUT, arg)
        inp = abi.V4L2Input.from_buffer_copy(bytes(arg))
        assert inp.index == 0 and inp.name == b"gc2053"
        expect_errno(errno.EINVAL, b.isp, abi.VIDIOC_ENUMINPUT, abi.V4L2Input(index=1).pack())
        expect_errno(errno.EINVAL, b.isp, abi.VIDIOC_S_INPUT, abi.int_arg(1))
        b.isp(abi.VIDIOC_S_INPUT, abi.int_arg(0))
        assert abi.int_of(b.isp(abi.VIDIOC_G_INPUT, abi.int_arg(0))) == 0
        b.isp(abi.VIDIOC_S_INPUT, abi.int_arg(-1))
        assert b.k.sensor is None
        b.isp(abi.VIDIOC_RELEASE_SENSOR, sensor_info("gc2053"))
        expect_errno(errno.EINVAL, b.isp, abi.VIDIOC_ENUMINPUT, abi.V4L2Input(index=0).pack())


def test_buf_info_follows_appendix_a() -> None:
    for memopt in (0, 1):
        with board(memopt=memopt) as b:
            b.open_isp()
            b.add_sensor("gc2053")
            info = abi.BufInfo.from_buffer_copy(bytes(b.isp(abi.VIDIOC_GET_BUF_INFO, bytearray(8))))
            assert info.paddr == 0
            assert info.size == abi.isp_buf_size(1920, 1080, memopt)
            base = b.k.arena.base
            small = abi.BufInfo(paddr=base, size=info.size - 1).pack()
            expect_errno(errno.EINVAL, b.isp, abi.VIDIOC_SET_BUF_INFO, small)
            outside = abi.BufInfo(paddr=b.k.arena.end - 4096, size=info.size).pack()
            expect_errno(errno.EINVAL, b.isp, abi.VIDIOC_SET_BUF_INFO, outside)
            b.isp(abi.VIDIOC_SET_BUF_INFO, abi.BufInfo(paddr=base, size=info.size).pack())
            assert b.k.isp.buf_info == (base, info.size)


def test_wdr_buffers_need_wdr_mode() -> None:
    with board() as b:
        b.open_isp()
        b.add_sensor("gc2053")
        err = expect_errno(errno.EINVAL, b.isp, abi.VIDIOC_GET_WDR_BUF_INFO, bytearray(8))
        assert "wdr" in str(err)
        b.isp(abi.VIDIOC_ISP_WDR_ENABLE)
        info = abi.BufInfo.from_buffer_copy(bytes(b.isp(abi.VIDIOC_GET_WDR_BUF_INFO, bytearray(8))))
        assert info.size > 0
        ok = abi.BufInfo(paddr=b.k.arena.base, size=info.size).pack()
        b.isp(abi.VIDIOC_SET_WDR_BUF_INFO, ok)


def test_links_rules() -> None:
    with board() as b:
        b.open_isp()
        b.add_sensor("gc2053")
        b.isp(abi.VIDIOC_STREAMON, abi.int_arg(12345))  # argument ignored
        assert b.k.isp.sensor_streaming
        expect_errno(errno.EINVAL, b.isp, abi.VIDIOC_CREATE_SUBDEV_LINKS, abi.int_arg(2))
        b.isp(abi.VIDIOC_CREATE_SUBDEV_LINKS, abi.int_arg(0))
        b.isp(abi.VIDIOC_LINKS_STREAMON)
        b.isp(abi.VIDIOC_CREATE_SUBDEV_LINKS, abi.int_arg(0))  # same link again: fine
        err = expect_errno(errno.EPERM, b.isp, abi.VIDIOC_CREATE_SUBDEV_LINKS, abi.int_arg(1))
        assert "stop active links" in str(err)
        assert b.k.isp.pipeline_active()
        b.isp(abi.VIDIOC_LINKS_STREAMOFF)
        b.isp(abi.VIDIOC_CREATE_SUBDEV_LINKS, abi.int_arg(1))
        b.isp(abi.VIDIOC_DESTROY_SUBDEV_LINKS, abi.int_arg(-1))
        assert b.k.isp.active_link == -1 and not b.k.isp.pipeline_active()
        b.isp(abi.VIDIOC_STREAMOFF)
        assert not b.k.isp.sensor_streaming


def test_bin_path_and_frame_drop_copy_their_real_sizes() -> None:
    with board() as b:
        b.open_isp()
        path = bytearray(0x40)
        path[:12] = b"/etc/sensor/"
        b.isp(abi.VIDIOC_SET_DEFAULT_BIN_PATH, path)
        expect_errno(errno.EINVAL, b.isp, abi.VIDIOC_SET_DEFAULT_BIN_PATH, bytearray(4))
        got = b.isp(abi.VIDIOC_GET_DEFAULT_BIN_PATH, bytearray(0x40))
        assert got == path
        drop = bytearray(range(0x24))
        b.isp(abi.TISP_VIDIOC_SET_FRAME_DROP, drop)
        assert b.isp(abi.TISP_VIDIOC_GET_FRAME_DROP, bytearray(0x24)) == drop
        b.isp(abi.VIDIOC_SET_GPIO_INIT, bytearray(42))


# -- isp-m0 ------------------------------------------------------------------------------------
def test_isp_m0_needs_txisp_and_is_exclusive() -> None:
    with board() as b:
        expect_errno(errno.EPERM, b.k.open, "/dev/isp-m0", 2)
        b.open_isp()
        fd = b.k.open("/dev/isp-m0", 2)
        expect_errno(errno.EPERM, b.k.open, "/dev/isp-m0", 2)
        b.k.close(fd)
        fd = b.k.open("/dev/isp-m0", 2)  # released: openable again
        b.k.close(fd)


def test_isp_m0_controls_both_forms() -> None:
    with board() as b:
        b.open_isp()
        fd = b.k.open("/dev/isp-m0", 2)
        ctrl = abi.V4L2Control(id=abi.CID_BRIGHTNESS, value=0).pack()
        b.k.ioctl(fd, abi.VIDIOC_G_CTRL, ctrl)
        assert abi.V4L2Control.from_buffer_copy(bytes(ctrl)).value == 128
        b.k.ioctl(fd, abi.VIDIOC_S_CTRL, abi.V4L2Control(id=abi.CID_BRIGHTNESS, value=200).pack())
        # Any other number is the 12-byte {dir, id, value} call.
        get = abi.IspTuningCtrl(dir=1, id=abi.CID_BRIGHTNESS).pack()
        b.k.ioctl(fd, abi.VIDIOC_DEFAULT_CMD_ISP_TUNING, get)
        assert abi.IspTuningCtrl.from_buffer_copy(bytes(get)).value == 200
        # Contrast as the tuning daemon sends it: (total_gain << 8) | contrast.
        s = abi.IspTuningCtrl(dir=0, id=abi.CID_CONTRAST, value=(7 << 8) | 90).pack()
        b.k.ioctl(fd, 0xC00C56C6, s)
        b.k.ioctl(
            fd, abi.VIDIOC_DEFAULT_CMD_ISP_TUNING, abi.IspTuningCtrl(0, abi.CID_HFLIP, 1).pack()
        )
        pic = b.k.isp.controls.picture()
        assert (pic.brightness, pic.contrast, pic.hflip) == (200, 90, True)
        fps = abi.IspTuningCtrl(dir=0, id=abi.CID_SENSOR_FPS, value=(15 << 16) | 1).pack()
        b.k.ioctl(fd, abi.VIDIOC_DEFAULT_CMD_ISP_TUNING, fps)
        got = abi.IspTuningCtrl(dir=1, id=abi.CID_SENSOR_FPS).pack()
        b.k.ioctl(fd, abi.VIDIOC_DEFAULT_CMD_ISP_TUNING, got)
        assert abi.int_of(got[8:12]) == (15 << 16) | 1
        bad_fps = abi.IspTuningCtrl(dir=0, id=abi.CID_SENSOR_FPS, value=15 << 16).pack()
        expect_errno(errno.EINVAL, b.k.ioctl, fd, abi.VIDIOC_DEFAULT_CMD_ISP_TUNING, bad_fps)
        # Any dir other than 0 is a get (isp_tuning_ids.md §1).
        odd_dir = abi.IspTuningCtrl(dir=5, id=abi.CID_BRIGHTNESS).pack()
        b.k.ioctl(fd, abi.VIDIOC_DEFAULT_CMD_ISP_TUNING, odd_dir)
        assert abi.IspTuningCtrl.from_buffer_copy(bytes(odd_dir)).value == 200
        b.k.close(fd)


def test_isp_m0_ioctls_need_the_open_state() -> None:
    with board() as b:
        b.open_isp()
        fd = b.k.open("/dev/isp-m0", 2)
        assert b.txisp is not None
        b.k.close(b.txisp)  # slakes the tuning node under the open fd
        expect_errno(errno.EPERM, b.k.ioctl, fd, abi.VIDIOC_G_CTRL, bytearray(8))


class _Wb(ctypes.Structure):
    """The 8-B kernel WB attr {u32 mode; u16 rgain; u16 bgain} (isp_tuning_ids.md row 46)."""

    _fields_ = [("mode", ctypes.c_uint32), ("rgain", ctypes.c_uint16), ("bgain", ctypes.c_uint16)]


def test_pointer_controls_copy_through_user_memory() -> None:
    # The struct must sit below 4 GiB for the 32-bit value field, as imp's tuning client does.
    lowmem = pytest.importorskip("imp.kernel.lowmem")
    low = lowmem.LowBuffer(4096)
    addr = low.addr
    with board() as b:
        b.open_isp()
        fd = b.k.open("/dev/isp-m0", 2)
        wb = _Wb.from_address(addr)
        wb.mode, wb.rgain, wb.bgain = 1, 300, 200
        b.k.ioctl(
            fd,
            abi.VIDIOC_DEFAULT_CMD_ISP_TUNING,
            abi.IspTuningCtrl(0, abi.CID_WB_ATTR, addr).pack(),
        )
        wb.mode = wb.rgain = wb.bgain = 0
        b.k.ioctl(
            fd,
            abi.VIDIOC_DEFAULT_CMD_ISP_TUNING,
            abi.IspTuningCtrl(1, abi.CID_WB_ATTR, addr).pack(),
        )
        assert (wb.mode, wb.rgain, wb.bgain) == (1, 300, 200)
        gamma = abi.IspTuningCtrl(1, abi.CID_GAMMA, addr).pack()
        b.k.ioctl(fd, abi.VIDIOC_DEFAULT_CMD_ISP_TUNING, gamma)
        curve = struct.unpack("<129H", ctypes.string_at(addr, 258))  # the default curve
        assert curve[0] == 0 and curve[-1] == 4095 and list(curve) == sorted(curve)
        # A NULL or wild pointer is EFAULT, as copy_from_user fails: never a crash.
        for bad in (0, 8):
            ctrl = abi.IspTuningCtrl(0, abi.CID_WB_ATTR, bad).pack()
            expect_errno(errno.EFAULT, b.k.ioctl, fd, abi.VIDIOC_DEFAULT_CMD_ISP_TUNING, ctrl)
        b.k.close(fd)
    del low  # unmapped once unreferenced


# -- rmem --------------------------------------------------------------------------------------
def test_rmem_mmap_is_bounds_checked_and_shares_the_arena() -> None:
    with board() as b:
        fd = b.k.open(RMEM, 2)
        base, size = b.k.arena.base, b.k.arena.size
        expect_errno(errno.EINVAL, b.k.mmap, fd, 4096, base - 4096)
        expect_errno(errno.EINVAL, b.k.mmap, fd, 8192, base + size - 4096)
        expect_errno(errno.EINVAL, b.k.mmap, fd, 4096, base + 1)
        whole = b.k.mmap(fd, size, base)
        part = b.k.mmap(fd, 4096, base + 8192)
        part[0:4] = b"T31!"
        assert bytes(whole[8192:8196]) == b"T31!"
        assert ctypes.string_at(b.k.arena.virt(base + 8192), 4) == b"T31!"  # a real pointer
        b.k.unmap(part)
        b.k.unmap(whole)
        tx = b.k.open(TXISP, abi.TX_ISP_OPEN_FLAGS)
        expect_errno(errno.ENODEV, b.k.mmap, tx, 4096, base)  # no .mmap on other nodes


def test_rmem_flush_checks_the_mapping_and_direction() -> None:
    with board() as b:
        fd = b.k.open(RMEM, 2)
        base = b.k.arena.base
        view = b.k.mmap(fd, 1 << 20, base)
        va = b.k.arena.virt(base)

        def flush(addr: int, length: int, direction: int) -> bytearray:
            arg = abi.RmemFlush(addr=addr & 0xFFFFFFFF, len=length, dir=direction).pack()
            b.k.ioctl(fd, abi.RMEM_CMD_FLUSH_CACHE, arg)
            return arg

        for d in (0, 1, 2):
            flush(va + 4096, 4096, d)
        expect_errno(errno.EINVAL, flush, va, 4096, 3)
        expect_errno(errno.EINVAL, flush, va + (1 << 20) - 10, 64, 1)
        expect_errno(errno.EINVAL, flush, va - 4096, 64, 1)
        expect_errno(errno.EINVAL, b.k.ioctl, fd, 0xC0087201, bytearray(8))
        b.k.unmap(view)
        expect_errno(errno.EINVAL, flush, va + 4096, 4096, 1)  # no live mapping any more


# -- kernel-level ------------------------------------------------------------------------------
def test_proc_files_and_unknown_paths() -> None:
    kernel = SimKernel(SimConfig(clock="virtual", rmem_size=16 << 20, rmem_base=0x7000000))
    try:
        assert "rmem=16M@0x7000000" in kernel.read_text("/proc/cmdline")
        assert "mem=112M@0x0" in kernel.read_text("/proc/cmdline")
        assert "Ingenic" in kernel.read_text("/proc/cpuinfo")
        assert kernel.exists("/dev/tx-isp") and kernel.exists("/proc/cmdline")
        assert not kernel.exists("/dev/avpu")
        expect_errno(errno.ENOENT, kernel.open, "/dev/video0", 2)
        expect_errno(errno.ENOENT, kernel.read_text, "/proc/meminfo")
        expect_errno(errno.EBADF, kernel.ioctl, 5, 0, bytearray(4))
        expect_errno(errno.EBADF, kernel.close, 1000)
        fd = kernel.open("/dev/rmem", 2)
        assert fd >= 1000 and kernel.open_fds() == 1
        kernel.close(fd)
        assert kernel.open_fds() == 0
    finally:
        kernel.shutdown()
