"""A camera unplugged mid-stream: vivid's 'Disconnect' control makes every call on the open
device fail with ENODEV, as on an unplugged USB camera (v4l2loopback 0.12 cannot remove a device
that is open). The sensor fails that frame, closes the device and reopens it at its retry pace;
vivid registers again once its last user has closed it, so frames resume by themselves."""

from __future__ import annotations

import time

from vmlib import VIVID, mark_or_none, report, sensor_model, vivid_disconnect

import imp


def test_unplug_mid_stream_is_survived() -> None:
    imp.kernel.sim_overrides(
        clock="virtual",
        sensor=f"v4l2:{VIVID}?format=nv12&pace=latest&osd=0&retry=0.5&timeout=5",
        sensor_size=(640, 360),
    )
    with imp.open() as cam:
        main = cam.framesource(0, size=(640, 360))
        before = [mark_or_none(f.y) for f in main.frames(limit=10, timeout=10.0)]
        t_unplug = time.monotonic()
        vivid_disconnect()
        deadline = time.monotonic() + 30
        while main.stats.corrupt < 1 and time.monotonic() < deadline:
            time.sleep(0.1)
        corrupt = main.stats.corrupt
        error = sensor_model().last_error
        assert corrupt >= 1, "the unplug gave no error frame"
        after = [mark_or_none(f.y) for f in main.frames(limit=10, timeout=20.0)]
        resumed = time.monotonic() - t_unplug
        sensor_model().close()
        t_close = time.monotonic()  # closing must not hang either
    close_s = time.monotonic() - t_close
    report(
        f"vivid unplugged mid-stream (Disconnect control): {corrupt} error frame(s) counted by "
        f"FrameSource, the sensor said {error!r}; frames resumed {resumed:.1f} s after the "
        f"unplug (marks {before[-1]} -> {after[0]}..{after[-1]}); camera closed in {close_s:.1f} s"
    )
    assert None not in before and None not in after
    assert after == sorted(after) and after[0] > before[-1]
    assert close_s < 20
