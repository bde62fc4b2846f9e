#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# bench/droverd-memory.sh [N] — droverd's resident memory while it watches N (default 100)
# HTTP targets on loopback (tests/integration/http-server.py), once a second each, fall 3:
# prints VmRSS and VmHWM after the probes have run for DURATION seconds (default 20).
# Not a test: figures for bench/README.md. BUILD=build-asan etc. selects the build.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-100}
DURATION=${DURATION:-20}
BUILD=${BUILD:-build}
DROVERD=$BUILD/src/daemon/droverd
[ -x "$DROVERD" ] || { echo "build droverd first (ninja -C $BUILD)" >&2; exit 2; }
T=$(mktemp -d /tmp/drover-bench-mem.XXXXXX)
pids=()
cleanup() {
        for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
        for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
        [ "${KEEP:-0}" = 1 ] && echo "kept $T" || rm -rf "$T"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 tests/integration/http-server.py --port "$port" --state-dir "$T" >"$T/http.log" 2>&1 &
pids+=($!)
for i in $(seq 1 50); do
        python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null && break
        sleep 0.1
done

{
        echo "journal: $T/drover.db"
        echo "sites: {bench: {role: primary}, other: {role: backup}}"
        echo "endpoints:"
        echo "  web: {site: bench, url: http://127.0.0.1:$port}"
        echo "monitor:"
        echo "  defaults: {interval: 1s, timeout: 800ms, jitter: 100ms, fall: 3, rise: 2}"
        echo "  probes:"
        for i in $(seq 1 "$N"); do
                echo "    t$i: {kind: http, endpoint: web, path: \"/health?t=$i\", critical: true}"
        done
        echo "levels:"
        echo "  - {name: down, level: red, condition: site-down, subject: bench}"
        echo "  - {name: failing, level: blue, condition: probe-failing, subject: bench}"
} >"$T/drover.yaml"

"$DROVERD" --config "$T/drover.yaml" >"$T/droverd.log" 2>&1 &
dpid=$!
pids+=("$dpid")
sleep "$DURATION"
grep -q "started: watching" "$T/droverd.log" || { cat "$T/droverd.log"; exit 1; }
ups=$(sqlite3 "$T/drover.db" "select count(*) from events where kind = 'health-change' and data_json like '%\"to\":\"up\"%'")
anon=$(awk '/^RssAnon/ {print $2}' "/proc/$dpid/status")
file=$(awk '/^RssFile/ {print $2}' "/proc/$dpid/status")
rss=$(awk '/^VmRSS/ {print $2}' "/proc/$dpid/status")
hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$dpid/status")
buildtype=$(meson introspect --buildoptions "$BUILD" 2>/dev/null |
        python3 -c 'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"]=="buildtype"))' 2>/dev/null || echo "?")
echo "droverd ($BUILD, buildtype $buildtype): $N HTTP targets on loopback, interval 1 s, after ${DURATION} s"
echo "  targets judged up: $ups of $N"
printf "  VmRSS %.1f MB (anonymous %.1f MB, file-backed: shared libraries %.1f MB), VmHWM %.1f MB\n" "$(echo "$rss / 1024" | bc -l)" "$(echo "$anon / 1024" | bc -l)" "$(echo "$file / 1024" | bc -l)" "$(echo "$hwm / 1024" | bc -l)"
