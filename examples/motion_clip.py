"""On motion, write clip.mp4: the 5 s before the motion and 5 s after it."""

import imp
from imp.output import CircularOutput

with imp.open() as cam:
    main, lores = cam.streams(main=(1280, 720), lores=(640, 360))
    ring = CircularOutput(seconds=5)
    cam.encoder(main, imp.H264(bitrate_kbps=1500, gop=25), output=ring)
    cam.wait(seconds=6)  # the ring holds 5 s of video by now
    event = cam.motion(lores, rois=[(0, 40, 640, 320)]).get_event(timeout=30)
    ring.start("clip.mp4")
    cam.wait(seconds=5)
    ring.stop()
print(f"wrote clip.mp4: motion at frame {event.seq}")
