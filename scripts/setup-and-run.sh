#!/usr/bin/env bash
# A newcomer's first command: installs what is missing, builds a release, and starts kansod in
# the foreground on the shipped agents/ (Ctrl-C stops it). Talk to it from another terminal:
#   .build/release/kansoctl status
# The socket is $KANSO_SOCKET, else /run/kansod/kansod.sock for root, else
# $XDG_RUNTIME_DIR/kansod.sock. Models are looked up beside the manifests, in $KANSO_MODEL_PATH,
# and in ../shared/models when that folder exists (the stories260K test model).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-dependencies.sh
scripts/install-models.sh
swift build -c release --product kansod
swift build -c release --product kansoctl

model_path="${KANSO_MODEL_PATH:-}"
[ -d ../shared/models ] && model_path="${model_path:+$model_path:}$(cd ../shared/models && pwd)"
args=(--agents agents)
[ -n "$model_path" ] && args+=(--model-path "$model_path")
echo "starting kansod on agents/ (stop with Ctrl-C); in another terminal: .build/release/kansoctl status"
exec .build/release/kansod "${args[@]}" "$@"
