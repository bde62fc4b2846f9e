#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# bench/detection-latency.sh [RUNS] — on the lab (drills/lab, root): how long from a fault
# injected (`lab.sh fault site-down primary`) until droverd has started the automatic
# switchover (the run's start time in the journal), with the lab config's monitoring
# (interval 1 s, jitter 100 ms, timeout 600 ms, fall 3, quorum 2 of [local, from-backup]).
# The red response's playbook is swapped for a no-op switchover playbook so that each run
# only needs the fault cleared, not a new lab. Prints each run and the median (RUNS
# default 7). Not a test: figures for bench/README.md. Holds /run/drover-lab.lock.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-7}
BUILD=${BUILD:-build}
export DROVER_BUILD_ROOT=$PWD/$BUILD
DROVERD=$BUILD/src/daemon/droverd
LABSH=drills/lab/lab.sh
exec 8>/run/drover-lab.lock
flock 8
T=$(mktemp -d /tmp/drover-bench-detect.XXXXXX)
dpid=
cleanup() {
        [ -n "$dpid" ] && { kill "$dpid" 2>/dev/null || true; wait "$dpid" 2>/dev/null || true; }
        "$LABSH" down >/dev/null 2>&1 || true
        [ "${KEEP:-0}" = 1 ] && echo "kept $T" || rm -rf "$T"
}
trap cleanup EXIT

"$LABSH" down >/dev/null 2>&1 || true
"$LABSH" up >"$T/up.log" 2>&1 || { tail "$T/up.log"; exit 1; }
mkdir -p "$T/playbooks"
cp playbooks/vendor-replacement.yaml "$T/playbooks/"
cat >"$T/playbooks/site-switchover.yaml" <<'YAML'
name: site-switchover
description: bench stand-in (does nothing)
kind: switchover
params:
  reason: {type: string, required: true}
steps:
  - name: nothing
    local: {argv: [/bin/true]}
YAML
sed -e "s|^playbook_dir: .*|playbook_dir: $T/playbooks|" -e "s|^journal: .*|journal: $T/drover.db|" \
        /run/drover-lab/drover/drover.yaml >"$T/drover.yaml"

q() { sqlite3 -batch -noheader "$T/drover.db" "$1" 2>/dev/null || true; }
wait_q() { # tries query: until it prints something other than "" or 0
        local i v
        for i in $(seq 1 "$1"); do
                v=$(q "$2")
                [ -n "$v" ] && [ "$v" != 0 ] && return 0
                sleep 0.05
        done
        return 1
}
results=()
for run in $(seq 1 "$RUNS"); do
        rm -f "$T/drover.db" "$T/drover.db-wal" "$T/drover.db-shm"
        DROVER_WORKER=$PWD/$BUILD/src/worker/drover-worker "$DROVERD" --config "$T/drover.yaml" >"$T/droverd.$run.log" 2>&1 &
        dpid=$!
        wait_q 400 "select count(*) from events where kind = 'health-change' and data_json like '%\"target\":\"primary-app\"%' and data_json like '%\"to\":\"up\"%'" ||
                { echo "run $run: primary-app never up"; exit 1; }
        sleep "0.$((RANDOM % 10))" # the fault at a random point of the probe interval
        t0=$(($(date +%s%N) / 1000))
        "$LABSH" fault site-down primary >/dev/null
        wait_q 400 "select count(*) from runs" || { echo "run $run: no run started"; tail "$T/droverd.$run.log"; exit 1; }
        started=$(q "select started from runs")
        down=$(q "select at from events where kind = 'health-change' and data_json like '%\"target\":\"primary-app\"%' and data_json like '%\"to\":\"down\"%' order by id limit 1")
        ms=$(((started - t0) / 1000))
        printf "run %d: fault → primary-app down %d ms, fault → switchover started %d ms\n" "$run" \
                $(((down - t0) / 1000)) "$ms"
        results+=("$ms")
        kill "$dpid"
        wait "$dpid" || true
        dpid=
        "$LABSH" fault clear >/dev/null
done
printf '%s\n' "${results[@]}" | sort -n | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2;
        printf "median fault → switchover started: %.0f ms over %d runs (min %d, max %d)\n", m, NR, a[1], a[NR]}'
