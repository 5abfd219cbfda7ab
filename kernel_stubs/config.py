"""How the simulated T31 is set up: clock mode, sensor model, frame rate, reserved memory."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

__all__ = ["ClockMode", "SimConfig"]

ClockMode = Literal["realtime", "virtual"]

MIB = 1 << 20


@dataclass(frozen=True)
class SimConfig:
    """Settings of one :class:`~kernel_stubs.SimKernel`.

    ``clock``: ``"realtime"`` paces frames at the sensor rate; ``"virtual"`` delivers them as
    fast as they are consumed, with timestamps exactly one period apart.
    ``sensor``: the model spec for :func:`kernel_stubs.sensor.make_sensor` (``synthetic``,
    ``synthetic:static``, ``file:PATH``). ``sensor_size``: (width, height) forced on every
    registered sensor; None gives each sensor name its native size (1920x1080 if unknown).
    ``rmem_base`` / ``rmem_size``: the reserved arena as ``/proc/cmdline`` advertises it.
    ``memopt``: the tx-isp ``isp_memopt`` module parameter (changes GET_BUF_INFO's size).
    ``day_night_drop``: ``isp_day_night_switch_drop_frame_num``, frames swallowed after a
    day/night switch.
    """

    clock: ClockMode = "realtime"
    sensor: str = "synthetic"
    sensor_size: tuple[int, int] | None = None
    fps: int = 25
    rmem_base: int = 0x6300000
    rmem_size: int = 29 * MIB
    memopt: int = 0
    day_night_drop: int = 0
    # Audio (kernel_stubs.acoustics): None = read IMP_SIM_MIC / IMP_SIM_SPEAKER / IMP_SIM_ECHO
    # when a /dev/dsp stream is enabled; a string here (sim_overrides) wins over the environment.
    mic: str | None = None
    speaker: str | None = None
    echo: str | None = None

    def __post_init__(self) -> None:
        _check_audio(self.mic, self.speaker, self.echo)
        if self.clock not in ("realtime", "virtual"):
            raise ValueError(f"clock {self.clock!r}: use 'realtime' or 'virtual'")
        if not 1 <= self.fps <= 0xFFFF:
            raise ValueError(f"fps {self.fps}: must be 1..65535")
        if self.sensor_size is not None:
            w, h = self.sensor_size
            if w <= 0 or h <= 0 or w % 2 or h % 2:
                raise ValueError(f"sensor_size {w}x{h}: width and height must be positive, even")
        if self.rmem_size <= 0 or self.rmem_size % 4096:
            raise ValueError(f"rmem_size {self.rmem_size}: must be a positive multiple of 4096")
        if self.rmem_base < 0 or self.rmem_base % 4096 or self.rmem_base + self.rmem_size > 1 << 32:
            raise ValueError(
                f"rmem_base {self.rmem_base:#x}: must be page aligned, arena below 4 GiB"
            )
        if self.day_night_drop < 0:
            raise ValueError(f"day_night_drop {self.day_night_drop}: must be >= 0")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SimConfig:
        """Defaults overridden by ``IMP_SIM_CLOCK``, ``IMP_SIM_SENSOR``,
        ``IMP_SIM_SENSOR_SIZE`` (``WxH``), ``IMP_SIM_FPS`` and ``IMP_SIM_RMEM_SIZE`` (bytes,
        or with a K/M suffix). A malformed value raises ValueError naming the variable."""
        env = os.environ if environ is None else environ
        kwargs: dict[str, object] = {}
        if clock := env.get("IMP_SIM_CLOCK", "").strip().lower():
            if clock not in ("realtime", "virtual"):
                raise ValueError(f"IMP_SIM_CLOCK={clock!r}: use 'realtime' or 'virtual'")
            kwargs["clock"] = clock
        if sensor := env.get("IMP_SIM_SENSOR", "").strip():
            kwargs["sensor"] = sensor
        if size := env.get("IMP_SIM_SENSOR_SIZE", "").strip():
            kwargs["sensor_size"] = _parse_size("IMP_SIM_SENSOR_SIZE", size)
        if fps := env.get("IMP_SIM_FPS", "").strip():
            kwargs["fps"] = _parse_fps("IMP_SIM_FPS", fps)
        if rmem := env.get("IMP_SIM_RMEM_SIZE", "").strip():
            kwargs["rmem_size"] = _parse_bytes("IMP_SIM_RMEM_SIZE", rmem)
        return cls(**kwargs)  # type: ignore[arg-type]


def _check_audio(mic: str | None, speaker: str | None, echo: str | None) -> None:
    """Reject malformed audio overrides now, naming the setting (ValueError)."""
    from kernel_stubs.acoustics.config import parse_echo, parse_mic, parse_speaker

    if mic is not None:
        parse_mic(mic, "mic (sim_overrides)")
    if speaker is not None:
        parse_speaker(speaker, "speaker (sim_overrides)")
    if echo is not None:
        parse_echo(echo, "echo (sim_overrides)")


def _parse_fps(var: str, text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 0xFFFF:
        raise ValueError(f"{var}={text!r}: expected a whole frame rate 1..65535, e.g. 25")
    return int(text)


def _parse_size(var: str, text: str) -> tuple[int, int]:
    m = re.fullmatch(r"(\d+)\s*[xX]\s*(\d+)", text)
    if not m:
        raise ValueError(f"{var}={text!r}: expected WIDTHxHEIGHT, e.g. 1280x720")
    w, h = int(m.group(1)), int(m.group(2))
    if w <= 0 or h <= 0 or w % 2 or h % 2:
        raise ValueError(f"{var}={text!r}: width and height must be positive and even")
    return w, h


def _parse_bytes(var: str, text: str) -> int:
    m = re.fullmatch(r"(\d+)\s*([kKmM]?)", text)
    if not m:
        raise ValueError(f"{var}={text!r}: expected bytes, optionally with K or M (e.g. 29M)")
    size = int(m.group(1)) * {"": 1, "k": 1 << 10, "m": MIB}[m.group(2).lower()]
    if size <= 0 or size % 4096:
        raise ValueError(f"{var}={text!r}: the arena size must be a positive multiple of 4K")
    return size
