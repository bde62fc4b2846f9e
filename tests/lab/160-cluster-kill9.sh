#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tests/lab/160-cluster-kill9.sh — issue 9 test 1: a real droverd in each of primary,
# backup and witness (`lab.sh droverd up`, the lab's 3-member etcd, lease 5 s). One leads,
# the two others follow it. kill -9 of the idle leader's droverd: another node is elected
# (its journal says cluster-elected in a newer epoch, the last one follows it), and
# nothing runs anywhere (no run row in any node's journal). Bounded polling, no timing
# assertion (bench/cluster-takeover.sh measures the takeover).
source "$(dirname "$0")/lab-test-lib.sh"
source "$(dirname "$0")/cluster-lib.sh"
lab_fresh
cluster_up

check "one droverd leads, the two others follow it" wait_until 300 agreed "${NODES[@]}"
L1=$(leaders "${NODES[@]}")
E1=$(prop "$L1" ClusterEpoch)
echo "# leader $L1 epoch $E1"
REST=()
for n in "${NODES[@]}"; do [ "$n" != "$L1" ] && REST+=("$n"); done
members_all() { [ "$(prop "${REST[0]}" ClusterMembers)" = "3 backup primary witness" ]; }
check "every node's presence is listed (ClusterMembers)" wait_until 100 members_all
assert_eq "$L1 journaled cluster-elected with its epoch" "$E1" \
        "$(nsql "$L1" "select json_extract(data_json, '\$.epoch') from events where kind = 'cluster-elected' order by id desc limit 1")"
for n in "${REST[@]}"; do
        assert_eq "$n journaled that it follows $L1" "$L1" \
                "$(nsql "$n" "select json_extract(data_json, '\$.leader') from events where kind = 'cluster-following' order by id desc limit 1")"
done

"$LABSH" droverd kill "$L1" >/dev/null
new_leader() { agreed "${REST[@]}" && [ "$(prop "$(leaders "${REST[@]}")" ClusterEpoch)" -gt "$E1" ]; }
check "after kill -9 of $L1, one of ${REST[*]} leads in a newer epoch, the other follows" wait_until 300 new_leader
L2=$(leaders "${REST[@]}")
E2=$(prop "$L2" ClusterEpoch)
echo "# new leader $L2 epoch $E2"
assert_eq "$L2 journaled cluster-elected in epoch $E2" "$L2 $E2" \
        "$(nsql "$L2" "select json_extract(data_json, '\$.node') || ' ' || json_extract(data_json, '\$.epoch') from events where kind = 'cluster-elected' order by id desc limit 1")"
gone_from_members() { [ "$(prop "$L2" ClusterMembers)" = "2 ${REST[0]} ${REST[1]}" ]; }
check "$L1's presence is gone from ClusterMembers" wait_until 150 gone_from_members
out=$(ctl_on "$L2" status 2>&1) || true
assert_contains "droverctl status on $L2 says it leads" "$out" "role     leader"
assert_eq "nothing ran on any node" 0 "$(total_runs)"

"$LABSH" droverd start "$L1" >/dev/null
rejoined() { agreed "${NODES[@]}" && [ "$(leaders "${NODES[@]}")" = "$L2" ]; }
check "$L1 restarted follows $L2 (a restart does not take the lead back)" wait_until 300 rejoined
assert_eq "still nothing ran on any node" 0 "$(total_runs)"
"$LABSH" droverd down >/dev/null
lab_done
