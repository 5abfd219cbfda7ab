"""What the synthetic sensor looks at: a background style, moving objects, noise and flicker.

Objects are scripted in sensor pixels as functions of the sensor frame number, so a test can
say where something is at frame N and check it there in any channel's output.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from itertools import pairwise

from kernel_stubs.isp3a.lighting import Lighting

__all__ = ["BACKGROUNDS", "Flicker", "Keyframes", "MovingObject", "Orbit", "Scene"]

Rect = tuple[float, float, float, float]  # x, y, w, h in sensor pixels
Yuv = tuple[int, int, int]
Path = Callable[[int], Rect | None]

BACKGROUNDS = ("texture", "bars", "flat")


@dataclass(frozen=True)
class Keyframes:
    """Piecewise-linear motion through (frame, rect) keys; present in [first key, last key).

    With ``loop`` the motion repeats with period last - first, for every frame number.
    """

    keys: tuple[tuple[int, Rect], ...]
    loop: bool = False

    def __post_init__(self) -> None:
        frames = [frame for frame, _ in self.keys]
        if len(frames) < 2 or any(b <= a for a, b in pairwise(frames)):
            raise ValueError("keyframes need two or more strictly increasing frame numbers")

    def __call__(self, frame_no: int) -> Rect | None:
        first, last = self.keys[0][0], self.keys[-1][0]
        if self.loop:
            frame_no = first + (frame_no - first) % (last - first)
        elif not first <= frame_no < last:
            return None
        for (f0, r0), (f1, r1) in pairwise(self.keys):
            if f0 <= frame_no < f1:
                t = (frame_no - f0) / (f1 - f0)
                x, y, w, h = (a + (b - a) * t for a, b in zip(r0, r1, strict=True))
                return (x, y, w, h)
        raise AssertionError("unreachable: frame_no lies inside the key range")


@dataclass(frozen=True)
class Orbit:
    """A ``size`` box whose centre circles ``center`` with radii ``radii`` every ``period``."""

    center: tuple[float, float]
    radii: tuple[float, float]
    size: tuple[float, float]
    period: int

    def __call__(self, frame_no: int) -> Rect:
        angle = 2 * math.pi * (frame_no % self.period) / self.period
        cx = self.center[0] + self.radii[0] * math.cos(angle)
        cy = self.center[1] + self.radii[1] * math.sin(angle)
        return (cx - self.size[0] / 2, cy - self.size[1] / 2, self.size[0], self.size[1])


@dataclass(frozen=True)
class MovingObject:
    """A solid box of YUV ``color`` whose rect at each frame comes from ``path`` (None = gone)."""

    path: Path
    color: Yuv

    def rect_at(self, frame_no: int) -> Rect | None:
        return self.path(frame_no)

    @classmethod
    def linear(
        cls, start_frame: int, end_frame: int, rect_from: Rect, rect_to: Rect, color: Yuv
    ) -> MovingObject:
        """Moves from ``rect_from`` to ``rect_to``; present only in [start_frame, end_frame)."""
        return cls(Keyframes(((start_frame, rect_from), (end_frame, rect_to))), color)

    @classmethod
    def appear(cls, start_frame: int, end_frame: int, rect: Rect, color: Yuv) -> MovingObject:
        """Stands still at ``rect``; present only in [start_frame, end_frame)."""
        return cls.linear(start_frame, end_frame, rect, rect, color)

    @classmethod
    def keyframes(
        cls, keys: Sequence[tuple[int, Rect]], color: Yuv, *, loop: bool = False
    ) -> MovingObject:
        return cls(Keyframes(tuple(keys), loop), color)


@dataclass(frozen=True)
class Flicker:
    """A global luma offset of ``amplitude`` codes swinging sinusoidally every ``period``."""

    amplitude: float
    period: float

    def offset(self, frame_no: int) -> int:
        return round(self.amplitude * math.sin(2 * math.pi * frame_no / self.period))


@dataclass(frozen=True)
class Scene:
    """Everything the synthetic sensor shows; ``seed`` varies the background's layout."""

    background: str = "texture"
    seed: int = 0
    objects: Sequence[MovingObject] = field(default=())  # stored as a tuple
    noise_sigma: float = 0.0  # luma codes of static-pattern sensor noise, cycled per frame
    flicker: Flicker | None = None
    # With lighting the sensor's physics model and the ISP's 3A run (kernel_stubs.isp3a):
    # colours are reflectances lit by ``lighting``; without it the picture is the reference
    # rendering (IMP_SIM_LUX / IMP_SIM_CCT turn the model on for any scene).
    lighting: Lighting | None = None

    def __post_init__(self) -> None:
        if self.background not in BACKGROUNDS:
            raise ValueError(f"background {self.background!r} is not one of {BACKGROUNDS}")
        if self.noise_sigma < 0:
            raise ValueError("noise_sigma must not be negative")
        # Accept any sequence but keep the scene hashable.
        object.__setattr__(self, "objects", tuple(self.objects))

    @classmethod
    def default(cls, width: int = 1920, height: int = 1080) -> Scene:
        """A lively demo scene: three objects moving continuously across the picture."""
        w, h = float(width), float(height)
        box = (0.08 * w, 0.14 * h)
        slider = MovingObject.keyframes(
            [
                (0, (0.04 * w, 0.55 * h, *box)),
                (120, (0.88 * w, 0.55 * h, *box)),
                (240, (0.04 * w, 0.55 * h, *box)),
            ],
            color=(82, 90, 240),  # red
            loop=True,
        )
        orbiter = MovingObject(
            Orbit((0.5 * w, 0.45 * h), (0.3 * w, 0.28 * h), (0.1 * h, 0.1 * h), period=180),
            color=(41, 240, 110),  # blue
        )
        climber = MovingObject.keyframes(
            [
                (0, (0.7 * w, 0.9 * h, 0.03 * w, 0.08 * h)),
                (100, (0.2 * w, 0.1 * h, 0.03 * w, 0.08 * h)),
                (200, (0.7 * w, 0.9 * h, 0.03 * w, 0.08 * h)),
            ],
            color=(210, 16, 146),  # yellow
            loop=True,
        )
        return cls(objects=(slider, orbiter, climber))

    @classmethod
    def dusk(cls, width: int = 1920, height: int = 1080, frames: int = 750) -> Scene:
        """The demo scene as daylight fades: 2000 lux down to 1 lux over ``frames`` frames."""
        return replace(cls.default(width, height), lighting=Lighting.dusk(2000, 1, frames))

    @classmethod
    def light_switch(cls, width: int = 1920, height: int = 1080, at: int = 100) -> Scene:
        """A dim room (20 lux, tungsten 2800 K) until a light goes on at frame ``at`` (400 lux)."""
        lighting = Lighting.steps(((0, 20.0), (at, 400.0)), cct=2800)
        return replace(cls.default(width, height), lighting=lighting)

    @classmethod
    def backlit(cls, width: int = 1920, height: int = 1080) -> Scene:
        """A room at 300 lux with a window onto daylight (32x white) in the upper right."""
        w, h = float(width), float(height)
        window = MovingObject.appear(
            0, 1 << 30, (0.6 * w, 0.1 * h, 0.3 * w, 0.4 * h), (255, 128, 128)
        )
        person = MovingObject.appear(
            0, 1 << 30, (0.3 * w, 0.4 * h, 0.12 * w, 0.5 * h), (60, 120, 140)
        )
        return cls(objects=(window, person), lighting=Lighting.constant(300.0))

    @classmethod
    def static(cls, noise_sigma: float = 2.0, flicker: Flicker | None = None) -> Scene:
        """Nothing moves, but the picture is alive: for motion-detection false positives."""
        return cls(
            noise_sigma=noise_sigma,
            flicker=flicker if flicker is not None else Flicker(amplitude=3.0, period=50.0),
        )
