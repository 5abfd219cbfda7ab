"""``imp-loopback`` / ``python -m imp.loopback``: the simulated T31 camera as a webcam.

Runs the simulator (or the board's drivers), takes FrameSource channel frames and writes them to
a v4l2loopback device at the channel's rate; any V4L2 application can then open that device.

    sudo modprobe v4l2loopback video_nr=10 card_label="imp T31" exclusive_caps=1
    imp-loopback /dev/video10 --size 1280x720 --fps 25
    ffplay -f v4l2 /dev/video10

``--encoded`` publishes what a viewer of the H.264 stream sees instead: the channel through a
clock OSD (``--no-clock`` leaves it out), the H.264 encoder at ``--bitrate`` and FFmpeg's decoder.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading

from imp.v4l2.publish import LoopbackWriter, PublishStats, publish_channel
from imp.v4l2.publish_encoded import publish_encoder

__all__ = ["main"]


def _size(text: str) -> tuple[int, int]:
    w, sep, h = text.lower().partition("x")
    if not sep or not w.isdigit() or not h.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r}: expected WIDTHxHEIGHT, e.g. 1280x720")
    return int(w), int(h)


def _publish(
    writer: LoopbackWriter, args: argparse.Namespace, stop: threading.Event
) -> PublishStats:
    if args.encoded:
        return publish_encoder(
            writer,
            sensor=args.sensor,
            chn=args.channel,
            fps=args.fps,
            bitrate_kbps=args.bitrate,
            clock=not args.no_clock,
            limit=args.frames,
            stop=stop,
        )
    return publish_channel(
        writer,
        sensor=args.sensor,
        chn=args.channel,
        size=args.size,
        fps=args.fps,
        limit=args.frames,
        stop=stop,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="imp-loopback", description="Publish a FrameSource channel to a v4l2loopback device."
    )
    parser.add_argument("device", help="the v4l2loopback node, e.g. /dev/video10")
    parser.add_argument("--size", type=_size, default=(1280, 720), help="WxH (default 1280x720)")
    parser.add_argument("--fps", type=int, default=25, help="channel frame rate (default 25)")
    parser.add_argument("--format", default="yuyv", choices=["yuyv", "i420", "nv12"])
    parser.add_argument("--channel", type=int, default=0, help="FrameSource channel (default 0)")
    parser.add_argument("--sensor", default="gc2053", help="sensor name for IMP_ISP_AddSensor")
    parser.add_argument("--frames", type=int, default=None, help="stop after N frames")
    parser.add_argument(
        "--encoded", action="store_true", help="publish the decoded H.264 output, with a clock OSD"
    )
    parser.add_argument("--bitrate", type=int, default=2000, help="--encoded: H.264 kbit/s")
    parser.add_argument("--no-clock", action="store_true", help="--encoded: no clock overlay")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        width, height = args.size
        with LoopbackWriter(args.device, width, height, args.format) as writer:
            print(
                f"publishing channel {args.channel} ({args.size[0]}x{args.size[1]} "
                f"{args.format.upper()} @ {args.fps} fps{' via H.264' if args.encoded else ''}) "
                f"to {args.device}; Ctrl-C stops",
                file=sys.stderr,
            )
            try:
                stats = _publish(writer, args, stop)
            except KeyboardInterrupt:
                stats = writer.stats
    except (OSError, ValueError) as exc:
        print(f"imp-loopback: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # ImpError and friends: the message says what to fix
        print(f"imp-loopback: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(
        f"published {stats.written} frames, {stats.errors} write errors, {stats.reopened} reopens",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
