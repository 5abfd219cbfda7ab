"""Move and base-move detection quality on scripted scenes, through the whole pipeline.

FS channel (640x360, noisy flickering synthetic sensor) -> IVS group -> channel. Ground truth
comes from the scene script: ROI i is *positive* at sensor frame n when an object overlaps it by
at least min(1024 px, a quarter of the object), *negative* when nothing overlaps it, and
"don't care" for thinner slivers at its border. Results are matched to sensor frames by the
frame mark, which the simulated ISP stamps into the top rows; ROIs stay below that band (it
changes every frame: any detector sees it move, as it would an OSD clock).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pytest

from imp import ivs
from imp.framesource import ChannelAttr, get_framesource
from imp.ivs.frames import FrameView
from imp.system import get_system
from kernel_stubs.sensor import (
    Flicker,
    MovingObject,
    Scene,
    mark_band_height,
    read_frame_mark,
    register_scene,
    unregister_scene,
)
from tests.conftest import running_system

W, H = 640, 360
BAND = mark_band_height(W)  # rows of the frame mark
ROIS = (  # inclusive corners, with gaps between them
    (16, 32, 303, 183),
    (336, 32, 623, 183),
    (16, 200, 303, 343),
    (336, 200, 623, 343),
)
NOISE, FLICKER = 3.0, Flicker(amplitude=6.0, period=40.0)


def scripted_scene() -> Scene:
    """Objects entering and leaving the ROIs at known frames (sensor pixels = 640x360)."""
    objects = [
        # walks inside ROI 0, frames 30-90
        MovingObject.linear(30, 90, (40, 60, 40, 60), (220, 100, 40, 60), (200, 128, 128)),
        # dark object inside ROI 1, frames 120-200
        MovingObject.linear(120, 200, (350, 50, 48, 48), (560, 120, 48, 48), (50, 100, 150)),
        # enters from the left edge, crosses ROI 2, the gap and ROI 3, frames 220-330
        MovingObject.linear(220, 330, (0, 240, 40, 64), (600, 260, 40, 64), (230, 128, 128)),
        # a mid-grey (low contrast) object inside ROI 3, frames 350-430
        MovingObject.linear(350, 430, (400, 220, 40, 60), (560, 270, 40, 60), (150, 128, 128)),
        # appears in ROI 2 and stands still for 2.4 s, frames 460-520
        MovingObject.appear(460, 520, (100, 250, 32, 48), (90, 128, 128)),
        # two at once: ROI 0 and ROI 3, frames 540-600
        MovingObject.linear(540, 600, (60, 80, 36, 36), (240, 120, 36, 36), (40, 128, 128)),
        MovingObject.linear(540, 600, (560, 300, 36, 36), (380, 220, 36, 36), (220, 128, 128)),
    ]
    return Scene(objects=objects, noise_sigma=NOISE, flicker=FLICKER)


def truth(scene: Scene, frame_no: int, roi: tuple[int, int, int, int]) -> bool | None:
    """True: something is in the ROI; False: nothing; None: only a sliver (don't care)."""
    x0, y0, x1, y1 = roi
    state: bool | None = False
    for obj in scene.objects:
        rect = obj.rect_at(frame_no)
        if rect is None:
            continue
        rx, ry, rw, rh = rect
        ox = max(0.0, min(x1 + 1, rx + rw) - max(x0, rx))
        oy = max(0.0, min(y1 + 1, ry + rh) - max(y0, ry))
        if ox * oy >= min(1024.0, rw * rh / 4):
            return True
        if ox * oy > 0:
            state = None
    return state


class Recording(ivs.MoveDetector):
    """The built-in detector, remembering (sensor frame, result) for every analysed frame."""

    def __init__(self, params: ivs.MoveParams) -> None:
        super().__init__(params)
        self.history: list[tuple[int, ivs.MoveResult]] = []

    def analyse(self, frame: FrameView) -> ivs.MoveResult | None:
        result = super().analyse(frame)
        if result is not None:
            self.history.append((read_frame_mark(frame.y), result))
        return result


@contextmanager
def pipeline(scene: Scene, name: str, algorithm: ivs.IvsAlgorithm) -> Iterator[ivs.IvsChannel]:
    """Sensor 640x360 -> FS channel 0 -> IVS group 0 -> channel 0 running ``algorithm``."""
    register_scene(name, scene)
    try:
        with running_system("virtual", sensor=f"synthetic:{name}", sensor_size=(W, H)):
            fs = get_framesource()
            fs.create(0, ChannelAttr(W, H, nr_vbs=3))
            with ivs.open_group(0) as grp:
                get_system().bind((0, 0, 0), grp.cell)
                try:
                    with ivs.open_channel(0, algorithm, grp) as chn:
                        fs.enable(0)
                        try:
                            yield chn
                        finally:
                            fs.disable(0)
                finally:
                    get_system().unbind((0, 0, 0), grp.cell)
            fs.destroy(0)
    finally:
        unregister_scene(name)


def run_move(scene: Scene, name: str, frames: int, skip: int, sense: int) -> Recording:
    params = ivs.MoveParams(W, H, tuple(ivs.Roi(*r, sense) for r in ROIS), skip)
    detector = Recording(params)
    with pipeline(scene, name, detector) as chn:
        deadline = time.monotonic() + 60
        while not detector.history or detector.history[-1][0] < frames:
            with chn.result(timeout=5.0):
                assert time.monotonic() < deadline
        assert chn.stats.dropped == 0 and chn.stats.errors == 0, chn.stats
    return detector


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    dont_care: int = 0

    @property
    def precision(self) -> float:
        return self.tp / max(1, self.tp + self.fp)

    @property
    def recall(self) -> float:
        return self.tp / max(1, self.tp + self.fn)


def score(scene: Scene, history: list[tuple[int, ivs.MoveResult]]) -> list[Score]:
    scores = [Score() for _ in ROIS]
    for frame_no, result in history:
        for i, roi in enumerate(ROIS):
            expected, got, s = truth(scene, frame_no, roi), result.regions[i], scores[i]
            if expected is None:
                s.dont_care += 1
            elif expected and got:
                s.tp += 1
            elif expected:
                s.fn += 1
            elif got:
                s.fp += 1
            else:
                s.tn += 1
    return scores


def latencies(scene: Scene, history: list[tuple[int, ivs.MoveResult]]) -> list[int]:
    """Frames from each start of presence in a ROI to the first result reporting it."""
    analysed = sorted(history, key=lambda h: h[0])
    first, last = analysed[0][0], analysed[-1][0]
    out = []
    for i, roi in enumerate(ROIS):
        before = truth(scene, first, roi)
        for n in range(first + 1, last + 1):
            now = truth(scene, n, roi)
            if now and before is False:  # from nothing to a real presence
                hit = next((f for f, r in analysed if f >= n and r.regions[i]), None)
                assert hit is not None, f"ROI {i}: presence from frame {n} never reported"
                out.append(hit - n)
            if now is not None:
                before = now
    return out


@pytest.mark.parametrize("skip", [5, 0])
def test_move_precision_recall_and_latency_on_scripted_scene(skip: int) -> None:
    scene = scripted_scene()
    detector = run_move(scene, f"ivs-scripted-{skip}", frames=620, skip=skip, sense=3)
    frames = [f for f, _ in detector.history]
    assert all(b - a == skip + 1 for a, b in itertools.pairwise(frames)), frames[:20]
    scores = score(scene, detector.history)
    lat = latencies(scene, detector.history)
    for i, s in enumerate(scores):
        print(
            f"skip {skip} sense 3 ROI {i}: precision {s.precision:.3f} recall {s.recall:.3f} "
            f"(tp {s.tp} fp {s.fp} fn {s.fn} tn {s.tn}, {s.dont_care} border frames ignored)"
        )
    print(f"skip {skip}: latency in frames from entering a ROI to the first report: {lat}")
    for s in scores:
        assert s.tp >= 5
        assert s.precision >= 0.95 and s.recall >= 0.95
    assert lat and max(lat) <= skip  # i.e. reported within skipFrameCnt + 1 frames


def test_static_noisy_flickering_scene_flags_at_most_one_percent() -> None:
    scene = Scene.static(noise_sigma=NOISE, flicker=FLICKER)
    rois = (*ROIS, (0, BAND + 8, W - 1, H - 1))  # plus the whole picture below the mark
    for sense in (3, 4):
        params = ivs.MoveParams(W, H, tuple(ivs.Roi(*r, sense) for r in rois), skip_frames=0)
        detector = Recording(params)
        with pipeline(scene, f"ivs-static-{sense}", detector) as chn:
            while len(detector.history) < 500:
                with chn.result(timeout=5.0):
                    pass
        flagged = sum(r.motion for _, r in detector.history)
        rate = flagged / len(detector.history)
        print(
            f"static scene (noise {NOISE}, flicker ±{FLICKER.amplitude}), sense {sense}: "
            f"{flagged}/{len(detector.history)} frames flag a ROI ({rate:.2%})"
        )
        assert rate <= 0.01


def test_base_move_sad_is_largest_where_the_object_moved() -> None:
    size = 48  # moving 6 px/frame: 16 frames apart (the reference) it moved twice its size
    objects = [
        MovingObject.linear(20, 100, (40, 120, size, size), (520, 200, size, size), (210, 128, 128))
    ]
    scene = Scene(objects=objects, noise_sigma=NOISE, flicker=FLICKER)
    params = ivs.BaseMoveParams(W, H, skip_frames=3, reference_num=4, sense=3)
    seen: list[tuple[int, int, np.ndarray]] = []

    class Recorder(ivs.BaseMoveDetector):
        def analyse(self, frame: FrameView) -> ivs.BaseMoveResult | None:
            result = super().analyse(frame)
            if result is not None:
                seen.append((read_frame_mark(frame.y), result.c.datalen, result.sad.copy()))
            return result

    with pipeline(scene, "ivs-basemove", Recorder(params)) as chn:
        while not seen or seen[-1][0] < 110:
            with chn.result(timeout=5.0) as res:
                assert res.c.datalen == (W // 8) * (H // 8) == 3600
                data = np.ctypeslib.as_array(res.c.data, shape=(res.c.datalen,))
                assert np.array_equal(data.reshape(H // 8, W // 8), res.sad)

    first_band_row = -(-BAND // 8)
    checked = 0
    margins = []
    for frame_no, datalen, sad in seen:
        cur = objects[0].rect_at(frame_no)
        ref = objects[0].rect_at(frame_no - 16)  # referenceNum 4 x (skipFrameCnt 3 + 1)
        assert datalen == sad.size
        if cur is None or ref is None:
            continue
        near = np.zeros(sad.shape, bool)  # blocks touching either position (+1 block)
        inside = np.zeros(sad.shape, bool)  # blocks fully inside the new position only
        for rect, mask, grow in ((cur, near, 1), (ref, near, 1)):
            x, y, w, h = rect
            c0, r0 = int(x // 8) - grow, int(y // 8) - grow
            c1, r1 = int(-(-(x + w) // 8)) + grow, int(-(-(y + h) // 8)) + grow
            mask[max(r0, 0) : r1, max(c0, 0) : c1] = True
        x, y, w, h = cur
        inside[int(-(-y // 8)) : int((y + h) // 8), int(-(-x // 8)) : int((x + w) // 8)] = True
        background = ~near
        background[:first_band_row] = False
        below_mark = sad.copy()
        below_mark[:first_band_row] = 0
        top = np.argsort(below_mark, axis=None)[::-1][: int(inside.sum())]
        assert near.ravel()[top].all(), f"frame {frame_no}: a top SAD block is off the object"
        assert sad[inside].min() > sad[background].max(), f"frame {frame_no}"
        margins.append(int(sad[inside].min()) - int(sad[background].max()))
        checked += 1
    print(
        f"base-move: {checked} maps checked; min SAD on the object minus max SAD elsewhere: "
        f"worst {min(margins)}, median {int(np.median(margins))} (SAD/64 units)"
    )
    assert checked >= 15
