"""imp-streamer configuration: the TOML contract, overrides, and refusals that name the key."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from imp.streamer import config
from imp.streamer.config import ConfigError

EXAMPLE = Path(config.__file__).with_name("example.toml")


def test_contract_defaults() -> None:
    s = config.load(None)
    assert s["rtsp"]["port"] == 8554 and s["http"]["port"] == 8080
    assert s["rtsp"]["username"] == s["rtsp"]["password"] == ""
    for sec in ("stream0", "stream1"):
        assert {"codec", "width", "height", "fps", "bitrate", "gop"} <= set(s[sec])
    assert {"fps", "quality"} <= set(s["jpeg"])
    assert {"enabled", "sensitivity", "pre_roll", "post_roll", "clips_dir"} <= set(s["motion"])
    assert {"enabled", "codec"} <= set(s["audio"]) and {"clock", "text"} <= set(s["osd"])


def test_example_file_lists_every_key_with_its_default() -> None:
    with open(EXAMPLE, "rb") as f:
        data = tomllib.load(f)
    assert {sec: set(keys) for sec, keys in data.items()} == {
        sec: set(keys) for sec, keys in config.SCHEMA.items()
    }
    assert config.load(EXAMPLE) == config.load(None)


@pytest.mark.parametrize(
    ("toml", "needle"),
    [
        ("[stream0]\nbitrat = 5\n", "stream0.bitrat"),
        ("[stream9]\nfps = 5\n", "[stream9]"),
        ('[stream0]\ncodec = "vp8"\n', "stream0.codec"),
        ("[stream0]\nwidth = 641\n", "stream0.width"),
        ('[stream0]\nfps = "25"\n', "stream0.fps"),
        ("[motion]\nsensitivity = 5\n", "motion.sensitivity"),
        ("[motion]\nenabled = 1\n", "motion.enabled"),
        ('[audio]\ncodec = "mp3"\n', "audio.codec"),
        ("[rtsp]\nport = 70000\n", "rtsp.port"),
        ('[rtsp]\nusername = "a"\n', "rtsp.username"),
        ("[osd]\ncovers = [[1, 2, 3]]\n", "osd.covers"),
        ("[stream1]\nenabled = false\n[motion]\nenabled = true\n", "motion.stream"),
        ("stream0 = 5\n", "[stream0]"),
        ("[jpeg\n", "not valid TOML"),
    ],
)
def test_bad_files_are_refused_naming_the_key(tmp_path: Path, toml: str, needle: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError) as err:
        config.load(path)
    assert needle in str(err.value)


def test_overrides() -> None:
    s = config.load(None)
    texts = ("stream0.bitrate=1500", 'osd.text="hi there"', "osd.text=hello", "osd.clock=false")
    for text in texts:
        s = config.merge(s, config.parse_override(text))[0]
    assert s["stream0"]["bitrate"] == 1500 and s["osd"]["text"] == "hello"
    assert s["osd"]["clock"] is False
    with pytest.raises(ConfigError, match=r"section\.key=value"):
        config.parse_override("bitrate=5")
    with pytest.raises(ConfigError, match=r"stream0\.bitrate"):
        config.merge(s, config.parse_override("stream0.bitrate=fast"))


def test_merge_reports_changes_and_leaves_the_base_alone() -> None:
    base = config.load(None)
    new, changed = config.merge(base, {"stream0": {"bitrate": 900, "gop": 50}})
    assert changed == ["stream0.bitrate"] and new["stream0"]["bitrate"] == 900
    assert base["stream0"]["bitrate"] == 2000
    assert "stream0.bitrate" in config.live_keys() and "stream0.width" not in config.live_keys()


def test_cli_refuses_a_bad_file_before_starting(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[http]\nprot = 1\n")
    proc = subprocess.run(
        [sys.executable, "-m", "imp.streamer", "--sim", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "http.prot" in proc.stderr


def test_missing_rtsp_engine_is_named(tmp_path: Path) -> None:
    """Without PyGObject (a stand-in `gi` that fails to import) the streamer says what to
    install and exits 3 before touching the camera."""
    fake = tmp_path / "gi"
    fake.mkdir()
    (fake / "__init__.py").write_text("raise ImportError('No module named gi (test stand-in)')\n")
    env = dict(os.environ, PYTHONPATH=f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    proc = subprocess.run(
        [sys.executable, "-m", "imp.streamer", "--sim"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert proc.returncode == 3, proc.stderr
    assert "tools/setup/streamer-deps.sh" in proc.stderr and "PyGObject" in proc.stderr


def test_example_file_marks_exactly_the_live_keys() -> None:
    """`(live)` in example.toml (or `(all live)` on a section) is what PATCH /api/settings
    applies while running: the file users read must not promise more or less."""
    marked: set[str] = set()
    section, section_live = "", False
    for line in EXAMPLE.read_text().splitlines():
        head = line.split("#")[0].strip()
        if head.startswith("["):
            section, section_live = head.strip("[]"), "(all live)" in line
        elif "=" in head and section and (section_live or "(live)" in line):
            marked.add(f"{section}.{head.split('=')[0].strip()}")
    assert marked == config.live_keys()
