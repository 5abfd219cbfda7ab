#!/usr/bin/env bash
# Create/refresh .venv with the project and its dev dependencies. Idempotent and quiet when up
# to date (a stamp keyed on pyproject.toml). Sourced by tools/demo and tools/test.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"

find_python() {
    # pyenv honours .python-version in the checkout; otherwise take the newest python >= 3.12.
    for candidate in python3.13 python3.12 python3; do
        if command -v "$candidate" >/dev/null 2>&1 &&
            (cd "$ROOT" && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))') 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    echo "error: imp needs Python >= 3.12 (3.11's stdlib has its own 'imp' module)" >&2
    return 1
}

if [ ! -x "$VENV/bin/python" ]; then
    PY="$(find_python)"
    echo "[bootstrap] creating .venv with $(cd "$ROOT" && "$PY" --version)" >&2
    (cd "$ROOT" && "$PY" -m venv "$VENV")
fi

STAMP="$VENV/.imp-installed"
HASH="$(sha256sum "$ROOT/pyproject.toml" | cut -d' ' -f1)"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$HASH" ]; then
    echo "[bootstrap] installing imp and its dependencies into .venv" >&2
    "$VENV/bin/python" -m pip install --quiet --upgrade pip >&2
    bash "$ROOT/tools/setup/streamer-deps.sh"  # GStreamer RTSP, PyGObject headers, chromium
    "$VENV/bin/python" -m pip install --quiet -e "$ROOT[dev,rtsp]" >&2
    echo "$HASH" > "$STAMP"
fi
bash "$ROOT/tools/setup/audio-deps.sh"  # libspeexdsp, WebRTC APM shim (imp.audio.processing)
