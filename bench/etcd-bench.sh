#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# bench/etcd-bench.sh [RUNS] — the cluster's two costs on a real 3-member etcd 3.4 on
# loopback (tests/integration/lib-etcd.sh), driven by tests/test-etcd-election:
#   1. a fenced step write (one etcd txn comparing the leader key, putting the step
#      record): median, p95 and max over N writes (N=$WRITES, default 1000); goal ≤ 5 ms;
#   2. leader takeover after kill -9 of the leader at lease TTL 5 s, three participants:
#      from the kill to the moment another participant reports itself leader; RUNS
#      takeovers (default 5), each printed, then median and max; goal ≤ TTL + 1 s = 6 s.
# Environment: BUILD (default $DROVER_BUILD_ROOT, else ./build), WRITES, TTL (default 5),
# ETCD_TMP (where etcd's data goes, default /tmp: a disk here, so every write pays etcd's
# fsync; ETCD_TMP=/dev/shm shows the cost without the disk).
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-${DROVER_BUILD_ROOT:-$SRC/build}}
RUNS=${1:-5}
WRITES=${WRITES:-1000}
TTL=${TTL:-5}
DRIVER=$BUILD/tests/test-etcd-election
[ -x "$DRIVER" ] || { echo "etcd-bench: build first (ninja -C build)" >&2; exit 2; }
command -v etcd >/dev/null || { echo "etcd-bench: etcd-server is not installed" >&2; exit 2; }
OUT=$(mktemp -d "${ETCD_TMP:-/tmp}/etcd-bench.XXXXXX")
declare -A PART
lab_free_port() {
        python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
# shellcheck source=../tests/integration/lib-etcd.sh
. "$SRC/tests/integration/lib-etcd.sh"
cleanup() {
        local n
        for n in "${!PART[@]}"; do kill -KILL "${PART[$n]}" 2>/dev/null || true; wait "${PART[$n]}" 2>/dev/null || true; done
        etcd_cleanup
        [ "${KEEP:-0}" = 1 ] && echo "kept $OUT" || rm -rf "$OUT"
}
trap cleanup EXIT

etcd_cluster_start "$OUT/etcd"
PREFIX=/drover/bench

start_part() { # NODE
        "$DRIVER" elect "$1" "$PREFIX" "$TTL" "$OUT/$1.status" "${ETCD_ENDPOINTS[@]}" 2>>"$OUT/$1.log" &
        PART[$1]=$!
}
role_of() { cut -d' ' -f1 "$OUT/$1.status" 2>/dev/null || echo none; }
epoch_of() { cut -d' ' -f3 "$OUT/$1.status" 2>/dev/null || echo 0; }
leader_among() { local n; for n in "$@"; do [ "$(role_of "$n")" = leader ] && echo "$n"; done; return 0; }
wait_leader() { # NODES... -> prints the leader
        local i l
        for i in $(seq 1 3000); do
                l=$(leader_among "$@")
                [ -n "$l" ] && { echo "$l"; return 0; }
                sleep 0.01
        done
        return 1
}

# 1. fenced step writes, as the elected leader
start_part solo
L=$(wait_leader solo)
E=$(epoch_of "$L")
"$DRIVER" bench-fence "$WRITES" "$L" "$E" "$PREFIX" "${ETCD_ENDPOINTS[@]}"
kill -TERM "${PART[solo]}"; wait "${PART[solo]}" 2>/dev/null || true; unset "PART[solo]"

# 2. takeover after kill -9
times=()
for run in $(seq 1 "$RUNS"); do
        for n in "${!PART[@]}"; do kill -KILL "${PART[$n]}" 2>/dev/null || true; wait "${PART[$n]}" 2>/dev/null || true; done
        PART=()
        rm -f "$OUT"/*.status
        # the previous run's killed leader key must be gone before a fresh start
        for n in a b c; do start_part "$n"; done
        L=$(wait_leader a b c)
        # let every lease settle into its keepalive rhythm (the kill lands at a random phase)
        sleep "$(awk -v s="$RANDOM" -v t="$TTL" 'BEGIN { printf "%.2f", 1 + (s % 1000) / 1000 * t / 3 }')"
        REST=(); for n in a b c; do [ "$n" != "$L" ] && REST+=("$n"); done
        t0=$(date +%s.%N)
        exec 3>&2 2>/dev/null # no "Killed" job notices
        kill -KILL "${PART[$L]}"
        N=$(wait_leader "${REST[@]}") || { echo "run $run: no takeover" >&2; exit 1; }
        t1=$(date +%s.%N)
        wait "${PART[$L]}" 2>/dev/null || true; unset "PART[$L]"
        exec 2>&3 3>&-
        dt=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
        echo "takeover run $run: $L killed, $N leads after $dt s"
        times+=("$dt")
done
printf '%s\n' "${times[@]}" | sort -n | awk -v ttl="$TTL" '{ a[NR] = $1 } END {
        printf "leader takeover after kill -9 (TTL %ss, %d runs): median %.2f s, max %.2f s (goal <= %d s)\n",
                ttl, NR, a[int((NR + 1) / 2)], a[NR], ttl + 1 }'
