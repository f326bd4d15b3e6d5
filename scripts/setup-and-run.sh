#!/usr/bin/env bash
# A newcomer's first command: installs what is missing, builds a release, and starts kansod in
# the foreground on the shipped agents/ (Ctrl-C stops it). Talk to it from another terminal:
#   .build/release/kansoctl status
# The socket is $KANSO_SOCKET, else /run/kansod/kansod.sock for root, else
# $XDG_RUNTIME_DIR/kansod.sock. Models are looked up beside the manifests, in $KANSO_MODEL_PATH
# (else the daemon's default folders, where scripts/install-models.sh puts the real models), and
# in ../shared/models when that folder exists (the stories260K test model).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-dependencies.sh
scripts/install-models.sh
swift build -c release --product kansod
swift build -c release --product kansoctl

if [ -n "${KANSO_MODEL_PATH:-}" ]; then
    model_path=$KANSO_MODEL_PATH
elif [ -n "${KANSO_MODEL_DIR:-}" ]; then
    model_path=$KANSO_MODEL_DIR
elif [ "$(id -u)" -eq 0 ]; then
    model_path=/var/lib/kanso/models:/usr/share/kanso/models
else
    model_path=$HOME/.local/share/kanso/models:/usr/share/kanso/models
fi
[ -d ../shared/models ] && model_path="$model_path:$(cd ../shared/models && pwd)"
args=(--agents agents)
[ -n "$model_path" ] && args+=(--model-path "$model_path")
echo "starting kansod on agents/ (stop with Ctrl-C); in another terminal: .build/release/kansoctl status"
exec .build/release/kansod "${args[@]}" "$@"
