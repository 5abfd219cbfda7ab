"""SimConfig and the fake arena."""

from __future__ import annotations

import ctypes

import pytest

from kernel_stubs import SimConfig
from kernel_stubs.arena import Arena


def test_defaults() -> None:
    c = SimConfig()
    assert (c.clock, c.sensor, c.sensor_size, c.fps) == ("realtime", "synthetic", None, 25)
    assert (c.rmem_base, c.rmem_size, c.memopt, c.day_night_drop) == (0x6300000, 29 << 20, 0, 0)


def test_from_env_reads_every_variable() -> None:
    c = SimConfig.from_env(
        {
            "IMP_SIM_CLOCK": "virtual",
            "IMP_SIM_SENSOR": "synthetic:static",
            "IMP_SIM_SENSOR_SIZE": "1280x720",
            "IMP_SIM_FPS": "15",
            "IMP_SIM_RMEM_SIZE": "16M",
        }
    )
    assert (c.clock, c.sensor, c.sensor_size, c.fps) == (
        "virtual",
        "synthetic:static",
        (1280, 720),
        15,
    )
    assert c.rmem_size == 16 << 20
    assert SimConfig.from_env({"IMP_SIM_RMEM_SIZE": "8192K"}).rmem_size == 8 << 20
    assert SimConfig.from_env({"IMP_SIM_RMEM_SIZE": "1048576"}).rmem_size == 1 << 20
    assert SimConfig.from_env({}) == SimConfig()


@pytest.mark.parametrize(
    ("var", "value"),
    [
        ("IMP_SIM_CLOCK", "fast"),
        ("IMP_SIM_SENSOR_SIZE", "1280*720"),
        ("IMP_SIM_SENSOR_SIZE", "1281x720"),
        ("IMP_SIM_FPS", "0"),
        ("IMP_SIM_FPS", "twenty"),
        ("IMP_SIM_RMEM_SIZE", "29G"),
        ("IMP_SIM_RMEM_SIZE", "1000"),
    ],
)
def test_bad_values_name_the_variable(var: str, value: str) -> None:
    with pytest.raises(ValueError, match=var):
        SimConfig.from_env({var: value})


def test_arena_views_are_bounds_checked_and_addressable() -> None:
    arena = Arena(0x6300000, 1 << 20)
    v = arena.view(0x6300000 + 16, 4)
    v[:] = b"abcd"
    assert ctypes.string_at(arena.virt(0x6300010), 4) == b"abcd"
    assert arena.phys_of(arena.address + 16) == 0x6300010
    assert arena.phys_of(arena.address - 1) is None
    plane = arena.array(0x6300000, 2, 8)  # row stride 8: row 1 starts at byte 8
    arena.view(0x6300008, 1)[0] = 0x5A
    assert plane[1, 0] == 0x5A and plane.base is not None  # a view, not a copy
    for phys, length in ((0x62FF000, 16), (0x6300000 + (1 << 20) - 2, 4), (0x6300000, 0)):
        with pytest.raises(ValueError):
            arena.view(phys, length)
