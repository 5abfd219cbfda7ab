#!/usr/bin/env bash
# System packages for imp-streamer (issue 15): GStreamer's RTSP server and plugins, the headers
# pip needs to build PyGObject (the `rtsp` extra), and Debian's chromium for the web-page test.
# Idempotent: returns at once when every package is installed; otherwise runs apt-get update
# once and installs what is missing. Needs root (or sudo) for the install step only.
set -euo pipefail

PACKAGES=(
    gir1.2-gst-rtsp-server-1.0
    gstreamer1.0-plugins-base
    gstreamer1.0-plugins-good
    gstreamer1.0-plugins-bad
    gstreamer1.0-plugins-ugly
    gstreamer1.0-libav
    gstreamer1.0-rtsp
    gstreamer1.0-tools
    libgirepository1.0-dev
    libcairo2-dev
    pkg-config
    gcc
    chromium
    chromium-driver
)

missing=()
for pkg in "${PACKAGES[@]}"; do
    status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
    [ "$status" = "install ok installed" ] || missing+=("$pkg")
done
[ "${#missing[@]}" -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
    echo "[streamer-deps] missing ${missing[*]} and no apt-get here: install them by hand" >&2
    exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
        echo "[streamer-deps] missing ${missing[*]}: run this script as root" >&2
        exit 1
    fi
fi
echo "[streamer-deps] installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get -o DPkg::Lock::Timeout=900 update -qq >&2
$SUDO apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends "${missing[@]}" >&2
