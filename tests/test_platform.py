"""Platform selection and simulator configuration from the environment."""

from __future__ import annotations

import pytest

from imp.capi import *
from imp.errors import InvalidArgument
from imp.kernel import current_kernel, platform
from kernel_stubs import SimConfig, SimKernel


def test_platform_selection() -> None:
    assert platform({"IMP_PLATFORM": "sim"}) == "sim"
    assert platform({"IMP_PLATFORM": "T31"}) == "t31"
    assert platform({}) in ("sim", "t31")
    with pytest.raises(InvalidArgument, match="IMP_PLATFORM"):
        platform({"IMP_PLATFORM": "pc"})


def test_sim_config_from_env() -> None:
    c = SimConfig.from_env(
        {
            "IMP_SIM_CLOCK": "virtual",
            "IMP_SIM_SENSOR": "synthetic",
            "IMP_SIM_SENSOR_SIZE": "1280x720",
            "IMP_SIM_FPS": "15",
        }
    )
    assert (c.clock, c.sensor, c.sensor_size, c.fps) == ("virtual", "synthetic", (1280, 720), 15)
    with pytest.raises(ValueError, match="IMP_SIM_CLOCK"):
        SimConfig.from_env({"IMP_SIM_CLOCK": "fast"})
    with pytest.raises(ValueError, match="IMP_SIM_SENSOR_SIZE"):
        SimConfig.from_env({"IMP_SIM_SENSOR_SIZE": "big"})


def test_environment_is_read_when_the_pipeline_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMP_SIM_SENSOR_SIZE", "1280x720")
    monkeypatch.setenv("IMP_SIM_FPS", "15")
    monkeypatch.setenv("IMP_SIM_CLOCK", "virtual")
    info = IMPSensorInfo()
    info.name = info.i2c.type = b"gc2053"
    info.cbus_type, info.i2c.addr = TX_SENSOR_CONTROL_INTERFACE_I2C, 0x37
    assert IMP_ISP_Open() == 0
    kernel = current_kernel()
    assert isinstance(kernel, SimKernel)
    assert kernel.config.clock == "virtual"
    assert IMP_ISP_AddSensor(info) == 0
    assert kernel.read_text("/proc/jz/sensor/width").strip() == "1280"
    assert IMP_ISP_EnableSensor() == 0
    assert IMP_System_Init() == 0
    assert IMP_ISP_EnableTuning() == 0
    num, den = ctypes_pair()
    assert IMP_ISP_Tuning_GetSensorFPS(num, den) == 0
    assert (num.value, den.value) == (15, 1)
    assert IMP_System_Exit() == 0
    assert IMP_ISP_DisableSensor() == 0
    assert IMP_ISP_DelSensor(info) == 0
    assert IMP_ISP_DisableTuning() == 0
    assert IMP_ISP_Close() == 0


def ctypes_pair():  # type: ignore[no-untyped-def]
    import ctypes

    return ctypes.c_uint32(), ctypes.c_uint32()
