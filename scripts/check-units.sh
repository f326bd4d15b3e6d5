#!/bin/sh
# Checks the shipped systemd units the way Tests/KansoSystemdTests/UnitFileTests.swift does,
# for a machine without the Swift toolchain: `systemd-analyze verify` must print nothing and
# `systemd-analyze security --offline` must rate kansod.service 2.0 or lower.
#
# verify requires the ExecStart=/ExecReload= programs to exist, so the units are checked in a
# temporary root holding them, the host's standard units, and executable placeholders.
# Usage: scripts/check-units.sh [units-directory]
set -eu

units=${1:-$(dirname "$0")/../units}
maximum_exposure=20   # systemd's internal 0-100 scale: 20 is the 2.0 it prints

command -v systemd-analyze >/dev/null || { echo "systemd-analyze is not installed" >&2; exit 2; }

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/etc/systemd/system" "$root/usr/lib/systemd"
[ -d /usr/lib/systemd/system ] && cp -a /usr/lib/systemd/system "$root/usr/lib/systemd/"
cp "$units/kansod.service" "$units/kansod.socket" "$root/etc/systemd/system/"

# One placeholder per absolute program named by an Exec*= line (systemd's prefixes removed).
sed -n 's/^Exec[A-Za-z]*=[-@:+!]*\(\/[^ ]*\).*/\1/p' "$units/kansod.service" "$units/kansod.socket" |
    sort -u | while read -r program; do
        mkdir -p "$root$(dirname "$program")"
        printf '#!/bin/sh\nexit 0\n' > "$root$program"
        chmod 755 "$root$program"
    done

status=0
report=$(systemd-analyze verify --man=no --root="$root" \
    "$root/etc/systemd/system/kansod.service" "$root/etc/systemd/system/kansod.socket" 2>&1) || status=1
if [ -n "$report" ]; then
    echo "systemd-analyze verify:" >&2
    echo "$report" >&2
    status=1
else
    echo "verify: clean"
fi

if ! systemd-analyze security --offline=true --no-pager --root="$root" --threshold="$maximum_exposure" \
        "$root/etc/systemd/system/kansod.service" > "$root/security.txt" 2>&1; then
    cat "$root/security.txt" >&2
    status=1
fi
grep 'Overall exposure level' "$root/security.txt" || { echo "no exposure line" >&2; status=1; }
exit $status
