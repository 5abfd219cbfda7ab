"""Sensor models of the fake T31 kernel: what the simulated ISP's frame channels show.

``make_sensor("synthetic" | "synthetic:static" | "synthetic:NAME" | "file:PATH", size)`` builds
one; ``register_scene(NAME, scene)`` makes a scripted :class:`Scene` reachable by such a spec (the
simulator is configured by strings, so this is how a test hands it a scene). Every model stamps
the sensor frame number into each output picture (``read_frame_mark`` reads it back).
"""

from __future__ import annotations

from collections.abc import Callable

from .base import ChannelGeometry, IspControls, SensorBase, SensorModel
from .file import FileSensor
from .mark import mark_band_height, read_frame_mark, stamp_frame_mark
from .scene import Flicker, Keyframes, MovingObject, Orbit, Scene
from .synthetic import SyntheticSensor

__all__ = [
    "ChannelGeometry",
    "FileSensor",
    "Flicker",
    "IspControls",
    "Keyframes",
    "MovingObject",
    "Orbit",
    "Scene",
    "SensorBase",
    "SensorModel",
    "SyntheticSensor",
    "make_sensor",
    "mark_band_height",
    "read_frame_mark",
    "register_scene",
    "stamp_frame_mark",
    "unregister_scene",
]

SceneFactory = Callable[[int, int], Scene]
_SCENES: dict[str, SceneFactory] = {
    "default": Scene.default,
    "static": lambda w, h: Scene.static(),
    # Lit scenes: the physics model and 3A run (kernel_stubs.isp3a).
    "dusk": Scene.dusk,
    "light-switch": Scene.light_switch,
    "backlight": Scene.backlit,
}
_BUILTIN_SCENES = frozenset(_SCENES)


def register_scene(name: str, scene: Scene | SceneFactory) -> None:
    """Make ``scene`` the picture of sensor spec ``synthetic:NAME``.

    ``scene`` is a :class:`Scene` (rects in sensor pixels) or a factory ``(width, height) ->
    Scene`` called with the sensor size. Registering a name again replaces the scene; the
    built-in names cannot be replaced.
    """
    if not name or ":" in name or name in _BUILTIN_SCENES:
        raise ValueError(
            f"scene name {name!r}: must be non-empty, without ':' and not one of "
            f"{', '.join(sorted(_BUILTIN_SCENES))}"
        )
    if isinstance(scene, Scene):
        fixed = scene
        _SCENES[name] = lambda w, h: fixed
    elif callable(scene):
        _SCENES[name] = scene
    else:
        raise TypeError(f"scene {name!r}: expected a Scene or a (width, height) -> Scene factory")


def unregister_scene(name: str) -> None:
    """Forget a scene added with :func:`register_scene` (unknown names are ignored)."""
    if name not in _BUILTIN_SCENES:
        _SCENES.pop(name, None)


def make_sensor(spec: str, size: tuple[int, int] | None = None) -> SensorModel:
    """A sensor model from a spec string; ``size`` is (width, height), None for the default.

    - ``synthetic`` or ``synthetic:default``: the moving demo scene (1920x1080 by default).
    - ``synthetic:static``: nothing moves; noise and flicker only.
    - ``synthetic:dusk`` / ``synthetic:light-switch`` / ``synthetic:backlight``: lit scenes that
      run the sensor physics and 3A (any scene does with ``IMP_SIM_LUX``/``IMP_SIM_CCT``).
    - ``synthetic:NAME``: a scene added with :func:`register_scene`.
    - ``file:PATH``: the video at PATH, looped (default size: the file's).
    - ``v4l2:/dev/videoN[?options]``: a V4L2 capture device (see :mod:`.v4l2`).
    """
    kind, sep, arg = spec.partition(":")
    if kind == "synthetic":
        scene_name = arg if sep else "default"
        if scene_name not in _SCENES:
            raise ValueError(
                f"sensor spec {spec!r}: unknown scene {scene_name!r}; "
                f"choose one of {', '.join(sorted(_SCENES))}"
            )
        width, height = size if size is not None else (1920, 1080)
        return SyntheticSensor(width, height, _SCENES[scene_name](width, height))
    if kind == "file":
        if not arg:
            raise ValueError("sensor spec 'file:' needs a path, e.g. 'file:/tmp/clip.mp4'")
        width_opt, height_opt = size if size is not None else (None, None)
        return FileSensor(arg, width_opt, height_opt)
    if kind == "v4l2":
        from .v4l2 import V4L2Sensor, parse_v4l2_spec  # only V4L2 users need its imports

        path, options = parse_v4l2_spec(arg)
        width, height = size if size is not None else (1920, 1080)
        return V4L2Sensor(path, width, height, options)
    raise ValueError(
        f"unknown sensor spec {spec!r}; use 'synthetic', 'synthetic:static', 'file:PATH' "
        "or 'v4l2:/dev/videoN'"
    )
