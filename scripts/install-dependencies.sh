#!/usr/bin/env bash
# Installs what building, running and testing Kanso needs on a Debian machine (12 or later):
# libsystemd's headers, systemd's tools (systemd-analyze, systemd-socket-activate; systemd-nspawn
# for scripts/check-systemd.sh), and the Python packages the tests and fixture scripts use. Safe to run again: it installs only what
# is missing. Swift itself (6.x) must already be on PATH.
set -euo pipefail

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
pkg-config --exists libsystemd 2>/dev/null || missing+=(libsystemd-dev)
command -v pkg-config >/dev/null || missing+=(pkg-config)
command -v systemd-analyze >/dev/null || missing+=(systemd)
command -v systemd-nspawn >/dev/null || missing+=(systemd-container)
command -v python3 >/dev/null || missing+=(python3 python3-pip)
command -v objdump >/dev/null || missing+=(binutils)  # scripts/check-kernel-isolation.sh
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing Debian packages: ${missing[*]}"
    as_root apt-get update
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
fi

if ! python3 -c 'import varlink, gguf, numpy' 2>/dev/null; then
    echo "installing Python packages: varlink gguf numpy"
    python3 -m pip install --quiet varlink gguf numpy || python3 -m pip install --quiet --break-system-packages varlink gguf numpy
fi

command -v swift >/dev/null || { echo "swift is not on PATH: install Swift 6 first (swift.org)" >&2; exit 1; }
