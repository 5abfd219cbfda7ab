"""A JPEG every second for five seconds: snap-0.jpg ... snap-4.jpg."""

import imp
from imp.output import FileOutput

with imp.open() as cam:
    main = cam.framesource()
    cam.encoder(main, imp.JPEG(quality=80, fps=1), output=FileOutput("snap-{seq}.jpg"))
    cam.run(seconds=5)
print("wrote snap-0.jpg .. snap-4.jpg")
