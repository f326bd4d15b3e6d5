#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs what is missing, then `swift test`.
# Tests that need ../shared (the stories260K model, tokenizer vocabularies) skip with a message
# when it is absent. Extra arguments go to `swift test` (e.g. --filter Manifest).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-dependencies.sh
swift build --build-tests
swift test --skip-build "$@"
