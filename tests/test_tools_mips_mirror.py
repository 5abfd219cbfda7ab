"""The MIPS tier takes its Debian mirror (and proxy) from the machine's own apt configuration
(issue 10, deliver 8): tools/mips/apt-source.sh asked against made-up apt configurations."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LIB = REPO / "tools" / "mips" / "apt-source.sh"

pytestmark = pytest.mark.skipif(shutil.which("apt-get") is None, reason="needs apt-get")


def _apt_dir(tmp_path: Path, files: dict[str, str], conf: str = "") -> dict[str, str]:
    """An apt configuration of its own (APT_CONFIG), with ``files`` under its Dir::Etc."""
    etc = tmp_path / "etc-apt"
    (etc / "sources.list.d").mkdir(parents=True)
    (etc / "apt.conf.d").mkdir()
    for name, text in files.items():
        (etc / name).write_text(text)
    config = tmp_path / "apt.conf"
    config.write_text(f'Dir::Etc "{etc}/";\nDir::State "{tmp_path}/state/";\n{conf}')
    return {**os.environ, "APT_CONFIG": str(config)}


def _ask(env: dict[str, str], call: str) -> subprocess.CompletedProcess[str]:
    assert LIB.is_file(), f"{LIB} is missing"
    return subprocess.run(
        ["bash", "-c", f'. "{LIB}" && {call}'],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_run_tier_names_no_mirror_address() -> None:
    for script in (REPO / "tools" / "mips" / "run-tier", LIB):
        assert "://" not in script.read_text(), f"{script} hard-codes an address"


def test_one_line_sources_list(tmp_path: Path) -> None:
    env = _apt_dir(
        tmp_path,
        {
            "sources.list": "# local mirror\n"
            "deb http://security.mirror.invalid/debian-security bookworm-security main\n"
            "deb [arch=amd64] http://mirror.invalid/debian/ bookworm main contrib\n"
            "deb-src http://src.mirror.invalid/debian bookworm main\n",
        },
    )
    got = _ask(env, "apt_mirror bookworm")
    assert (got.returncode, got.stdout.strip()) == (0, "http://mirror.invalid/debian"), got.stderr


def test_deb822_sources_and_disabled_entries(tmp_path: Path) -> None:
    env = _apt_dir(
        tmp_path,
        {
            "sources.list.d/debian.sources": "Types: deb\n"
            "URIs: http://security.mirror.invalid/debian-security\n"
            "Suites: bookworm-security\nComponents: main\n\n"
            "Types: deb\nURIs: http://disabled.mirror.invalid/debian\nSuites: bookworm\n"
            "Components: main\nEnabled: no\n\n"
            "Types: deb\nURIs: https://snapshot.mirror.invalid/archive/debian/20250520T000000Z\n"
            "Suites: bookworm bookworm-updates\nComponents: main\n",
        },
    )
    got = _ask(env, "apt_mirror bookworm")
    assert got.stdout.strip() == "https://snapshot.mirror.invalid/archive/debian/20250520T000000Z"


def test_another_release_still_gives_its_archive(tmp_path: Path) -> None:
    """A trixie host: its archive also serves bookworm; security/updates archives do not."""
    env = _apt_dir(
        tmp_path,
        {
            "sources.list": "deb http://updates.mirror.invalid/debian trixie-updates main\n"
            "deb http://mirror.invalid/debian trixie main\n",
        },
    )
    assert _ask(env, "apt_mirror bookworm").stdout.strip() == "http://mirror.invalid/debian"


def test_no_usable_source_fails(tmp_path: Path) -> None:
    env = _apt_dir(
        tmp_path,
        {
            "sources.list": "deb http://security.mirror.invalid/debian-security "
            "bookworm-security main\n"
        },
    )
    got = _ask(env, "apt_mirror bookworm")
    assert got.returncode == 1 and got.stdout == ""


def test_apt_proxy(tmp_path: Path) -> None:
    env = _apt_dir(tmp_path, {}, 'Acquire::http::Proxy "http://proxy.invalid:3142";\n')
    assert _ask(env, "apt_http_proxy").stdout.strip() == "http://proxy.invalid:3142"
    env = _apt_dir(tmp_path / "direct", {}, 'Acquire::http::Proxy "DIRECT";\n')
    assert _ask(env, "apt_http_proxy").stdout.strip() == ""
