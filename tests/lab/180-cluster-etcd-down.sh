#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tests/lab/180-cluster-etcd-down.sh — issue 9 test 5 with real droverds: a droverd in each
# of primary, backup and witness. etcd is lost entirely (`lab.sh etcd down`): every node
# is no-quorum. Then the primary site goes down: the nodes still probe and open an
# incident, but the policy proposes instead of running (decision "no cluster quorum:
# nothing automatic") and no node runs anything. A commander's site-switchover through
# the backup node is refused without the override (NoQuorum) and runs with
# `--override-no-quorum`: the gateway serves from the backup site, and the journal has
# the run and a cluster-override event naming the commander.
source "$(dirname "$0")/lab-test-lib.sh"
source "$(dirname "$0")/cluster-lib.sh"
lab_fresh
cluster_up

check "one droverd leads, the two others follow it" wait_until 300 agreed "${NODES[@]}"
primary_up_on_backup() {
        sql_nonzero_node backup "select count(*) from events where kind = 'health-change' and data_json like '%\"target\":\"primary-app\"%' and data_json like '%\"to\":\"up\"%'"
}
check "the backup node judged primary-app up" wait_until 200 primary_up_on_backup

"$LABSH" etcd down >/dev/null
all_no_quorum() { local n; for n in "${NODES[@]}"; do [ "$(prop "$n" ClusterRole)" = no-quorum ] || return 1; done; }
check "etcd down: every node is no-quorum" wait_until 300 all_no_quorum
for n in "${NODES[@]}"; do
        check "$n journaled cluster-no-quorum or cluster-stepped-down" test \
                "$(nsql "$n" "select count(*) from events where kind in ('cluster-no-quorum', 'cluster-stepped-down')")" -ge 1
done

"$LABSH" fault site-down primary >/dev/null
held_back() { # NODE: the policy's decision for a primary incident says no quorum
        sql_nonzero_node "$1" "select count(*) from incident_log l join incidents i on i.id = l.incident_id where i.site = 'primary' and l.kind = 'decision' and l.text like '%no cluster quorum%'"
}
for n in backup witness; do
        check "$n: the primary's incident is decided without quorum: nothing automatic" wait_until 400 held_back "$n"
done
assert_eq "no node ran anything" 0 "$(total_runs)"
assert_eq "customers are still pointed at the primary (nothing switched)" primary "$(gateway_active)"

out=$(ctl_on backup run site-switchover -p reason="commander: etcd is down" 2>&1) && rc=0 || rc=$?
assert_eq "a commander's run without the override is refused (exit 4)" 4 "$rc"
assert_contains "refused with NoQuorum" "$out" "org.drover1.Error.NoQuorum"
assert_eq "still nothing ran" 0 "$(total_runs)"

out=$(ctl_on backup run --detach --override-no-quorum site-switchover -p reason="commander: etcd is down" 2>&1) && rc=0 || rc=$?
assert_eq "with --override-no-quorum the run starts" 0 "$rc"
ended() { sql_nonzero_node backup "select count(*) from runs where outcome <> 'running'"; }
check "the override run ends" wait_until 900 ended
assert_eq "the override run succeeded, by root, manual" "site-switchover|root|manual|succeeded" \
        "$(nsql backup "select playbook, actor, trigger, outcome from runs")"
assert_eq "the gateway now serves from the backup site" backup "$(gateway_active)"
assert_eq "the override is journaled as cluster-override naming the commander" "root site-switchover" \
        "$(nsql backup "select json_extract(data_json, '\$.actor') || ' ' || json_extract(data_json, '\$.playbook') from events where kind = 'cluster-override'")"
assert_eq "the other nodes ran nothing" 0 "$(( $(nsql primary "select count(*) from runs") + $(nsql witness "select count(*) from runs") ))"
"$LABSH" droverd down >/dev/null
lab_done
