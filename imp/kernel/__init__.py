"""Kernel seam selection: the real drivers on a T31, ``kernel_stubs`` elsewhere.

``IMP_PLATFORM=t31|sim`` chooses; unset, ``/dev/tx-isp`` decides. The kernel is process-wide (it
*is* the machine): created on first use (``IMP_ISP_Open`` or ``IMP_System_Init``) and dropped by
:func:`release_kernel` once nothing holds a device open, so the next pipeline in the same process
reads the environment again.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from imp.errors import InvalidArgument
from imp.kernel.seam import Kernel

__all__ = ["Kernel", "current_kernel", "platform", "release_kernel", "set_kernel", "sim_overrides"]

_lock = threading.Lock()
_kernel: Kernel | None = None
_overrides: dict[str, Any] = {}


def platform(environ: os._Environ[str] | dict[str, str] | None = None) -> str:
    """``"t31"`` or ``"sim"`` from ``IMP_PLATFORM``, else by the presence of ``/dev/tx-isp``."""
    env = os.environ if environ is None else environ
    value = env.get("IMP_PLATFORM", "").strip().lower()
    if value in ("t31", "sim"):
        return value
    if value:
        raise InvalidArgument(f"IMP_PLATFORM={value!r}: use 't31' or 'sim'")
    return "t31" if os.path.exists("/dev/tx-isp") else "sim"


def sim_overrides(**settings: Any) -> None:
    """Configure the simulator from Python (before the pipeline starts); beats the environment.

    Keys are the fields of ``kernel_stubs.SimConfig`` (clock, sensor, sensor_size, fps, ...;
    for audio ``mic``, ``speaker``, ``echo`` in the forms of IMP_SIM_MIC / IMP_SIM_SPEAKER /
    IMP_SIM_ECHO). ``sim_overrides()`` with no arguments clears them.
    """
    with _lock:
        if not settings:
            _overrides.clear()
        _overrides.update(settings)


def _make_kernel() -> Kernel:
    if platform() == "t31":
        from imp.kernel.linux import LinuxKernel

        return LinuxKernel()
    import dataclasses

    from kernel_stubs import SimConfig, SimKernel

    try:
        config = SimConfig.from_env()
    except ValueError as exc:  # a malformed IMP_SIM_* variable: the message names it
        raise InvalidArgument(str(exc)) from exc
    if _overrides:
        try:
            config = dataclasses.replace(config, **_overrides)
        except TypeError as exc:
            raise InvalidArgument(f"unknown simulator setting: {exc}") from exc
        except ValueError as exc:  # a malformed value (the message names the setting)
            raise InvalidArgument(str(exc)) from exc
    return SimKernel(config)


def current_kernel() -> Kernel:
    """The process' kernel, created on first use."""
    global _kernel
    with _lock:
        if _kernel is None:
            _kernel = _make_kernel()
        return _kernel


def set_kernel(kernel: Kernel | None) -> None:
    """Install a specific kernel (tests, tools); ``None`` drops the current one."""
    global _kernel
    with _lock:
        old, _kernel = _kernel, kernel
    if old is not None and old is not kernel:
        _shutdown(old)


def release_kernel() -> None:
    """Drop the kernel if no device is open any more (end of a pipeline)."""
    global _kernel
    with _lock:
        k = _kernel
        if k is None:
            return
        open_fds = getattr(k, "open_fds", None)
        if open_fds is not None and open_fds() > 0:
            return
        _kernel = None
    _shutdown(k)


def _shutdown(kernel: Kernel) -> None:
    stop = getattr(kernel, "shutdown", None)
    if stop is not None:
        stop()
