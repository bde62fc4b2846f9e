#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# bench/cluster-rto-bench.sh [RUNS] — automatic RTO when the primary site is lost with the
# leading droverd in it (issue 9), on the two-site lab with a droverd per node (primary,
# backup, witness; lease TTL 5 s), median of RUNS (default 3) fresh runs. Each run: the
# primary node's droverd is started first so that it leads, customers make 20 transfers/s
# through the gateway, then `lab.sh fault site-down primary` at t0 takes the site, its
# droverd and its etcd member. Nobody touches anything after that. Prints per run:
#   elected   t0 -> a survivor's cluster-elected event
#   run       t0 -> its automatic site-switchover started
#   rto       t0 -> the first customer transfer that started after t0 and was served, OK,
#             by the backup site (from the workload's own log; the issue's goal: <= 10 s)
#   raft      whether the lost site's etcd member was etcd's raft leader: then etcd elects
#             another and renews every lease by its TTL, so the dead droverd's lease lives
#             about a raft election plus a whole TTL after the fault (not a partial TTL)
# then the medians, overall and by that case. Even runs first move etcd's raft leadership
# to the witness's member (`etcdctl move-leader`), so that both cases are measured. Needs root; stops the lab at the end.
# Environment: BUILD (default $DROVER_BUILD_ROOT, else ./build).
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-${DROVER_BUILD_ROOT:-$SRC/build}}
export DROVER_BUILD_ROOT=$BUILD
RUNS=${1:-3}
LABSH="$SRC/drills/lab/lab.sh"
WLOG=/run/drover-lab/workload/workload.log
OUT=$(mktemp -d /tmp/cluster-rto-bench.XXXXXX)
trap '"$LABSH" workload stop >/dev/null 2>&1 || true; "$LABSH" down >/dev/null 2>&1 || true; rm -rf "$OUT"' EXIT
[ -x "$BUILD/src/daemon/droverd" ] || { echo "cluster-rto-bench: build first (meson setup build && ninja -C build)" >&2; exit 2; }
# One lab user at a time (as the lab tests).
exec 8>/run/drover-lab.lock
flock 8

prop() { # NODE PROPERTY
        busctl --address="unix:path=/run/drover-lab/$1/bus.sock" get-property org.drover1 /org/drover1 \
                org.drover1.Manager "$2" 2>/dev/null | sed -E 's/^[a-z]+ //; s/"//g'
}
nsql() { sqlite3 -batch -noheader -cmd ".timeout 10000" "/run/drover-lab/drover/$1.db" "$2" 2>/dev/null; }
wait_for() { # TRIES(0.1 s) COMMAND...
        local n=$1
        shift
        for _ in $(seq 1 "$n"); do "$@" && return 0; sleep 0.1; done
        return 1
}
leads() { [ "$(prop "$1" ClusterRole)" = leader ]; }
up_on() { [ "$(nsql "$1" "select count(*) from events where kind = 'health-change' and data_json like '%\"target\":\"primary-app\"%' and data_json like '%\"to\":\"up\"%'")" != 0 ]; }
survivor_ran() {
        local n
        for n in backup witness; do
                [ "$(nsql "$n" "select count(*) from runs where trigger = 'auto' and outcome <> 'running'")" = 1 ] && return 0
        done
        return 1
}

for i in $(seq 1 "$RUNS"); do
        "$LABSH" down >/dev/null 2>&1 || true
        "$LABSH" up >"$OUT/up.log" 2>&1 || { cat "$OUT/up.log"; exit 1; }
        "$LABSH" etcd up >/dev/null
        "$LABSH" droverd up primary >/dev/null
        wait_for 300 leads primary || { echo "run $i: the primary node's droverd did not lead" >&2; exit 1; }
        "$LABSH" droverd up backup witness >/dev/null
        wait_for 300 eval 'up_on backup && up_on witness' || { echo "run $i: the survivors never saw primary-app up" >&2; exit 1; }
        "$LABSH" workload start 20 >/dev/null
        sleep 3
        if [ $((i % 2)) = 0 ]; then
                eps=http://10.213.0.11:2379,http://10.213.0.12:2379,http://10.213.0.13:2379
                wid=$(ip netns exec witness env ETCDCTL_API=3 etcdctl --endpoints http://10.213.0.13:2379 \
                        endpoint status -w json | python3 -c 'import json,sys; print("%x" % json.load(sys.stdin)[0]["Status"]["header"]["member_id"])')
                ip netns exec witness env ETCDCTL_API=3 etcdctl --endpoints "$eps" move-leader "$wid" >/dev/null 2>&1 || true
                sleep 1
        fi
        raft=$(ip netns exec witness env ETCDCTL_API=3 etcdctl --endpoints http://10.213.0.11:2379 \
                --command-timeout=3s endpoint status -w json |
                python3 -c 'import json,sys; s=json.load(sys.stdin)[0]["Status"]; print("lost" if s["header"]["member_id"] == s["leader"] else "kept")')
        t0=$(date +%s.%N)
        "$LABSH" fault site-down primary >/dev/null
        wait_for 900 survivor_ran || { echo "run $i: no survivor ran the switchover" >&2; exit 1; }
        sleep 2
        "$LABSH" workload stop >/dev/null
        python3 - "$t0" "$raft" "$WLOG" /run/drover-lab/drover/backup.db /run/drover-lab/drover/witness.db \
                >"$OUT/run-$i" <<'PY'
import json, sqlite3, sys
t0, raft = float(sys.argv[1]), sys.argv[2]
sys.argv.pop(2)
first = min((o["t"] for o in map(json.loads, open(sys.argv[2]))
             if o["t"] >= t0 and o["ok"] and o.get("site") == "backup"), default=None)
elected = started = None
for db in sys.argv[3:]:
    c = sqlite3.connect(db, timeout=10)
    e = c.execute("select min(at) from events where kind = 'cluster-elected' and at >= ?", (int(t0 * 1e6),)).fetchone()[0]
    s = c.execute("select min(started) from runs where trigger = 'auto'").fetchone()[0]
    if e is not None and s is not None:
        elected, started = e / 1e6 - t0, s / 1e6 - t0
print(json.dumps({"elected": elected, "run": started, "rto": None if first is None else first - t0, "raft": raft}))
PY
        python3 -c 'import json,sys; o=json.load(open(sys.argv[1])); print("run %s: elected %.2f s, run started %.2f s, rto %.2f s (raft leader %s)" % (sys.argv[2], o["elected"], o["run"], o["rto"], o["raft"]))' \
                "$OUT/run-$i" "$i"
done
python3 - "$OUT" "$RUNS" <<'PY'
import json, statistics, sys
rs = [json.load(open(f"{sys.argv[1]}/run-{i}")) for i in range(1, int(sys.argv[2]) + 1)]
med = lambda k: statistics.median(r[k] for r in rs)
print("primary site lost with its leader, %d runs, medians: elected %.2f s, run started %.2f s, "
      "rto %.2f s (max %.2f s; goal <= 10 s)" % (len(rs), med("elected"), med("run"), med("rto"), max(r["rto"] for r in rs)))
for case, what in (("kept", "etcd's raft leader survived"), ("lost", "etcd's raft leader was lost with the site")):
    c = [r["rto"] for r in rs if r["raft"] == case]
    if c:
        print("  %s: %d runs, rto median %.2f s, min %.2f s, max %.2f s" % (what, len(c), statistics.median(c), min(c), max(c)))
PY
