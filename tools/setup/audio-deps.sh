#!/usr/bin/env bash
# System packages for imp.audio.processing, and the WebRTC APM shim built from
# tools/setup/webrtc_apm_shim.cc into a cache outside the checkout. Idempotent and quiet when
# everything is in place (a hash of the shim source names the build). Called by
# tools/bootstrap.sh; override the cache with IMP_AUDIO_CACHE.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE="${IMP_AUDIO_CACHE:-/var/cache/imp-audio}"
if [ -z "${IMP_AUDIO_CACHE:-}" ] && ! mkdir -p "$CACHE" 2>/dev/null; then
    CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/imp-audio"  # not root: the user's cache
fi
SRC="$HERE/webrtc_apm_shim.cc"
PKGS=(libspeexdsp1 libspandsp2 libwebrtc-audio-processing-dev g++)

missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    echo "[audio-deps] installing ${missing[*]}" >&2
    $SUDO apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

HASH="$(sha256sum "$SRC" | cut -c1-16)"
BUILT="$CACHE/$HASH/libimp_webrtc_apm.so"
if [ ! -f "$BUILT" ]; then
    echo "[audio-deps] building the WebRTC APM shim into $CACHE" >&2
    mkdir -p "$CACHE/$HASH"
    g++ -O2 -shared -fPIC -std=c++11 -DWEBRTC_POSIX -DWEBRTC_LINUX \
        -I/usr/include/webrtc_audio_processing "$SRC" -o "$BUILT.tmp" -lwebrtc_audio_processing
    mv "$BUILT.tmp" "$BUILT"
fi
ln -sfn "$BUILT" "$CACHE/libimp_webrtc_apm.so"
