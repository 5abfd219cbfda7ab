"""Malformed RTSP and HTTP requests against a running imp-streamer.

Each request goes on its own connection: a mutated valid request (bad methods, versions,
CSeq, Transport, Range, Authorization, Content-Length, chunking), random bytes, truncated or
oversized headers, RTSP interleaved frames with lying lengths, or a connection that says
nothing and vanishes. Replies are read briefly and dropped. The daemon must stay up and keep
its frame rate (checked by the caller).

Run: ``python -m bench.streamer_fuzz --count 10000`` (starts its own daemon on the simulator
and reports the streams' fps before and after, the daemon's CPU, and how it ended).
"""

from __future__ import annotations

import argparse
import random
import socket
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

RTSP_METHODS = [
    "OPTIONS",
    "DESCRIBE",
    "SETUP",
    "PLAY",
    "PAUSE",
    "TEARDOWN",
    "GET_PARAMETER",
    "SET_PARAMETER",
    "ANNOUNCE",
    "RECORD",
    "REDIRECT",
    "FOO",
    "",
    "DESCRIBE\x00",
]
HTTP_PATHS = [
    "/",
    "/snapshot.jpg",
    "/mjpeg",
    "/api/settings",
    "/api/idr?stream=9",
    "/api/idr?stream=%00",
    "/clips/../../etc/passwd",
    "/clips/%2e%2e%2fx",
    "/metrics",
    "/api/clips",
    "/" + "a" * 9000,
    "/?" + "&" * 5000,
    "*",
    "",
]
HTTP_METHODS = ["GET", "POST", "PATCH", "PUT", "DELETE", "HEAD", "OPTIONS", "TRACE", "G\tET", ""]


def _junk(rng: random.Random, n: int) -> bytes:
    return bytes(rng.getrandbits(8) for _ in range(n))


def rtsp_case(rng: random.Random, port: int) -> bytes:
    kind = rng.randrange(8)
    url = rng.choice(
        [
            f"rtsp://127.0.0.1:{port}/ch0",
            f"rtsp://127.0.0.1:{port}/ch1",
            f"rtsp://127.0.0.1:{port}/nope",
            "*",
            "rtsp://[::1",
            "x" * 3000,
        ]
    )
    method = rng.choice(RTSP_METHODS)
    headers = [f"CSeq: {rng.choice(['1', '-1', 'x', '99999999999999999999', ''])}"]
    if kind == 0:
        return _junk(rng, rng.randrange(1, 2048))
    if kind == 1:  # interleaved binary data with a lying length
        return (
            b"$"
            + bytes([rng.randrange(256)])
            + rng.randrange(65536).to_bytes(2, "big")
            + _junk(rng, rng.randrange(0, 64))
        )
    if kind == 2:
        headers.append(
            "Transport: "
            + rng.choice(
                [
                    "RTP/AVP;unicast;client_port=0-0",
                    "RTP/AVP/TCP;interleaved=255-256",
                    "RTP/AVP;multicast;ttl=999",
                    "garbage;;;",
                    "RTP/AVP;unicast;client_port=70000-70001",
                ]
            )
        )
    if kind == 3:
        headers.append(
            "Authorization: "
            + rng.choice(
                [
                    'Digest username="viewer", realm="x", nonce="", uri="/", response="00"',
                    "Digest " + "a=" * 500,
                    "Basic !!!!",
                    "Digest",
                    'Digest username="\x00"',
                ]
            )
        )
    if kind == 4:
        headers.append(f"Content-Length: {rng.choice(['-5', '99999999', 'abc', '10'])}")
    if kind == 5:
        headers.append("Session: " + rng.choice(["", "x" * 500, "12345;timeout=-1"]))
        headers.append("Range: " + rng.choice(["npt=-", "npt=abc-", "clock=x", "smpte=99:99"]))
    if kind == 6:
        headers.extend(f"X-{i}: {'y' * rng.randrange(100)}" for i in range(rng.randrange(200)))
    version = rng.choice(["RTSP/1.0", "RTSP/1.0", "RTSP/2.0", "HTTP/1.1", "RTSP/9", ""])
    text = f"{method} {url} {version}\r\n" + "\r\n".join(headers) + "\r\n\r\n"
    data = text.encode("utf-8", "surrogateescape")
    if kind == 7:
        data = data[: rng.randrange(1, len(data))]  # truncated
    return data


def http_case(rng: random.Random) -> bytes:
    kind = rng.randrange(7)
    if kind == 0:
        return _junk(rng, rng.randrange(1, 2048))
    method, path = rng.choice(HTTP_METHODS), rng.choice(HTTP_PATHS)
    headers = ["Host: x"]
    body = b""
    if kind == 1:
        headers.append(
            "Authorization: "
            + rng.choice(
                ["Basic", "Basic ====", "Basic dmlld2VyOg==", "Bearer x", "Basic " + "A" * 9000]
            )
        )
    if kind == 2:
        body = rng.choice(
            [
                b"{",
                b"[]",
                b'{"stream0": {"bitrate": "x"}}',
                b'{"nope": {}}',
                b'{"stream0": {"bitrate": 1e400}}',
                b"\xff\xfe",
                b'{"a":' * 500,
            ]
        )
        headers.append(f"Content-Length: {rng.choice([len(body), len(body) + 50, 0])}")
    if kind == 3:
        headers.append("Transfer-Encoding: chunked")
        body = rng.choice([b"zz\r\n", b"5\r\nab", b"0\r\n\r\n", b"-1\r\n"])
    if kind == 4:
        headers.extend(f"X-{i}: {'y' * rng.randrange(200)}" for i in range(rng.randrange(150)))
    if kind == 5:
        headers.append("Content-Length: " + rng.choice(["-1", "abc", "99999999999"]))
    version = rng.choice(["HTTP/1.1", "HTTP/1.0", "HTTP/2", "HTTP/9.9", ""])
    data = (f"{method} {path} {version}\r\n" + "\r\n".join(headers) + "\r\n\r\n").encode(
        "utf-8", "surrogateescape"
    ) + body
    if kind == 6:
        data = data[: rng.randrange(1, len(data))]
    return data


def _send(port: int, data: bytes, rng: random.Random) -> bool:
    """One connection; True if the server answered anything."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            if rng.random() < 0.03:
                return False  # connect and vanish
            s.sendall(data)
            s.settimeout(0.05 if rng.random() < 0.9 else 0.3)
            try:
                return bool(s.recv(4096))
            except (TimeoutError, ConnectionResetError):
                return False
    except (ConnectionRefusedError, ConnectionResetError, BrokenPipeError, TimeoutError) as exc:
        raise RuntimeError(f"the daemon stopped accepting connections: {exc!r}") from exc


def _run(port: int, cases: list[bytes], seed: int, workers: int) -> dict[str, int]:
    """Send every case on its own connection, ``workers`` connections at a time."""
    rngs = [random.Random(seed * 1000 + i) for i in range(len(cases))]
    with ThreadPoolExecutor(workers) as pool:
        answered = sum(pool.map(lambda i: _send(port, cases[i], rngs[i]), range(len(cases))))
    return {"sent": len(cases), "answered": answered}


def fuzz_rtsp(port: int, count: int, seed: int = 0, workers: int = 6) -> dict[str, int]:
    rng = random.Random(seed)
    return _run(port, [rtsp_case(rng, port) for _ in range(count)], seed, workers)


def fuzz_http(port: int, count: int, seed: int = 0, workers: int = 6) -> dict[str, int]:
    rng = random.Random(seed)
    return _run(port, [http_case(rng) for _ in range(count)], seed, workers)


def main() -> None:
    from bench.streamer_common import Daemon, http_request, small_config

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=10000, help="requests per protocol")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        d = Daemon(small_config(Path(tmp)), Path(tmp)).start().warm_up()
        try:

            def fps() -> str:
                _, _, body = http_request(f"{d.http}/metrics")
                return " ".join(
                    line.split(" ", 1)[0].split('"')[1] + "=" + line.split()[-1]
                    for line in body.decode().splitlines()
                    if line.startswith("imp_streamer_fps")
                )

            print("fps before:", fps(), flush=True)
            t0 = time.monotonic()
            r = fuzz_rtsp(d.config["rtsp"]["port"], args.count, seed=1)
            print(f"RTSP: {r} in {time.monotonic() - t0:.0f} s; fps: {fps()}", flush=True)
            t0 = time.monotonic()
            h = fuzz_http(d.config["http"]["port"], args.count, seed=2)
            print(f"HTTP: {h} in {time.monotonic() - t0:.0f} s; fps: {fps()}", flush=True)
            time.sleep(3)
            print(
                "fps after:",
                fps(),
                "; daemon alive:",
                d.proc is not None and d.proc.poll() is None,
                flush=True,
            )
        finally:
            status = d.stop()
            print(f"SIGTERM -> exit status {status}")


if __name__ == "__main__":
    main()
