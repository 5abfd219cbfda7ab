"""What the simulated room sounds like: ``IMP_SIM_MIC``, ``IMP_SIM_SPEAKER``, ``IMP_SIM_ECHO``.

Read when a stream is enabled (so a test may change the environment between runs); a value given
through ``imp.kernel.sim_overrides(mic=..., speaker=..., echo=...)`` wins over the environment.
A malformed value raises ``ValueError`` naming the variable and the accepted forms.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "DEFAULT_ECHO",
    "AcousticsConfig",
    "EchoSpec",
    "MicSpec",
    "parse_echo",
    "parse_mic",
    "parse_speaker",
]

# A camera's speaker sits a few centimetres from its microphone inside one plastic shell: the
# direct path is short, and what comes back is loud. 10 ms covers the air path plus the first
# reflections of the housing; -10 dB is a typical speaker-to-mic coupling of such devices.
DEFAULT_ECHO = "10:-10"

_MIC_FORMS = "silence | room | tone:HZ[:DBFS] | noise:DBFS | file:PATH"


@dataclass(frozen=True)
class MicSpec:
    """One microphone source. ``kind``: silence, room, tone, noise or file."""

    kind: str
    hz: float = 0.0
    dbfs: float = 0.0
    path: str = ""


@dataclass(frozen=True)
class EchoSpec:
    """The speaker-to-microphone path: ``delay_ms`` later, ``db`` louder (negative: quieter)."""

    delay_ms: float
    db: float

    @property
    def enabled(self) -> bool:
        return self.delay_ms >= 0


ECHO_OFF = EchoSpec(-1.0, 0.0)


def _number(var: str, text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{var}: {what} {text!r} is not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"{var}: {what} {text!r} is not a finite number")
    return value


def parse_mic(text: str, var: str = "IMP_SIM_MIC") -> MicSpec:
    """``silence`` | ``room`` (default) | ``tone:HZ[:DBFS]`` | ``noise:DBFS`` | ``file:PATH``."""
    value = text.strip()
    kind, _, rest = value.partition(":")
    kind = kind.lower()
    if kind in ("", "room", "default"):
        if rest:
            raise ValueError(f"{var}={text!r}: 'room' takes no parameters")
        return MicSpec("room")
    if kind == "silence":
        if rest:
            raise ValueError(f"{var}={text!r}: 'silence' takes no parameters")
        return MicSpec("silence")
    if kind == "tone":
        parts = rest.split(":") if rest else []
        if not 1 <= len(parts) <= 2:
            raise ValueError(f"{var}={text!r}: expected tone:HZ[:DBFS], e.g. tone:1000:-40")
        hz = _number(var, parts[0], "frequency")
        dbfs = _number(var, parts[1], "level") if len(parts) == 2 else -20.0
        if hz <= 0:
            raise ValueError(f"{var}={text!r}: the frequency must be positive")
        if dbfs > 0:
            raise ValueError(f"{var}={text!r}: the level is dB below full scale, so <= 0")
        return MicSpec("tone", hz=hz, dbfs=dbfs)
    if kind == "noise":
        if not rest:
            raise ValueError(f"{var}={text!r}: expected noise:DBFS, e.g. noise:-30")
        dbfs = _number(var, rest, "level")
        if dbfs > 0:
            raise ValueError(f"{var}={text!r}: the level is dB below full scale, so <= 0")
        return MicSpec("noise", dbfs=dbfs)
    if kind == "file":
        if not rest:
            raise ValueError(f"{var}={text!r}: expected file:PATH")
        if not os.path.isfile(rest):
            raise ValueError(f"{var}={text!r}: {rest} is not a readable file")
        return MicSpec("file", path=rest)
    raise ValueError(f"{var}={text!r}: expected one of {_MIC_FORMS}")


def parse_speaker(text: str, var: str = "IMP_SIM_SPEAKER") -> str | None:
    """``null`` (or empty): played sound is discarded; else the path of the WAV file to write."""
    value = text.strip()
    if value.lower() in ("", "null", "none", "off"):
        return None
    parent = os.path.dirname(os.path.abspath(value))
    if not os.path.isdir(parent):
        raise ValueError(f"{var}={text!r}: directory {parent} does not exist")
    if os.path.isdir(value):
        raise ValueError(f"{var}={text!r}: is a directory; give a .wav file path")
    return value


def parse_echo(text: str, var: str = "IMP_SIM_ECHO") -> EchoSpec:
    """``off`` | ``DELAY_MS:DB`` (e.g. ``10:-10``: 10 ms later, 10 dB quieter)."""
    value = text.strip().lower()
    if value in ("off", "none", "0"):
        return ECHO_OFF
    m = re.fullmatch(r"([^:]+):([^:]+)", value)
    if not m:
        raise ValueError(f"{var}={text!r}: expected off or DELAY_MS:DB, e.g. {DEFAULT_ECHO}")
    delay = _number(var, m.group(1), "delay")
    db = _number(var, m.group(2), "attenuation")
    if not 0 <= delay <= 1000:
        raise ValueError(f"{var}={text!r}: the delay must be 0..1000 ms")
    if db > 20:
        raise ValueError(f"{var}={text!r}: an echo {db} dB louder than the speaker is not physical")
    return EchoSpec(delay, db)


@dataclass(frozen=True)
class AcousticsConfig:
    """The parsed settings in effect for one stream."""

    mic: MicSpec
    speaker: str | None
    echo: EchoSpec

    @classmethod
    def resolve(
        cls,
        mic: str | None = None,
        speaker: str | None = None,
        echo: str | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> AcousticsConfig:
        """Overrides (when not None) beat ``IMP_SIM_MIC/SPEAKER/ECHO`` from ``environ``."""
        env = os.environ if environ is None else environ
        if mic is not None:
            mic_spec = parse_mic(mic, "mic (sim_overrides)")
        else:
            mic_spec = parse_mic(env.get("IMP_SIM_MIC", ""))
        if speaker is not None:
            spk = parse_speaker(speaker, "speaker (sim_overrides)")
        else:
            spk = parse_speaker(env.get("IMP_SIM_SPEAKER", ""))
        if echo is not None:
            echo_spec = parse_echo(echo, "echo (sim_overrides)")
        else:
            echo_spec = parse_echo(env.get("IMP_SIM_ECHO", "") or DEFAULT_ECHO)
        return cls(mic_spec, spk, echo_spec)
