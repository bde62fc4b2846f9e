#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# bench/cluster-run-bench.sh [RUNS] — what `cluster:` costs a run (issue 9): the 10-step
# playbook of bench/run-ssh-bench.sh (`true` over SSH on N hosts, one sshd on loopback)
# run by drover-worker as droverd starts it, side by side:
#   standalone   no --cluster-epoch: no fence, no run record (as before issue 9);
#   cluster      --cluster-epoch=E against a real 3-member etcd 3.4 on loopback: the run
#                record is begun, every step start is a fenced txn, every step end a
#                write, and the run's end (21 etcd round trips for 10 steps).
# Prints each run's wall clock and the medians, and the per-step difference. Both columns
# use the same config, journal, sshd and playbook. N hosts: $HOSTS (default 1).
# Environment: BUILD (default ./build), HOSTS, ETCD_TMP (etcd data dir parent; /tmp is a
# disk here, so every etcd write pays its fsync; /dev/shm shows the cost without it).
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
export DROVER_SOURCE_ROOT=$SRC
export DROVER_BUILD_ROOT=${BUILD:-$SRC/build}
RUNS=${1:-5}
HOSTS=${HOSTS:-1}
[ -x "$DROVER_BUILD_ROOT/src/worker/drover-worker" ] || { echo "cluster-run-bench: build first" >&2; exit 2; }
# shellcheck source=../tests/integration/lib.sh
. "$SRC/tests/integration/lib.sh"
# shellcheck source=../tests/integration/lib-etcd.sh
. "$SRC/tests/integration/lib-etcd.sh"
trap 'etcd_cleanup; lab_cleanup' EXIT

lab_start_sshd
lab_config
etcd_cluster_start "${ETCD_TMP:-$LAB}/etcd-$$"
EPS=$(IFS=,; echo "${ETCD_ENDPOINTS[*]}")
{
        echo "cluster:"
        echo "  node: bench"
        echo "  name: bench"
        echo "  endpoints: [$EPS]"
} >>"$LAB/drover.yaml"
{
        echo "name: ten"
        echo "kind: custom"
        echo "targets:"
        echo "  all: {host: h1}"
        echo "steps:"
        for k in $(seq 1 10); do echo "  - name: s$k"; echo "    ssh: {target: all, command: \"true\"}"; done
} >"$LAB/ten.yaml"
ETCDCTL_API=3 etcdctl --endpoints "$EPS" put /drover/bench/leader bench >/dev/null
EPOCH=$(ETCDCTL_API=3 etcdctl --endpoints "$EPS" get /drover/bench/leader -w json |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["kvs"][0]["create_revision"])')

one() { # extra args...: prints seconds
        local t0 t1
        t0=$(date +%s.%N)
        "$DROVER_WORKER" --protocol=1 --parent-pid=$BASHPID --config="$LAB/drover.yaml" --db="$LAB/drover.db" \
                --trigger=manual --actor=bench "$@" -- "$LAB/ten.yaml" </dev/null >"$LAB/out" 2>"$LAB/err" ||
                { echo "cluster-run-bench: run failed" >&2; cat "$LAB/err" >&2; exit 1; }
        t1=$(date +%s.%N)
        python3 -c "print('%.3f' % ($t1 - $t0))"
}
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

one >/dev/null # warm caches (binaries, sshd)
S=() C=()
for i in $(seq 1 "$RUNS"); do
        S+=("$(one)")
        C+=("$(one --cluster-epoch="$EPOCH")")
        echo "run $i: standalone ${S[-1]} s, cluster ${C[-1]} s"
done
ms=$(median "${S[@]}")
mc=$(median "${C[@]}")
echo "10 steps of \`true\` over SSH, drover-worker, median of $RUNS runs (wall clock):"
printf '  standalone %s s   cluster %s s   cluster - standalone = %s ms per step\n' "$ms" "$mc" \
        "$(python3 -c "print('%.1f' % (($mc - $ms) * 1000 / 10))")"
