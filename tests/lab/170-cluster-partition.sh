#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tests/lab/170-cluster-partition.sh — issue 9 test 4 with real droverds: a droverd in each
# of primary, backup and witness (`lab.sh droverd up`). The leader's node is cut from etcd
# only (`lab.sh etcd cut`: it still reaches the sites): its droverd steps down by itself
# (journal cluster-stepped-down, ClusterRole no-quorum) and stops acting — a StartRun there
# is refused (NoQuorum) — while one of the two others is elected in a newer epoch and the
# last follows it, refusing acting calls with NotLeader naming the new leader. Exactly one
# node leads, the old leader stepped down before the new one was elected (journal times,
# one kernel clock), nothing ran. Healed, the old leader follows the new one.
source "$(dirname "$0")/lab-test-lib.sh"
source "$(dirname "$0")/cluster-lib.sh"
lab_fresh
cluster_up
cat >"$LAB/true.yaml" <<'YAML'
name: harmless
description: one local step that acts on nothing
kind: custom
steps:
  - name: noop
    local: {argv: [/bin/true]}
YAML
chmod 755 "$LAB"

check "one droverd leads, the two others follow it" wait_until 300 agreed "${NODES[@]}"
L1=$(leaders "${NODES[@]}")
E1=$(prop "$L1" ClusterEpoch)
echo "# leader $L1 epoch $E1"
REST=()
for n in "${NODES[@]}"; do [ "$n" != "$L1" ] && REST+=("$n"); done

"$LABSH" etcd cut "$L1" >/dev/null
stepped_down() { [ "$(prop "$L1" ClusterRole)" = no-quorum ]; }
check "$L1 cut from etcd steps down by itself (no-quorum)" wait_until 300 stepped_down
check "$L1 journaled cluster-stepped-down" test "$(nsql "$L1" "select count(*) from events where kind = 'cluster-stepped-down'")" -ge 1
newer() { agreed "${REST[@]}" && [ "$(prop "$(leaders "${REST[@]}")" ClusterEpoch)" -gt "$E1" ]; }
check "one of ${REST[*]} leads in a newer epoch, the other follows it" wait_until 300 newer
L2=$(leaders "${REST[@]}")
E2=$(prop "$L2" ClusterEpoch)
F2=$(for n in "${REST[@]}"; do [ "$n" != "$L2" ] && echo "$n"; done; true)
echo "# new leader $L2 epoch $E2, follower $F2"
assert_eq "exactly one node leads" "$L2" "$(leaders "${NODES[@]}")"
assert_eq "$L1 still does not lead" no-quorum "$(prop "$L1" ClusterRole)"

T_DOWN=$(nsql "$L1" "select at from events where kind = 'cluster-stepped-down' order by id limit 1")
T_UP=$(nsql "$L2" "select at from events where kind = 'cluster-elected' order by id desc limit 1")
echo "# $L1 stepped down at $T_DOWN, $L2 elected at $T_UP (µs)"
check "$L1 stepped down before $L2 was elected (never two leaders)" test -n "$T_DOWN" -a -n "$T_UP" -a "${T_DOWN:-0}" -lt "${T_UP:-0}"

out=$(ctl_on "$L1" run "$LAB/true.yaml" 2>&1) && rc=0 || rc=$?
assert_eq "the cut node refuses a run (exit 4)" 4 "$rc"
assert_contains "the cut node says it has no quorum" "$out" "org.drover1.Error.NoQuorum"
out=$(ctl_on "$F2" run "$LAB/true.yaml" 2>&1) && rc=0 || rc=$?
assert_eq "the follower $F2 refuses a run (exit 4)" 4 "$rc"
assert_contains "the follower names the new leader" "$out" "this node follows; the leader is $L2 (epoch $E2)"
out=$(ctl_on "$F2" maintenance primary on 2>&1) && rc=0 || rc=$?
assert_contains "the follower refuses maintenance too, naming the leader" "$out" "the leader is $L2"
out=$(ctl_on "$L1" sites 2>&1) && rc=0 || rc=$?
assert_eq "read calls still answer on the cut node" 0 "$rc"
assert_eq "nothing ran on any node" 0 "$(total_runs)"

"$LABSH" etcd heal "$L1" >/dev/null
follows() { [ "$(prop "$L1" ClusterRole)" = follower ] && [ "$(prop "$L1" ClusterLeader)" = "$L2" ]; }
check "healed, $L1 follows $L2" wait_until 300 follows
assert_eq "and $L2 still leads in epoch $E2" "leader $E2" "$(prop "$L2" ClusterRole) $(prop "$L2" ClusterEpoch)"
"$LABSH" droverd down >/dev/null
lab_done
