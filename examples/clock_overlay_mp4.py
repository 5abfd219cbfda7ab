"""Ten seconds of 1080p H.264 with a clock overlay, into clock.mp4."""

import imp
from imp.output import Mp4Output

with imp.open() as cam:
    main = cam.framesource(size=(1920, 1080))
    osd = cam.overlay(main)
    osd.clock(position=(16, 48))
    cam.encoder(osd, imp.H264(bitrate_kbps=2000), output=Mp4Output("clock.mp4"))
    cam.run(seconds=10)
print("wrote clock.mp4")
