"""imp-streamer HTTP with a real client (urllib): snapshots, MJPEG, the settings API, metrics,
auth and fuzzed requests, against a daemon on the simulator (a subprocess)."""

from __future__ import annotations

import base64
import itertools
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from bench.streamer_common import (
    PASSWORD,
    USER,
    Daemon,
    decode_jpeg_mark,
    http_request,
    mjpeg_parts,
    small_config,
)
from bench.streamer_fuzz import fuzz_http

pytest.importorskip("gi", reason="the rtsp extra (PyGObject) is not installed")
pytest.importorskip("aiohttp", reason="the rtsp extra (aiohttp) is not installed")
pytestmark = pytest.mark.timeout(300)

LOGO_SIZE = (40, 20)
COVER = (400, 150, 100, 60)  # x, y, w, h in stream0 pixels (640x360)

ROUTES = [
    "/",
    "/snapshot.jpg",
    "/mjpeg",
    "/api/settings",
    "/api/clips",
    "/api/events",
    "/metrics",
    "/clips/motion-x.mp4",
]


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    tmp: Path = tmp_path_factory.mktemp("streamer-http")
    from PIL import Image

    logo = tmp / "logo.png"
    Image.new("RGBA", LOGO_SIZE, (255, 0, 0, 255)).save(logo)  # opaque red
    cfg = small_config(
        tmp,
        http={"max_clients": 6},
        osd={"uptime": True, "logo": str(logo), "covers": [list(COVER)]},
    )
    d = Daemon(cfg, tmp).start().warm_up()
    yield d
    assert d.stop() == 0, "".join(d.lines)


def test_snapshot_is_a_fresh_jpeg(daemon: Daemon) -> None:
    shots = []
    for _ in range(3):
        status, headers, body = http_request(f"{daemon.http}/snapshot.jpg")
        assert status == 200 and headers["Content-Type"] == "image/jpeg"
        mark, gray = decode_jpeg_mark(body)
        assert gray.shape == (180, 320)  # jpeg.channel = 1
        shots.append((mark, int(headers["X-Capture-Timestamp"])))
    # Each request waits for a new picture: marks and capture times strictly increase.
    assert all(b[0] > a[0] and b[1] > a[1] for a, b in itertools.pairwise(shots)), shots


def test_mjpeg_stream(daemon: Daemon) -> None:
    t0 = time.monotonic()
    marks = [decode_jpeg_mark(data)[0] for _, data in mjpeg_parts(f"{daemon.http}/mjpeg", 10)]
    elapsed = time.monotonic() - t0
    assert all(b > a for a, b in itertools.pairwise(marks)), marks
    # jpeg.fps = 5 of a 25 fps source: every 5th sensor frame.
    steps = [b - a for a, b in itertools.pairwise(marks)]
    assert sorted(steps)[len(steps) // 2] == 5, steps
    assert elapsed < 30


def test_settings_have_the_toml_shape(daemon: Daemon) -> None:
    from imp.streamer.config import SCHEMA

    status, _, body = http_request(f"{daemon.http}/api/settings")
    assert status == 200
    settings = json.loads(body)
    assert {sec: set(keys) for sec, keys in settings.items()} == {
        sec: set(keys) for sec, keys in SCHEMA.items()
    }
    assert settings["stream0"]["width"] == 640
    assert settings["http"]["password"] == "********"  # never sent back in clear


def test_patch_refuses_bad_input_naming_the_key(daemon: Daemon) -> None:
    url = f"{daemon.http}/api/settings"
    for patch, status, needle in [
        ({"stream0": {"bitrat": 5}}, 400, "stream0.bitrat"),
        ({"stream0": {"bitrate": "fast"}}, 400, "stream0.bitrate"),
        ({"image": {"brightness": 300}}, 400, "image.brightness"),
        ({"nope": {}}, 400, "[nope]"),
        ({"stream0": {"width": 1280}}, 409, "stream0.width"),
    ]:
        got, _, body = http_request(url, "PATCH", patch)
        assert got == status and needle in json.loads(body)["error"], (patch, got, body)
    got, _, body = http_request(url, "PATCH", None)
    assert got == 400


def test_live_changes_apply(daemon: Daemon) -> None:
    url = f"{daemon.http}/api/settings"
    patch = {
        "image": {"brightness": 150, "running_mode": "night"},
        "stream1": {"gop": 30},
        "motion": {"sensitivity": 2},
        "jpeg": {"fps": 5},
    }
    status, _, body = http_request(url, "PATCH", patch)
    assert status == 200, body
    reply = json.loads(body)
    assert set(reply["applied"]) == {
        "image.brightness",
        "image.running_mode",
        "stream1.gop",
        "motion.sensitivity",
    }
    assert reply["settings"]["image"]["running_mode"] == "night"
    http_request(url, "PATCH", {"image": {"brightness": 128, "running_mode": "day"}})


def test_osd_text_change_shows_in_decoded_pixels(daemon: Daemon) -> None:
    """The text box sits above the clock at the bottom left (imp/streamer/overlay.py)."""
    h, box_h, margin = 360, 18, 6
    y0 = h - 2 * (box_h + margin)
    rows, cols = slice(y0, y0 + box_h), slice(margin, 300)
    calm = slice(150, 250)  # middle of the static scene: no OSD there

    def picture() -> np.ndarray:
        import av

        container = av.open(daemon.rtsp(0), options={"rtsp_transport": "tcp"}, timeout=30)
        try:
            for i, frame in enumerate(container.decode(video=0)):
                if i == 2:
                    return np.asarray(frame.to_ndarray(format="gray"), dtype=np.float32)
        finally:
            container.close()
        raise AssertionError("no picture")

    url = f"{daemon.http}/api/settings"
    before = picture()
    status, _, body = http_request(url, "PATCH", {"osd": {"text": "IMP OSD TEST 12345"}})
    assert status == 200, body
    time.sleep(0.3)  # the next frames carry it; the RTSP client joins on a new IDR anyway
    after = picture()
    http_request(url, "PATCH", {"osd": {"text": ""}})
    diff = after - before
    diff -= np.median(diff[calm, cols])  # the static scene flickers: a global luma offset
    text_change = float(np.abs(diff[rows, cols]).mean())
    calm_change = float(np.abs(diff[calm, cols]).mean())
    assert text_change > 8 and text_change > 5 * calm_change, (text_change, calm_change)


def test_idr_api(daemon: Daemon) -> None:
    assert http_request(f"{daemon.http}/api/idr?stream=1", "POST")[0] == 200
    assert http_request(f"{daemon.http}/api/idr?stream=7", "POST")[0] == 400


def test_metrics(daemon: Daemon) -> None:
    text = daemon.metrics()
    values = {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line and not line.startswith("#")
    }
    for stream in ("stream0", "stream1"):
        assert 20 <= values[f'imp_streamer_fps{{stream="{stream}"}}'] <= 30, values
        assert values[f'imp_streamer_bitrate_kbps{{stream="{stream}"}}'] > 50
    assert values["process_resident_memory_bytes"] > 10e6
    assert values["process_cpu_seconds_total"] > 0
    assert "# TYPE imp_streamer_drops_total counter" in text


def _prometheus(text: str) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """Prometheus text format 0.0.4 parsed strictly: every sample's metric has HELP and TYPE
    lines before it; returns {metric: {sorted labels: value}}."""
    import re

    sample = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$")
    label = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)')
    typed: set[str] = set()
    out: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            typed.add(line.split()[2])
        elif line and not line.startswith("#"):
            m = sample.match(line)
            assert m is not None, line
            name, labels, value = m.groups()
            assert name in typed, f"{name} has no TYPE line before its samples"
            pairs = tuple(sorted(label.findall(labels or "")))
            out.setdefault(name, {})[pairs] = float(value)
    return out


def test_metrics_cpu_and_memory_per_stream(daemon: Daemon) -> None:
    """Per-stream CPU (the threads each stream owns) grows while it streams; buffer memory is
    per stream; the process RSS stays the one unsplit figure."""
    from bench.streamer_common import rtsp_frames

    def read() -> tuple[dict[tuple[str, str], float], dict[str, float], float, float]:
        m = _prometheus(daemon.metrics())
        cpu = {
            (dict(k)["stream"], dict(k)["thread"]): v
            for k, v in m["imp_streamer_cpu_seconds_total"].items()
        }
        buffers = {dict(k)["stream"]: v for k, v in m["imp_streamer_buffer_bytes"].items()}
        return (
            cpu,
            buffers,
            m["process_cpu_seconds_total"][()],
            m["process_resident_memory_bytes"][()],
        )

    before, _, _, _ = read()
    assert sum(1 for _ in rtsp_frames(daemon.rtsp(0), "tcp", 75)) == 75  # 3 s of stream0
    after, buffers, process, rss = read()
    for stream in ("stream0", "stream1"):
        for role in ("capture", "osd", "encoder", "output"):
            assert after[stream, role] >= before.get((stream, role), 0.0), (stream, role)
        assert after[stream, "encoder"] > before[stream, "encoder"], (before, after)
    assert after["jpeg", "encoder"] > 0
    # The client's RTSP streaming thread (GStreamer's, named after the stream's appsrc) worked.
    assert after.get(("stream0", "rtsp"), 0.0) > 0, after
    # Every thread is counted once: the roles add up to (nearly) the process's CPU.
    total = sum(after.values())
    assert 0.8 * process <= total <= process + 0.1, (total, process)
    # Buffers: 4 NV12 frames per stream and the encoder's stream buffer, and the JPEG stream's.
    assert buffers["stream0"] > 4 * 640 * 360 * 3 // 2, buffers
    assert buffers["stream1"] > 4 * 320 * 180 * 3 // 2, buffers
    assert buffers["jpeg"] > 0
    assert rss > buffers["stream0"] + buffers["stream1"]
    lost = _prometheus(daemon.metrics())["imp_streamer_sim_frames_lost_total"]
    causes = {dict(k)["cause"] for k in lost}
    assert causes in ({"no_buffer", "other"}, {"lost"}), causes


def test_clips_listing_and_paths(daemon: Daemon) -> None:
    status, _, body = http_request(f"{daemon.http}/api/clips")
    assert status == 200 and json.loads(body) == []
    for name in ("motion-x.mp4", "..%2f..%2fetc%2fpasswd", "streamer.toml"):
        assert http_request(f"{daemon.http}/clips/{name}")[0] == 404


def test_web_page_served(daemon: Daemon) -> None:
    status, headers, body = http_request(f"{daemon.http}/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert b'src="mjpeg"' in body and b"api/settings" in body


@pytest.mark.parametrize("creds", [None, (USER, "wrong"), ("admin", PASSWORD), (USER, "")])
def test_wrong_credentials_refused_everywhere(daemon: Daemon, creds: tuple[str, str]) -> None:
    for route in ROUTES:
        status, headers, _ = http_request(f"{daemon.http}{route}", creds=creds)
        assert status == 401, route
        assert headers["WWW-Authenticate"].startswith("Digest")  # the first of two challenges
    status, _, _ = http_request(
        f"{daemon.http}/api/settings", "PATCH", {"osd": {"text": "x"}}, creds=creds
    )
    assert status == 401


def _digest(
    challenge: str, method: str, uri: str, password: str = PASSWORD, nonce: str | None = None
) -> str:
    """An RFC 7616 Authorization value (MD5, qop=auth), computed here as a client does."""
    import hashlib
    import re

    def md5(text: str) -> str:
        return hashlib.md5(text.encode()).hexdigest()

    fields = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
    nonce = nonce or fields["nonce"]
    ha1, ha2 = md5(f"{USER}:{fields['realm']}:{password}"), md5(f"{method}:{uri}")
    response = md5(f"{ha1}:{nonce}:00000001:0a4f113b:auth:{ha2}")
    return (
        f'Digest username="{USER}", realm="{fields["realm"]}", nonce="{nonce}", '
        f'uri="{uri}", qop=auth, nc=00000001, cnonce="0a4f113b", response="{response}"'
    )


def test_digest_auth(daemon: Daemon) -> None:
    """Every 401 offers Digest and Basic; urllib's digest handler gets in; a digest reply is
    refused with a wrong password, for another URI or method, or with a nonce not ours."""
    import urllib.error
    import urllib.request

    mgr = urllib.request.HTTPPasswordMgrWithDefaultRealm()
    mgr.add_password(None, daemon.http, USER, PASSWORD)
    opener = urllib.request.build_opener(urllib.request.HTTPDigestAuthHandler(mgr))
    with opener.open(f"{daemon.http}/api/settings?view=1", timeout=15) as resp:
        assert resp.status == 200 and json.loads(resp.read())["stream0"]["width"] == 640
    with opener.open(f"{daemon.http}/snapshot.jpg", timeout=15) as resp:
        assert decode_jpeg_mark(resp.read())[0] > 0

    def ask(uri: str, authorization: str = "", method: str = "GET") -> tuple[int, list[str]]:
        req = urllib.request.Request(f"{daemon.http}{uri}", method=method)
        if authorization:
            req.add_header("Authorization", authorization)
        try:
            with urllib.request.urlopen(req, timeout=15) as resp:
                return resp.status, []
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers.get_all("WWW-Authenticate") or []

    status, challenges = ask("/api/clips")
    assert status == 401 and [c.split()[0] for c in challenges] == ["Digest", "Basic"]
    digest = challenges[0]
    assert ask("/api/clips", _digest(digest, "GET", "/api/clips"))[0] == 200
    assert ask("/api/clips", _digest(digest, "GET", "/api/clips", password="wrong"))[0] == 401
    assert ask("/api/events", _digest(digest, "GET", "/api/clips"))[0] == 401
    assert ask("/api/settings", _digest(digest, "GET", "/api/settings"), "PATCH")[0] == 401
    forged = _digest(digest, "GET", "/api/clips", nonce="0.00000000000000000000000000000000")
    assert ask("/api/clips", forged)[0] == 401
    for broken in ("Digest", 'Digest username="viewer", response=', "Digest ,,,", "Bearer x"):
        assert ask("/api/clips", broken)[0] == 401


def test_fuzzed_http_requests_do_not_hurt(daemon: Daemon) -> None:
    stats = fuzz_http(daemon.config["http"]["port"], count=300, seed=11)
    assert stats["sent"] == 300 and stats["answered"] > 100
    assert daemon.proc is not None and daemon.proc.poll() is None
    status, _, body = http_request(f"{daemon.http}/snapshot.jpg")
    assert status == 200 and decode_jpeg_mark(body)[0] > 0
    # The fuzzer never had the credentials: nothing was changed.
    settings = json.loads(http_request(f"{daemon.http}/api/settings")[2])
    assert settings["stream0"]["bitrate"] == 800 and settings["osd"]["text"] == ""


def test_requests_in_progress_are_bounded(daemon: Daemon) -> None:
    """max_clients = 6: six MJPEG viewers watching, the seventh request gets 503; once they
    leave, requests are served again."""
    token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    viewers = []
    try:
        for _ in range(6):
            s = socket.create_connection(("127.0.0.1", daemon.config["http"]["port"]), timeout=10)
            s.sendall(
                f"GET /mjpeg HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {token}\r\n\r\n".encode()
            )
            assert s.recv(4096).startswith(b"HTTP/1.1 200"), "viewer not served"
            viewers.append(s)
        assert http_request(f"{daemon.http}/api/settings")[0] == 503
    finally:
        for s in viewers:
            s.close()
    deadline = time.monotonic() + 10
    while http_request(f"{daemon.http}/api/settings")[0] != 200:
        assert time.monotonic() < deadline, "requests stay refused after the viewers left"
        time.sleep(0.2)


def test_logo_and_cover_in_decoded_pixels(daemon: Daemon) -> None:
    """The red PNG logo at the bottom right and the black privacy cover, in decoded ch0 RGB."""
    import av

    container = av.open(daemon.rtsp(0), options={"rtsp_transport": "tcp"}, timeout=30)
    try:
        rgb = next(iter(container.decode(video=0))).to_ndarray(format="rgb24").astype(int)
    finally:
        container.close()
    x, y, w, h = COVER
    cover = rgb[y + 4 : y + h - 4, x + 4 : x + w - 4]
    assert cover.max() <= 40, cover.max()  # black (coding noise aside)
    margin, (lw, lh) = 6, LOGO_SIZE  # overlay.py: margin = max(4, 360 // 60)
    lx, ly = 640 - lw - margin, 360 - lh - margin
    logo = rgb[ly + 3 : ly + lh - 3, lx + 3 : lx + lw - 3].reshape(-1, 3).mean(axis=0)
    assert logo[0] > 180 and logo[1] < 70 and logo[2] < 70, logo
