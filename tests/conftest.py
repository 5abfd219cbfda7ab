"""Shared fixtures: every test runs on the simulator and leaves no pipeline, kernel or thread."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

os.environ["IMP_PLATFORM"] = "sim"


def _imp_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(("imp-", "sim-", "kstub"))]


@pytest.fixture(autouse=True)
def clean_machine() -> Iterator[None]:
    """Tear down whatever a test left running, then check nothing leaked."""
    from imp.kernel import set_kernel, sim_overrides

    sim_overrides()
    yield
    from imp.framesource import get_framesource
    from imp.isp import get_isp
    from imp.system import get_system

    system, isp = get_system(), get_isp()
    leaked = []
    if system.initialized:
        leaked.append("System was still initialised")
        system.exit()
    if get_framesource().channels:
        leaked.append("FrameSource channels left")
        get_framesource().shutdown()
    if isp.txisp is not None:
        leaked.append("ISP was still open")
        isp.close()
    sim_overrides()
    set_kernel(None)
    for t in _imp_threads():
        t.join(timeout=2)
    assert not _imp_threads(), f"threads left running: {_imp_threads()}"
    del leaked  # tests that deliberately leave state are fine; the point is the clean-up


@contextmanager
def running_system(
    clock: str = "virtual", sensor_size: tuple[int, int] | None = None, **sim: object
) -> Iterator[None]:
    """ISP open, gc2053 added and enabled, System initialised, tuning on (sample_system_init)."""
    from imp.isp import SensorInfo, get_isp
    from imp.kernel import sim_overrides
    from imp.system import get_system

    sim_overrides(clock=clock, **({"sensor_size": sensor_size} if sensor_size else {}), **sim)
    isp = get_isp()
    isp.open()
    isp.add_sensor(SensorInfo("gc2053"))
    isp.enable_sensor()
    get_system().init()
    isp.enable_tuning()
    try:
        yield
    finally:
        if get_system().initialized:
            get_system().exit()
        if isp.txisp is not None:
            isp.close()
