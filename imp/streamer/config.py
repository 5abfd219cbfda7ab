"""The streamer's settings: a TOML file with prudynt's sections, checked key by key.

Every section and key is declared once in :data:`SCHEMA` (type, default, allowed range); the
same table checks the file, the ``--set section.key=value`` overrides and the partial JSON of
``PATCH /api/settings``. Unknown keys and bad values are refused with a message naming
``section.key`` and what is allowed.
"""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["SCHEMA", "ConfigError", "Key", "Settings", "load", "parse_override"]


class ConfigError(ValueError):
    """A setting the streamer cannot run with; the message names the key."""


@dataclass(frozen=True)
class Key:
    """One setting: its Python type, default, a check (None: any value of the type) and
    whether a running streamer can apply a change without restarting the pipeline."""

    type: type
    default: Any
    check: Callable[[Any], str | None] | None = None
    live: bool = False


def _range(lo: float, hi: float) -> Callable[[Any], str | None]:
    return lambda v: None if lo <= v <= hi else f"must be {lo}..{hi}"


def _choice(*names: str) -> Callable[[Any], str | None]:
    return lambda v: None if v in names else f"must be one of {', '.join(names)}"


def _even_size(lo: int, hi: int) -> Callable[[Any], str | None]:
    return lambda v: None if lo <= v <= hi and v % 2 == 0 else f"must be even, {lo}..{hi}"


def _port(v: int) -> str | None:
    return None if 0 <= v <= 65535 else "must be 0..65535 (0 picks a free port)"


def _rects(v: list[Any]) -> str | None:
    for r in v:
        if not (isinstance(r, list) and len(r) == 4 and all(isinstance(n, int) for n in r)):
            return "must be a list of [x, y, width, height] lists of integers"
        if r[2] <= 0 or r[3] <= 0 or r[0] < 0 or r[1] < 0:
            return "rectangles need x, y >= 0 and a positive width and height"
    return None


def _stream(width: int, height: int, bitrate: int) -> dict[str, Key]:
    return {
        "enabled": Key(bool, True),
        "codec": Key(str, "h264", _choice("h264", "h265")),
        "width": Key(int, width, _even_size(64, 4096)),
        "height": Key(int, height, _even_size(64, 4096)),
        "fps": Key(int, 25, _range(1, 60), live=True),
        "bitrate": Key(int, bitrate, _range(16, 50000), live=True),
        "gop": Key(int, 50, _range(1, 1000), live=True),
    }


_IMAGE_LEVEL = _range(0, 255)

SCHEMA: dict[str, dict[str, Key]] = {
    "stream0": _stream(1920, 1080, 2000),
    "stream1": _stream(640, 360, 600),
    "jpeg": {
        "enabled": Key(bool, True),
        "channel": Key(int, 0, _range(0, 1)),
        "fps": Key(int, 2, _range(1, 25), live=True),
        "quality": Key(int, 75, _range(1, 100)),
    },
    "osd": {
        "enabled": Key(bool, True),
        "clock": Key(bool, True),
        "time_format": Key(str, "%Y-%m-%d %H:%M:%S"),
        "uptime": Key(bool, False),
        "text": Key(str, "", live=True),
        "logo": Key(str, ""),
        "covers": Key(list, [], _rects),
    },
    "motion": {
        "enabled": Key(bool, False),
        "stream": Key(int, 1, _range(0, 1)),
        "record_stream": Key(int, 0, _range(0, 1)),
        "sensitivity": Key(int, 3, _range(0, 4), live=True),
        "skip_frames": Key(int, 2, _range(0, 25)),
        "rois": Key(list, [], _rects, live=True),
        "pre_roll": Key(float, 3.0, _range(0, 30)),
        "post_roll": Key(float, 5.0, _range(0, 300)),
        "cooldown": Key(float, 10.0, _range(0, 3600)),
        "max_length": Key(float, 60.0, _range(1, 3600)),
        "clips_dir": Key(str, "clips"),
        "max_clips": Key(int, 50, _range(0, 100000)),
        "max_bytes": Key(int, 0, _range(0, 1 << 40)),
        "script": Key(str, ""),
    },
    "audio": {
        "enabled": Key(bool, False),
        "codec": Key(str, "g711u", _choice("g711a", "g711u", "opus", "aac")),
    },
    "image": {
        "brightness": Key(int, 128, _IMAGE_LEVEL, live=True),
        "contrast": Key(int, 128, _IMAGE_LEVEL, live=True),
        "saturation": Key(int, 128, _IMAGE_LEVEL, live=True),
        "sharpness": Key(int, 128, _IMAGE_LEVEL, live=True),
        "hue": Key(int, 128, _IMAGE_LEVEL, live=True),
        "hflip": Key(bool, False, live=True),
        "vflip": Key(bool, False, live=True),
        "running_mode": Key(str, "day", _choice("day", "night"), live=True),
    },
    "rtsp": {
        "host": Key(str, "0.0.0.0"),
        "port": Key(int, 8554, _port),
        "username": Key(str, ""),
        "password": Key(str, ""),
        "max_clients": Key(int, 16, _range(1, 1000)),
    },
    "http": {
        "host": Key(str, "0.0.0.0"),
        "port": Key(int, 8080, _port),
        "username": Key(str, ""),
        "password": Key(str, ""),
        "max_clients": Key(int, 32, _range(1, 1000)),
    },
    "sim": {
        "scene": Key(str, "default", _choice("default", "static", "intruder")),
        "sensor": Key(str, ""),
        "sensor_width": Key(int, 1920, _even_size(64, 4096)),
        "sensor_height": Key(int, 1080, _even_size(64, 4096)),
        "clock": Key(str, "realtime", _choice("realtime", "virtual")),
        "fault_at": Key(float, 0.0, _range(0, 86400)),
        "fault_seconds": Key(float, 3.0, _range(0.1, 3600)),
        "mic": Key(str, "tone:440:-20"),
        "speaker": Key(str, ""),
    },
    "camera": {
        "sensor": Key(str, "gc2053"),
        "restart_after": Key(float, 5.0, _range(1, 300)),
        "buffers": Key(int, 6, _range(2, 16)),
    },
}

Settings = dict[str, dict[str, Any]]


def defaults() -> Settings:
    return {
        sec: {k: copy.deepcopy(key.default) for k, key in keys.items()}
        for sec, keys in SCHEMA.items()
    }


def _coerce(name: str, key: Key, value: Any) -> Any:
    # TOML/JSON integers are fine where a float is wanted; bool is not an int here.
    if key.type is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, key.type) or (key.type is int and isinstance(value, bool)):
        raise ConfigError(f"{name}: expected {key.type.__name__}, got {value!r}")
    if key.check is not None and (problem := key.check(value)) is not None:
        raise ConfigError(f"{name} = {value!r}: {problem}")
    return value


def merge(
    base: Settings, changes: Mapping[str, Any], where: str = ""
) -> tuple[Settings, list[str]]:
    """``base`` with ``changes`` (same shape, any subset) applied; also the changed key names.

    Raises :class:`ConfigError` naming the first unknown or bad key; ``base`` is untouched.
    """
    out = copy.deepcopy(base)
    changed: list[str] = []
    if not isinstance(changes, Mapping):
        raise ConfigError(f"{where or 'settings'}: expected a table of sections")
    for sec, values in changes.items():
        if sec not in SCHEMA:
            raise ConfigError(f"unknown section [{sec}]{where}; known: {', '.join(SCHEMA)}")
        if not isinstance(values, Mapping):
            raise ConfigError(f"[{sec}]{where}: expected a table of keys")
        for k, v in values.items():
            name = f"{sec}.{k}"
            key = SCHEMA[sec].get(k)
            if key is None:
                raise ConfigError(
                    f"unknown key {name}{where}; [{sec}] has: {', '.join(SCHEMA[sec])}"
                )
            v = _coerce(name, key, v)
            if out[sec][k] != v:
                out[sec][k] = v
                changed.append(name)
    _check_whole(out)
    return out, changed


def _check_whole(s: Settings) -> None:
    """Rules that tie keys together."""
    if s["motion"]["enabled"] and not s[f"stream{s['motion']['stream']}"]["enabled"]:
        raise ConfigError(f"motion.stream = {s['motion']['stream']}: that stream is disabled")
    if s["motion"]["enabled"] and not s[f"stream{s['motion']['record_stream']}"]["enabled"]:
        raise ConfigError(
            f"motion.record_stream = {s['motion']['record_stream']}: that stream is disabled"
        )
    if s["jpeg"]["enabled"] and not s[f"stream{s['jpeg']['channel']}"]["enabled"]:
        raise ConfigError(f"jpeg.channel = {s['jpeg']['channel']}: that stream is disabled")
    for sec in ("rtsp", "http"):
        if bool(s[sec]["username"]) != bool(s[sec]["password"]):
            raise ConfigError(f"{sec}.username/{sec}.password: set both or neither")


def load(path: str | Path | None) -> Settings:
    """Defaults, then the TOML file at ``path`` (None: defaults only)."""
    if path is None:
        return merge(defaults(), {})[0]
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except OSError as exc:
        raise ConfigError(f"cannot read the config file {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    return merge(defaults(), data, f" in {path}")[0]


def parse_override(text: str) -> dict[str, dict[str, Any]]:
    """``section.key=value`` (value in TOML syntax; bare words are strings) as a partial table."""
    name, sep, raw = text.partition("=")
    sec, dot, k = name.strip().partition(".")
    if not sep or not dot or not sec or not k:
        raise ConfigError(f"--set {text!r}: expected section.key=value, e.g. stream0.bitrate=1500")
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    return {sec: {k: value}}


def live_keys() -> set[str]:
    return {f"{sec}.{k}" for sec, keys in SCHEMA.items() for k, key in keys.items() if key.live}
