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
# The floor: a process that only loads and initialises droverd's libraries (libcurl with
# OpenSSL, libssh2, SQLite, sd-event) and does nothing else.
if [ -x "$BUILD/bench/lib-floor" ]; then
        floor=$("$BUILD/bench/lib-floor")
        frss=$(awk '/^VmRSS/ {print $2}' <<<"$floor")
        fanon=$(awk '/^RssAnon/ {print $2}' <<<"$floor")
        printf "  floor (libraries loaded and initialised, nothing else): VmRSS %.1f MB (anonymous %.1f MB)\n" \
                "$(echo "$frss / 1024" | bc -l)" "$(echo "$fanon / 1024" | bc -l)"
        printf "  droverd above the floor: %.1f MB for %s targets\n" "$(echo "($rss - $frss) / 1024" | bc -l)" "$N"
fi
# For comparison, what operators would otherwise run to watch the same targets.
if command -v prometheus-blackbox-exporter >/dev/null 2>&1; then
        bport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
        printf 'modules:\n  http_2xx: {prober: http, timeout: 1s}\n' >"$T/bb.yml"
        prometheus-blackbox-exporter --config.file="$T/bb.yml" --web.listen-address="127.0.0.1:$bport" \
                >"$T/bb.log" 2>&1 &
        bpid=$!
        pids+=("$bpid")
        sleep 1
        # One probe of each of the N targets, as one scrape a second would do, for a few seconds.
        for s in 1 2 3 4 5; do
                for i in $(seq 1 "$N"); do
                        echo "url = \"http://127.0.0.1:$bport/probe?module=http_2xx&target=127.0.0.1:$port/health%3Ft%3D$i\""
                        echo "output = /dev/null"
                done >"$T/bb-urls"
                curl -s --max-time 10 -K "$T/bb-urls" || true
                sleep 1
        done
        brss=$(awk '/^VmRSS/ {print $2}' "/proc/$bpid/status")
        printf "  prometheus-blackbox-exporter after probing the same %s targets: VmRSS %.1f MB\n" "$N" \
                "$(echo "$brss / 1024" | bc -l)"
fi
