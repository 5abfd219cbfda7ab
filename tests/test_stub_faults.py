"""Fault injection on the fake kernel, and clean shutdown."""

from __future__ import annotations

import errno
import threading
import time

import pytest
from test_stub_support import RMEM, TXISP, board, chan, expect_errno, in_thread

from imp.kernel import abi
from kernel_stubs import FaultPlan, SimConfig, SimKernel


def test_inject_open_after_and_times() -> None:
    with board() as b:
        b.k.faults.inject(TXISP, "open", errno.EBUSY, after=1, times=2)
        first = b.k.open(TXISP, 0)
        expect_errno(errno.EBUSY, b.k.open, TXISP, 0)
        expect_errno(errno.EBUSY, b.k.open, TXISP, 0)
        second = b.k.open(TXISP, 0)  # spent
        assert b.k.isp.txisp_opens == 2  # failed opens never reached the driver
        b.k.close(first)
        b.k.close(second)
        assert [e.kind for e in b.k.faults.events] == ["errno", "errno"]


def test_inject_persistent_ioctl_for_one_command() -> None:
    with board() as b:
        b.bring_up()
        b.setup_chan(0, 640, 360, count=2, scaler=(640, 360))
        b.k.faults.inject("/dev/framechan*", "ioctl", errno.EIO, cmd=abi.VIDIOC_DQBUF, times=None)
        for _ in range(3):
            expect_errno(errno.EIO, b.dqbuf, 0)
        b.k.ioctl(b.chans[0], abi.VIDIOC_DEFAULT_CMD_SET_BANKS, abi.int_arg(2))  # others pass
        b.k.faults.clear()
        b.dqbuf(0)


def test_inject_mmap() -> None:
    with board() as b:
        fd = b.k.open(RMEM, 2)
        b.k.faults.inject(RMEM, "mmap", errno.ENOMEM)
        expect_errno(errno.ENOMEM, b.k.mmap, fd, 4096, b.k.arena.base)
        view = b.k.mmap(fd, 4096, b.k.arena.base)
        b.k.unmap(view)


def test_bad_rules_are_refused() -> None:
    plan = FaultPlan()
    with pytest.raises(ValueError):
        plan.inject("/dev/rmem", "read", errno.EIO)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        plan.inject("/dev/rmem", "open", errno.EIO, cmd=1)
    with pytest.raises(ValueError):
        plan.inject("/dev/rmem", "open", errno.EIO, times=0)


def test_stall_blocks_the_call_only() -> None:
    with board() as b:
        fd = b.open_isp()
        b.k.faults.stall(TXISP, abi.VIDIOC_G_INPUT, 0.3)
        t, out = in_thread(lambda: b.k.ioctl(fd, abi.VIDIOC_G_INPUT, abi.int_arg(0)))
        time.sleep(0.05)
        start = time.monotonic()
        b.k.ioctl(fd, abi.VIDIOC_S_INPUT, abi.int_arg(-1))  # another call is not held up
        assert time.monotonic() - start < 0.1
        t.join(5)
        assert out == {"result": 0}
        start = time.monotonic()
        b.k.ioctl(fd, abi.VIDIOC_G_INPUT, abi.int_arg(0))  # times=1: spent
        assert time.monotonic() - start < 0.1


def test_stall_is_cut_short_by_shutdown() -> None:
    with board() as b:
        fd = b.open_isp()
        b.k.faults.stall(TXISP, None, 60)
        t, _ = in_thread(lambda: b.k.ioctl(fd, abi.VIDIOC_G_INPUT, abi.int_arg(0)))
        time.sleep(0.05)
        b.k.shutdown()
        t.join(5)
        assert not t.is_alive()


def test_unplug_fails_everything_and_wakes_waiters() -> None:
    with board() as b:
        b.bring_up()
        b.setup_chan(0, 640, 360, count=1, scaler=(640, 360))
        b.dqbuf(0)  # the only buffer: next DQBUF waits
        dq, dq_out = in_thread(lambda: b.dqbuf(0))
        listen_arg = abi.int_arg(0)
        b.fc(0, abi.VIDIOC_DEFAULT_CMD_LISTEN_BUF, listen_arg)  # eat the one completion
        ls, ls_out = in_thread(lambda: b.fc(0, abi.VIDIOC_DEFAULT_CMD_LISTEN_BUF, abi.int_arg(0)))
        time.sleep(0.1)
        assert dq.is_alive() and ls.is_alive()
        b.k.faults.unplug(chan(0))
        dq.join(5)
        ls.join(5)
        assert dq_out["error"].errno == errno.ENODEV
        assert ls_out["error"].errno == errno.ENODEV
        assert not b.k.exists(chan(0))
        expect_errno(errno.ENODEV, b.k.open, chan(0), 0)
        expect_errno(errno.ENODEV, b.streamoff, 0)
        b.isp(abi.VIDIOC_G_INPUT, abi.int_arg(0))  # other devices unaffected
        b.k.faults.clear()
        assert b.k.exists(chan(0))
        b.streamoff(0)


def test_shutdown_leaves_no_threads_and_is_idempotent() -> None:
    kernel = SimKernel(SimConfig(clock="realtime"))
    fd = kernel.open(TXISP, abi.TX_ISP_OPEN_FLAGS)
    info = abi.SensorRegisterInfo(name=b"gc2053", cbus_type=1).pack()
    kernel.ioctl(fd, abi.VIDIOC_REGISTER_SENSOR, info)
    kernel.ioctl(fd, abi.VIDIOC_S_INPUT, abi.int_arg(0))
    kernel.ioctl(fd, abi.VIDIOC_STREAMON, abi.int_arg(0))
    assert kernel.isp.engine.running
    kernel.shutdown()
    kernel.shutdown()
    assert not kernel.isp.engine.running
    assert not [t for t in threading.enumerate() if t.name == "sim-isp-engine" and t.is_alive()]
    with SimKernel(SimConfig(clock="virtual")) as k2:
        assert k2.open_fds() == 0
    assert not k2.isp.engine.running
