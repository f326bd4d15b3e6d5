#!/usr/bin/env bash
# Boots the distribution's systemd (252 on Debian 12) as PID 1 of its own PID and mount namespace
# (systemd-nspawn) and checks the shipped units there, exactly as shipped: socket activation by
# the first client, the daemon's STATUS text, a request on a real model loading a worker under
# the hardening, reload (RELOADING…READY) without dropping a connection, the watchdog restarting
# a stopped daemon, the journal's structured fields, a draining stop, a worker killed with
# SIGKILL leaving the service up, and no warning at start.
#
# Isolation: systemd's boot runs systemd-tmpfiles, which empties /tmp and touches /var and /run of
# whatever file system it sees. The booted systemd therefore gets a root of its own: a tmpfs in a
# private mount namespace (this script re-runs itself under `unshare --mount`), holding empty
# /etc, /var, /tmp and /run, with only the machine's /usr, the Swift runtime's folder and the
# real models bind-mounted read-only. It never sees the machine's /, /tmp, /var, /run or the
# folder this runs in; nspawn itself runs with a private /run too. Canary files in the machine's
# /tmp, /var/tmp and /run are checked before and after.
#
#   scripts/check-systemd.sh [--build-dir .build/debug] [--models /var/lib/kanso/models]
#
# Needs root, systemd-nspawn (systemd-container; scripts/install-dependencies.sh installs it) and
# a built kansod and kansoctl. Where the machine cannot boot a container it prints
# "SKIPPED: <reason>" and exits 0; a failed check exits 1.
set -uo pipefail
cd "$(dirname "$0")/.."
repository=$(pwd)

build=.build/debug
models=/var/lib/kanso/models
while [ $# -gt 0 ]; do
    case $1 in
        --build-dir) build=$2; shift ;;
        --models) models=$2; shift ;;
        *) echo "usage: scripts/check-systemd.sh [--build-dir DIR] [--models DIR]" >&2; exit 64 ;;
    esac
    shift
done

skip() { echo "SKIPPED: $*"; exit 0; }

if [ -z "${KANSO_CHECK_INSIDE:-}" ]; then
    [ "$(id -u)" -eq 0 ] || skip "booting systemd in a namespace needs root"
    command -v systemd-nspawn >/dev/null || skip "systemd-nspawn is not installed (Debian: systemd-container; scripts/install-dependencies.sh)"
    command -v unshare >/dev/null || skip "unshare (util-linux) is not installed"
    for program in kansod kansoctl; do
        [ -x "$build/$program" ] || skip "$build/$program is not built (swift build)"
    done
    unshare --mount --propagation private true 2>/dev/null || skip "this machine does not allow a private mount namespace"
    # Canaries on the machine's own file systems: they must survive the boot.
    canary=kanso-check-systemd-canary-$$
    canaries=(/tmp/$canary /var/tmp/$canary /run/$canary)
    for file in "${canaries[@]}"; do echo canary > "$file"; done
    KANSO_CHECK_INSIDE=1 KANSO_CHECK_CANARY=$canary unshare --mount --propagation private "$0" --build-dir "$build" --models "$models"
    status=$?
    for file in "${canaries[@]}"; do
        if [ "$(cat "$file" 2>/dev/null)" != canary ]; then
            echo "FAIL isolation: the canary $file did not survive"
            status=1
        fi
        rm -f "$file"
    done
    [ $status -eq 0 ] && echo "isolation: canaries in /tmp, /var/tmp and /run survived"
    exit $status
fi

# ---- From here on: inside the private mount namespace. ----
failures=0
pass() { echo "ok    $*"; }
fail() { echo "FAIL  $*"; failures=$((failures + 1)); }

# A private /run: nspawn keeps its own state under the host's /run; this keeps it off the machine's.
mount -t tmpfs -o mode=0755 tmpfs /run || skip "cannot mount a tmpfs (no CAP_SYS_ADMIN?)"
base=/run/kanso-check
root=$base/root
mkdir -p "$root"/{etc,var/tmp,var/lib/kanso/models,run,tmp,proc,sys,dev,usr,root,home,kanso-check}
chmod 1777 "$root/tmp" "$root/var/tmp"
for link in bin lib lib64 sbin; do [ -L "/$link" ] && ln -s "$(readlink "/$link")" "$root/$link"; done
cp /usr/lib/os-release "$root/etc/os-release"
mount --bind /usr "$root/usr" && mount -o remount,bind,ro "$root/usr"
# The Swift runtime the binaries link against, where their RUNPATH says.
runtime=$(ldd "$build/kansod" | sed -n 's/.*libswiftCore.so => \(.*\)\/libswiftCore.so.*/\1/p')
if [ -n "$runtime" ] && [ "${runtime#/usr/}" = "$runtime" ]; then
    mkdir -p "$root$runtime" && mount --bind "$runtime" "$root$runtime" && mount -o remount,bind,ro "$root$runtime"
fi
mount -t tmpfs -o mode=0755 tmpfs "$root/usr/local/bin"
cp "$build/kansod" "$build/kansoctl" "$root/usr/local/bin/"
mount -o remount,ro "$root/usr/local/bin"
model=SmolLM2-135M-Instruct.Q4_1.gguf
if [ -f "$models/$model" ]; then
    mount --bind "$models" "$root/var/lib/kanso/models" && mount -o remount,bind,ro "$root/var/lib/kanso/models"
else
    echo "note: $models/$model is missing (scripts/install-models.sh): the real-model checks will fail"
fi

# Throwaway check before the boot: the container sees its own /tmp and /run, not the machine's.
if systemd-nspawn -q -D "$root" --register=no --keep-unit /bin/sh -c \
        "test ! -e /tmp/$KANSO_CHECK_CANARY && test ! -e /run/$KANSO_CHECK_CANARY && test ! -e '$repository'" 2>/dev/null; then
    pass "isolation: the container sees neither the machine's /tmp and /run nor $repository"
else
    echo "SKIPPED: systemd-nspawn cannot run a container here, or the container saw the machine's files"
    exit 0
fi

console=$base/console.log
# A container's PID 1 cannot raise a hard resource limit as a real PID 1 does (it has no
# CAP_SYS_RESOURCE), and nspawn's --rlimit= is applied after it drops that capability: the
# container inherits these hard limits, the ones a real boot gives services, so that the unit's
# LimitNOFILE= and LimitNICE= apply as they would on a machine.
{ ulimit -H -n 524288 && ulimit -S -n 1024 && ulimit -H -e 40; } 2>/dev/null \
    || echo "note: this machine lets no process raise a hard limit (no CAP_SYS_RESOURCE): LimitNOFILE= and LimitNICE= are capped at $(ulimit -H -n) files and nice $(( 20 - $(ulimit -H -e) ))"
systemd-nspawn -q -D "$root" --register=no --keep-unit --console=read-only -b -- systemd.firstboot=no > "$console" 2>&1 &
nspawn=$!
leader=
for _ in $(seq 100); do
    leader=$(pgrep -P $nspawn -x systemd | head -1)
    [ -n "$leader" ] && break
    sleep 0.1
done
[ -n "$leader" ] || { tail -20 "$console"; echo "SKIPPED: systemd did not start in the container"; kill $nspawn; exit 0; }
inside() { nsenter -t "$leader" -a "$@"; }
shutdown_container() {
    inside systemctl poweroff >/dev/null 2>&1
    for _ in $(seq 300); do kill -0 $nspawn 2>/dev/null || return; sleep 0.1; done
    kill $nspawn
}
trap shutdown_container EXIT

# The manager answers once its private socket is up; then wait for the boot to settle.
state=
for _ in $(seq 300); do
    state=$(inside systemctl is-system-running --wait 2>/dev/null) && break
    [ -n "$state" ] && break
    sleep 0.1
done
[ -n "$state" ] || { tail -20 "$console"; echo "SKIPPED: systemd in the container did not come up"; exit 0; }
echo "booted: $(inside systemctl --version | head -1) as PID 1 of its own namespaces, system $state"

# Install as README's "Running under systemd" says, into the container's own /etc.
mkdir -p "$root/etc/systemd/system" "$root/etc/sysusers.d" "$root/etc/kanso/agents"
cp units/kansod.socket units/kansod.service "$root/etc/systemd/system/"
cp units/sysusers.d/kanso.conf "$root/etc/sysusers.d/kanso.conf"
# One agent on a real model (the shipped ones may name models this machine does not have, which
# the daemon rightly warns about at start).
cat > "$root/etc/kanso/agents/check-smollm2.toml" <<EOF
name = "check-smollm2"
task = "predict"
model = "$model"
prompt = "{text}"
max_tokens = 24
[sampling]
temperature = 0
EOF
# The stream that `systemctl stop` drains below: long enough to be in flight when it comes.
cat > "$root/etc/kanso/agents/check-stream.toml" <<EOF
name = "check-stream"
task = "predict"
model = "$model"
prompt = "{text}"
max_tokens = 200
[sampling]
temperature = 0
EOF
inside systemd-sysusers >/dev/null 2>&1
inside getent passwd kansod >/dev/null && pass "systemd-sysusers created kansod from units/sysusers.d/kanso.conf" || fail "no kansod user"
# The first start would chown /var/lib/kanso to kansod, models included; the models here are a
# read-only bind mount, so the folder itself is given to kansod beforehand.
inside sh -c 'chown kansod:kansod /var/lib/kanso && chmod 0750 /var/lib/kanso'
inside systemctl daemon-reload

service() { inside systemctl show -p "$1" --value kansod.service; }
journal() { inside journalctl --no-pager -q "$@"; }

# 1. Socket activation by the first client.
inside systemctl start kansod.socket
[ "$(inside systemctl is-active kansod.socket)" = active ] && pass "kansod.socket is listening" || fail "kansod.socket is not active"
[ "$(inside systemctl is-active kansod.service)" = inactive ] && pass "kansod.service waits for a client" \
    || fail "kansod.service started before any client"
if inside kansoctl status > "$base/status.txt" 2>&1 && [ "$(inside systemctl is-active kansod.service)" = active ]; then
    pass "the first client connection started kansod.service"
else
    fail "the first client did not start kansod.service: $(cat "$base/status.txt")"
fi

# 2. The daemon's STATUS text and the service's state.
status_text=$(service StatusText)
[[ $status_text == *"socket-activated fd 3 (varlink)"* ]] && pass "StatusText from the daemon: $status_text" \
    || fail "StatusText is \"$status_text\""
[ "$(service SubState)" = running ] && pass "kansod.service active (running), pid $(service MainPID)" || fail "SubState is $(service SubState)"

# 3. A request on a real model loads a worker under the hardening.
answer=$(inside kansoctl predict check-smollm2 "The capital of France is" 2>&1)
workers() { inside pgrep -f '^/usr/local/bin/kansod worker'; }
if [ -n "$answer" ] && [ -n "$(workers)" ]; then
    pass "$model answered under the hardening (\"$(echo $answer | cut -c1-60)…\"), workers $(workers | tr '\n' ' ')"
else
    fail "no answer from $model: $answer"
fi
limits=$(inside sh -c "grep -E 'open files|nice priority' /proc/$(service MainPID)/limits" | tr -s ' ' | tr '\n' ';')
echo "      limits of the daemon: $limits"
hardening=$(service MemoryDenyWriteExecute)/$(service NoNewPrivileges)/$(service ProtectSystem)/$(service PrivateNetwork)
[ "$hardening" = "yes/yes/strict/yes" ] && pass "running with MemoryDenyWriteExecute, NoNewPrivileges, ProtectSystem=strict, PrivateNetwork" \
    || fail "hardening in force: $hardening"

# 4. No warning at start: nothing at warning level or above from the daemon or its first worker,
# and no "Failed to set thread priority" notice from Dispatch, which gives its threads nice values
# down to -4 (LimitNICE=-4 allows them). That needs the hard RLIMIT_NICE PID 1 raises for the
# service, which a PID 1 without CAP_SYS_RESOURCE (a container on a machine that withholds it
# even from root) cannot: then the notices are expected and the check says so.
warnings=$(journal -p warning -o cat SYSLOG_IDENTIFIER=kansod + SYSLOG_IDENTIFIER=kansod-worker)
priority=$(journal -u kansod.service -o cat | grep -c "Failed to set thread priority")
nice_limit=$(inside sh -c "sed -n 's/^Max nice priority *\([0-9]*\).*/\1/p' /proc/$(service MainPID)/limits")
[ -z "$warnings" ] && pass "no warning from kansod or its workers at start" || fail "warnings at start: $warnings"
if [ "$(service LimitNICE)" != 24 ]; then
    fail "the unit does not ask for LimitNICE=-4 (LimitNICE=$(service LimitNICE))"
elif [ "${nice_limit:-0}" -ge 24 ]; then
    [ "$priority" -eq 0 ] && pass "no \"Failed to set thread priority\" (RLIMIT_NICE $nice_limit)" \
        || fail "$priority \"Failed to set thread priority\" lines with RLIMIT_NICE $nice_limit"
else
    echo "skip  thread priorities: the unit asks for LimitNICE=-4 but this machine keeps the hard RLIMIT_NICE at $nice_limit (no CAP_SYS_RESOURCE for PID 1), so Dispatch's $priority \"Failed to set thread priority\" notices remain here"
fi

# 5. Reload goes RELOADING…READY; a connection opened before it still answers after it.
cat > "$root/kanso-check/held-connection.py" <<'EOF'
import json, os, socket, time
s = socket.socket(socket.AF_UNIX)
s.connect("/run/kansod/kansod.sock")
def call(method):
    s.sendall(json.dumps({"method": method}).encode() + b"\0")
    data = b""
    while not data.endswith(b"\0"):
        chunk = s.recv(65536)
        if not chunk: return "closed"
        data += chunk
    return "ok" if b'"error"' not in data else data.decode()
first = call("org.varlink.service.GetInfo")
open("/kanso-check/held-ready", "w").close()
while not os.path.exists("/kanso-check/held-go"): time.sleep(0.05)
print(first, call("org.varlink.service.GetInfo"))
EOF
inside /usr/bin/python3 /kanso-check/held-connection.py > "$base/held.txt" 2>&1 &
holder=$!
for _ in $(seq 100); do [ -e "$root/kanso-check/held-ready" ] && break; sleep 0.1; done
since=$(inside date +%s)
if inside systemctl reload kansod.service; then
    touch "$root/kanso-check/held-go"
    wait $holder
    reloading=$(journal -u kansod.service --since "@$since" | grep -c "Reloading\|reloaded manifests")
    if [ "$(cat "$base/held.txt")" = "ok ok" ] && [ "$reloading" -ge 1 ] && [[ $(service StatusText) == *reloaded* ]]; then
        pass "systemctl reload: RELOADING…READY (\"$(service StatusText)\"); the connection held across it still answers"
    else
        fail "reload: held connection says \"$(cat "$base/held.txt")\", status \"$(service StatusText)\""
    fi
else
    touch "$root/kanso-check/held-go"
    fail "systemctl reload failed: $(journal -u kansod.service -n 10)"
fi

# 6. A worker killed with SIGKILL does not take the service down (OOMPolicy=continue).
before=$(service MainPID)
worker=$(workers | head -1)
if [ -n "$worker" ]; then
    inside kill -KILL "$worker"
    sleep 1
    again=$(inside kansoctl predict check-smollm2 "The capital of France is" 2>&1)
    if [ "$(inside systemctl is-active kansod.service)" = active ] && [ "$(service MainPID)" = "$before" ] && [ -n "$again" ]; then
        pass "SIGKILL of worker $worker: the service stays up (pid $before) and the next request is answered"
    else
        fail "after SIGKILL of worker $worker: $(inside systemctl is-active kansod.service), pid $(service MainPID), answer \"$again\""
    fi
else
    fail "no worker process found to kill"
fi

# 7. The journal's structured fields.
fields=$(journal -u kansod.service -o verbose | grep -Eo '^ +(SOCKET|ACTIVATION|MODEL|MODEL_STATE|AGENTS)=' | sort -u | tr -d ' =' | tr '\n' ' ')
[[ $fields == *SOCKET* && $fields == *MODEL* ]] && pass "journal fields: $fields" || fail "structured fields missing: \"$fields\""

# 8. SIGSTOP of the daemon: the watchdog (WatchdogSec=30) restarts it.
stopped=$(service MainPID)
since=$(inside date +%s)
inside kill -STOP "$stopped"
restarted=
for _ in $(seq 150); do
    sleep 1
    now=$(service MainPID)
    if [ "$now" != "$stopped" ] && [ "$now" != 0 ] && [ "$(inside systemctl is-active kansod.service)" = active ]; then restarted=$now; break; fi
done
if [ -n "$restarted" ] && journal -u kansod.service --since "@$since" | grep -q "Watchdog timeout"; then
    pass "SIGSTOP of pid $stopped: watchdog timeout, restarted as pid $restarted after $(( $(inside date +%s) - since )) s"
    inside kansoctl status > /dev/null 2>&1 && pass "the restarted daemon answers" || fail "the restarted daemon does not answer"
else
    fail "no watchdog restart within 150 s: $(journal -u kansod.service --since "@$since" | tail -5)"
fi

# 9. systemctl stop drains: a stream in flight ends with its reply or ShuttingDown, the exit is clean.
cat > "$root/kanso-check/stream.py" <<'EOF'
import json, socket
s = socket.socket(socket.AF_UNIX)
s.connect("/run/kansod/kansod.sock")
s.sendall(json.dumps({"method": "io.kanso.Agents.Predict", "more": True,
    "parameters": {"agent": "check-stream", "text": "Once upon a time", "maxTokens": 200}}).encode() + b"\0")
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk: break
    data += chunk
last = [m for m in data.split(b"\0") if m][-1] if data else b""
print("ShuttingDown" if b"ShuttingDown" in last else "done" if b'"done":true' in last else "cut: " + last.decode()[:200])
EOF
inside /usr/bin/python3 /kanso-check/stream.py > "$base/stream.txt" 2>&1 &
streamer=$!
sleep 2
since=$(inside date +%s)
inside systemctl stop kansod.service 2>/dev/null  # (its note that the socket can start it again)
wait $streamer
result=$(service Result)
if [[ "$(cat "$base/stream.txt")" =~ ^(ShuttingDown|done)$ ]] && [ "$result" = success ] \
        && journal -u kansod.service --since "@$since" | grep -q "draining"; then
    pass "systemctl stop drained: the stream in flight ended with \"$(cat "$base/stream.txt")\", result $result"
else
    fail "stop: stream \"$(cat "$base/stream.txt")\", result $result"
fi

echo
echo "kansod's journal in the container (last 12 lines):"
journal -u kansod.service -o short-monotonic -n 12 | sed 's/^/  /'
if [ $failures -gt 0 ]; then
    echo "$failures checks failed"
    exit 1
fi
echo "every systemd check passed"
