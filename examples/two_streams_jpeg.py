"""One sensor, three outputs: 1080p H.265, 360p H.264 and a JPEG every second."""

import imp
from imp.output import FileOutput, Mp4Output

with imp.open() as cam:
    main, lores = cam.streams(main=(1920, 1080), lores=(640, 360))
    h265 = cam.encoder(main, imp.H265(bitrate_kbps=2000), output=Mp4Output("main.mp4"))
    cam.encoder(lores, imp.H264(bitrate_kbps=500), output=Mp4Output("lores.mp4"))
    cam.encoder(h265, imp.JPEG(quality=80, fps=1), output=FileOutput("snap-{seq}.jpg"))
    cam.run(seconds=5)
print("wrote main.mp4, lores.mp4 and snap-0.jpg .. snap-4.jpg")
