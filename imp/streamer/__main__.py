"""``imp-streamer`` / ``python -m imp.streamer``: run the daemon until SIGTERM or SIGINT."""

from __future__ import annotations

import argparse
import faulthandler
import logging
import signal
import sys
import time
from typing import Any

from imp.streamer import config as cfgmod


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="imp-streamer",
        description="RTSP/HTTP camera daemon on imp (prudynt-like). SIGTERM/SIGINT stop it.",
    )
    p.add_argument("--config", "-c", help="TOML file (see imp/streamer/example.toml)")
    p.add_argument("--sim", action="store_true", help="run on the simulated T31")
    p.add_argument("--rtsp-port", type=int, help="overrides [rtsp] port")
    p.add_argument("--http-port", type=int, help="overrides [http] port")
    p.add_argument("--host", help="listen address for RTSP and HTTP")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="override one setting (repeatable), e.g. --set stream0.bitrate=1500",
    )
    p.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING, ERROR")
    return p


def _settings(args: argparse.Namespace) -> cfgmod.Settings:
    settings = cfgmod.load(args.config)
    overrides: list[dict[str, Any]] = [cfgmod.parse_override(s) for s in args.set]
    if args.rtsp_port is not None:
        overrides.append({"rtsp": {"port": args.rtsp_port}})
    if args.http_port is not None:
        overrides.append({"http": {"port": args.http_port}})
    if args.host is not None:
        overrides.append({"rtsp": {"host": args.host}, "http": {"host": args.host}})
    for o in overrides:
        settings = cfgmod.merge(settings, o, " (command line)")[0]
    return settings


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        settings = _settings(args)
    except cfgmod.ConfigError as exc:
        print(f"imp-streamer: {exc}", file=sys.stderr)
        return 2
    from imp.streamer.app import Streamer
    from imp.streamer.rtsp import RtspUnavailable

    faulthandler.register(signal.SIGUSR1)  # `kill -USR1 PID` prints every thread's stack
    # The handler only appends to a list: taking a lock there (Event.set) can deadlock with the
    # main thread's own wait on that lock, and a lost SIGTERM is a daemon that will not stop.
    signals: list[int] = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, _frame: signals.append(signum))
    streamer = Streamer(settings, sim=args.sim)
    try:
        streamer.start()
    except RtspUnavailable as exc:
        print(f"imp-streamer: {exc}", file=sys.stderr)
        return 3
    except Exception as exc:
        print(f"imp-streamer: cannot start: {exc}", file=sys.stderr)
        streamer.stop()
        return 1
    try:
        for name, url in streamer.addresses().items():
            print(f"imp-streamer: {name:6} {url}", flush=True)
        print("imp-streamer: running; Ctrl-C or SIGTERM stops it", flush=True)
        while not signals:
            time.sleep(0.2)  # a signal interrupts the sleep and runs the handler
    finally:
        streamer.stop()
    print("imp-streamer: stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
