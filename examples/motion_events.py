"""Print the first ten motion events seen on a 640x360 stream."""

import imp

with imp.open() as cam:
    lores = cam.framesource(size=(640, 360))
    motion = cam.motion(lores, rois=[(0, 40, 640, 320)], sense=3)
    for event in motion.events(limit=10):
        print(f"motion in region {event.rois} at frame {event.seq}, t={event.timestamp} us")
