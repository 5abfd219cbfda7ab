"""Shared by the streamer tests and benches: run the daemon as a user would (a subprocess on the
simulator, SIGTERM to stop it) and pull its streams with real clients."""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

USER, PASSWORD = "viewer", "s3cret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def toml_text(settings: dict[str, dict[str, Any]]) -> str:
    def value(v: Any) -> str:
        return json.dumps(v) if not isinstance(v, bool) else ("true" if v else "false")

    out = []
    for sec, keys in settings.items():
        out.append(f"[{sec}]")
        out.extend(f"{k} = {value(v)}" for k, v in keys.items())
        out.append("")
    return "\n".join(out)


def small_config(tmp: Path, auth: bool = True, **sections: dict[str, Any]) -> dict[str, Any]:
    """640x360 + 320x180 on a 640x360 sensor: light enough for a loaded 2-core machine."""
    cfg: dict[str, dict[str, Any]] = {
        "stream0": {"width": 640, "height": 360, "bitrate": 800, "gop": 50},
        "stream1": {"width": 320, "height": 180, "bitrate": 250, "gop": 50},
        "jpeg": {"fps": 5, "channel": 1},
        "sim": {"sensor_width": 640, "sensor_height": 360, "scene": "static"},
        "rtsp": {"host": "127.0.0.1", "port": free_port()},
        "http": {"host": "127.0.0.1", "port": free_port()},
        "motion": {"clips_dir": str(tmp / "clips")},
    }
    if auth:
        for sec in ("rtsp", "http"):
            cfg[sec].update(username=USER, password=PASSWORD)
    for sec, keys in sections.items():
        cfg.setdefault(sec, {}).update(keys)
    return cfg


@dataclass
class Daemon:
    """``python -m imp.streamer --sim --config FILE`` in a subprocess."""

    config: dict[str, dict[str, Any]]
    workdir: Path
    proc: subprocess.Popen[str] | None = None
    lines: list[str] = field(default_factory=list)
    addresses: dict[str, str] = field(default_factory=dict)

    def start(self, timeout: float = 60.0) -> Daemon:
        path = self.workdir / "streamer.toml"
        path.write_text(toml_text(self.config))
        env = dict(os.environ, IMP_PLATFORM="sim", PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "imp.streamer",
                "--sim",
                "--config",
                str(path),
                "--log-level",
                "WARNING",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        ready = threading.Event()
        threading.Thread(target=self._read, args=(ready,), daemon=True).start()
        if not ready.wait(timeout) or self.proc.poll() is not None:
            self.stop()
            raise RuntimeError("streamer did not start:\n" + "".join(self.lines))
        return self

    def warm_up(self, frames: int = 75, timeout: float = 60.0) -> Daemon:
        """Wait until stream0 has delivered ``frames`` pictures: the simulator overruns a few
        times while everything starts on a loaded machine; measurements start after that."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.metrics().splitlines():
                key = 'imp_streamer_frames_total{stream="stream0"}'
                if line.startswith(key) and float(line.split()[-1]) >= frames:
                    return self
            time.sleep(0.2)
        raise TimeoutError(f"stream0 delivered fewer than {frames} pictures in {timeout} s")

    def metrics(self) -> str:
        status, _, body = http_request(f"{self.http}/metrics")
        assert status == 200, body
        return body.decode()

    def _read(self, ready: threading.Event) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)
            parts = line.split()
            if line.startswith("imp-streamer:") and len(parts) == 3 and "://" in parts[2]:
                self.addresses[parts[1]] = parts[2]
            if "running;" in line:
                ready.set()
        ready.set()

    def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM; the exit status (killed -9 after ``timeout``: returns -9)."""
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return int(self.proc.returncode)

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.config['http']['port']}"

    def rtsp(self, ch: int, creds: tuple[str, str] | None = (USER, PASSWORD)) -> str:
        auth = f"{creds[0]}:{creds[1]}@" if creds and self.config["rtsp"].get("username") else ""
        return f"rtsp://{auth}127.0.0.1:{self.config['rtsp']['port']}/ch{ch}"


def http_request(
    url: str,
    method: str = "GET",
    body: Any = None,
    creds: tuple[str, str] | None = (USER, PASSWORD),
    timeout: float = 15.0,
) -> tuple[int, dict[str, str], bytes]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    if creds is not None:
        token = base64.b64encode(f"{creds[0]}:{creds[1]}".encode()).decode()
        req.add_header("Authorization", f"Basic {token}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


@dataclass
class Received:
    mark: int
    pts: int | None
    keyframe: bool
    arrived: float  # time.monotonic() at the client
    size: int = 0


def rtsp_frames(
    url: str, transport: str, limit: int, timeout: float = 30.0, decode: bool = True
) -> Iterator[Received]:
    """Pull ``url`` with FFmpeg (PyAV); yields decoded frames' marks (or, with ``decode``
    False, demuxed packets with mark -1)."""
    import av

    from kernel_stubs.sensor import read_frame_mark

    deadline = time.monotonic() + timeout
    container = av.open(
        url, options={"rtsp_transport": transport, "stimeout": "30000000"}, timeout=30
    )
    try:
        stream = container.streams.video[0]
        count = 0
        for packet in container.demux(stream):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url}: {count} of {limit} frames within {timeout} s")
            if packet.size == 0:
                continue
            arrived = time.monotonic()
            if not decode:
                yield Received(-1, packet.pts, bool(packet.is_keyframe), arrived, packet.size)
                count += 1
            else:
                for frame in packet.decode():
                    gray = frame.to_ndarray(format="gray")
                    yield Received(
                        read_frame_mark(gray),
                        frame.pts,
                        bool(packet.is_keyframe),
                        arrived,
                        packet.size,
                    )
                    count += 1
            if count >= limit:
                return
    finally:
        container.close()


def mjpeg_parts(
    url: str, limit: int, creds: tuple[str, str] | None = (USER, PASSWORD), timeout: float = 30
) -> Iterator[tuple[dict[str, str], bytes]]:
    """The parts of a multipart/x-mixed-replace stream: (part headers, JPEG bytes)."""
    req = urllib.request.Request(url)
    if creds is not None:
        token = base64.b64encode(f"{creds[0]}:{creds[1]}".encode()).decode()
        req.add_header("Authorization", f"Basic {token}")
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        ctype = resp.headers["Content-Type"]
        assert ctype.startswith("multipart/x-mixed-replace"), ctype
        boundary = ctype.split("boundary=")[1].strip()
        for _ in range(limit):
            line = resp.readline().strip()
            while not line:
                line = resp.readline().strip()
            assert line == f"--{boundary}".encode(), line
            headers = {}
            while line := resp.readline().strip():
                k, _, v = line.decode().partition(":")
                headers[k.strip().lower()] = v.strip()
            data = resp.read(int(headers["content-length"]))
            yield headers, data


def decode_jpeg_mark(data: bytes) -> tuple[int, np.ndarray]:
    import io

    from PIL import Image

    from kernel_stubs.sensor import read_frame_mark

    gray = np.asarray(Image.open(io.BytesIO(data)).convert("L"))
    return read_frame_mark(gray), gray


def talk(host: str, port: int, path: str, seconds: float, hz: float = 1000.0, pt: int = 0) -> int:
    """An ONVIF backchannel client (TCP interleaved, no auth): DESCRIBE with ``Require:
    www.onvif.org/ver20/backchannel``, SETUP every track, PLAY, then send ``seconds`` of a
    ``hz`` tone as G.711 (PT 0 = PCMU, 8 = PCMA) in 20 ms RTP packets at real time.
    Returns how many packets were sent. (FFmpeg has no backchannel; GStreamer's needs app
    code: a few lines of RTSP are the plainest client.)"""
    import re

    import av

    require = "Require: www.onvif.org/ver20/backchannel\r\n"
    url = f"rtsp://{host}:{port}{path}"
    sock = socket.create_connection((host, port), timeout=10)
    pending = b""

    def request(text: str) -> tuple[str, str]:
        nonlocal pending
        sock.sendall(text.encode())
        while True:
            while pending.startswith(b"$"):  # interleaved data before the reply: skip it
                while len(pending) < 4:
                    pending += sock.recv(65536)
                size = int.from_bytes(pending[2:4], "big")
                while len(pending) < 4 + size:
                    pending += sock.recv(65536)
                pending = pending[4 + size :]
            if b"\r\n\r\n" in pending:
                break
            pending += sock.recv(65536)
        head, _, rest = pending.partition(b"\r\n\r\n")
        length = int(m.group(1)) if (m := re.search(rb"Content-Length: *(\d+)", head, re.I)) else 0
        while len(rest) < length:
            rest += sock.recv(65536)
        pending = rest[length:]
        reply = head.decode()
        assert reply.startswith("RTSP/1.0 200"), reply
        return reply, rest[:length].decode()

    try:
        _, sdp = request(
            f"DESCRIBE {url} RTSP/1.0\r\nCSeq: 1\r\n{require}Accept: application/sdp\r\n\r\n"
        )
        tracks = re.findall(r"a=control:(stream=\d+)\r?\n(?:.*\r?\n)*?a=(sendonly|recvonly)", sdp)
        session, channel, cseq = "", -1, 2
        for i, (control, direction) in enumerate(tracks):
            head, _ = request(
                f"SETUP {url}/{control} RTSP/1.0\r\nCSeq: {cseq}\r\n{require}"
                f"Transport: RTP/AVP/TCP;unicast;interleaved={2 * i}-{2 * i + 1}\r\n"
                + (f"Session: {session}\r\n" if session else "")
                + "\r\n"
            )
            cseq += 1
            session = re.search(r"Session: *([^;\r\n]+)", head).group(1)  # type: ignore[union-attr]
            if direction == "sendonly":
                channel = 2 * i
        assert channel >= 0, f"no backchannel track in the SDP:\n{sdp}"
        request(f"PLAY {url} RTSP/1.0\r\nCSeq: {cseq}\r\n{require}Session: {session}\r\n\r\n")
        codec = av.CodecContext.create("pcm_mulaw" if pt == 0 else "pcm_alaw", "w")
        codec.sample_rate, codec.format, codec.layout = 8000, "s16", "mono"
        t = np.arange(int(seconds * 8000)) / 8000
        pcm = (0.3 * 32767 * np.sin(2 * np.pi * hz * t)).astype(np.int16)
        sent, start = 0, time.monotonic()
        sock.setblocking(False)
        for n, i in enumerate(range(0, len(pcm), 160)):
            frame = av.AudioFrame.from_ndarray(pcm[None, i : i + 160], format="s16", layout="mono")
            frame.sample_rate = 8000
            payload = b"".join(bytes(p) for p in codec.encode(frame))
            rtp = (
                bytes([0x80, pt])
                + (n & 0xFFFF).to_bytes(2, "big")
                + (i & 0xFFFFFFFF).to_bytes(4, "big")
                + (0x1234).to_bytes(4, "big")
                + payload
            )
            sock.sendall(b"$" + bytes([channel]) + len(rtp).to_bytes(2, "big") + rtp)
            sent += 1
            try:
                while sock.recv(65536):  # what the server streams to us: not needed here
                    pass
            except BlockingIOError:
                pass
            time.sleep(max(0.0, start + (n + 1) * 0.02 - time.monotonic()))
        return sent
    finally:
        sock.close()
