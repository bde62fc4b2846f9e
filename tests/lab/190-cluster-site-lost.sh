#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tests/lab/190-cluster-site-lost.sh — issue 9 test 2 with real droverds: the primary site
# is lost with the leading droverd in it, under customer load. The primary node's droverd
# is started first so that it leads; backup and witness follow. `lab.sh fault site-down
# primary` takes the site (its droverd and its etcd member with it): a survivor is
# elected, detects the primary down, runs site-switchover automatically (trigger auto,
# actor policy); customers are served from the backup site again and no transfer the
# workload saw acknowledged is missing from the backup database. Exactly one node ran it.
source "$(dirname "$0")/lab-test-lib.sh"
source "$(dirname "$0")/cluster-lib.sh"
lab_fresh
cluster_up_led_by primary
E1=$(prop primary ClusterEpoch)
up_on() { sql_nonzero_node "$1" "select count(*) from events where kind = 'health-change' and data_json like '%\"target\":\"primary-app\"%' and data_json like '%\"to\":\"up\"%'"; }
check "backup and witness judged primary-app up" wait_until 300 eval 'up_on backup && up_on witness'

"$LABSH" workload start 20 >/dev/null
sleep 3 # customer load before the fault (not a timed assertion)
assert_eq "customers served by the primary before the fault" primary "$(gateway_active)"
t0=$(date +%s.%N)
"$LABSH" fault site-down primary >/dev/null

survivor_leads() { [ -n "$(leaders backup witness)" ] && [ "$(prop "$(leaders backup witness)" ClusterEpoch)" -gt "$E1" ]; }
check "a survivor leads in a newer epoch" wait_until 300 survivor_leads
L2=$(leaders backup witness)
echo "# new leader $L2"
ran() { sql_nonzero_node "$L2" "select count(*) from runs where trigger = 'auto' and outcome <> 'running'"; }
check "$L2 ran the switchover automatically, to its end" wait_until 900 ran
assert_eq "the automatic run succeeded" "site-switchover|policy|succeeded" \
        "$(nsql "$L2" "select playbook, actor, outcome from runs where trigger = 'auto'")"
assert_eq "the gateway serves from the backup site" backup "$(gateway_active)"
sleep 3 # customers after the switchover (not a timed assertion)
"$LABSH" workload stop >/dev/null
assert_eq "customers were served again after the switchover" True "$(report_field recovered --since "$t0")"
echo "# customer outage (fault → first good transfer, the workload's measure): $(report_field outage_s --since "$t0") s"
assert_eq "0 acknowledged transfers lost" 0 "$(lost_transfers backup)"
assert_eq "exactly one run on all nodes together" 1 "$(total_runs)"
state=$(ip netns exec witness env ETCDCTL_API=3 etcdctl --endpoints http://10.213.0.13:2379 --command-timeout=3s \
        get --print-value-only /drover/lab/state/failover 2>&1 || true)
echo "# failover state in etcd: $state"
assert_eq "$L2 published the failover state: the backup site active, its automatic switchover's start (cooldown)" \
        "backup $L2 True" "$(echo "$state" | python3 -c 'import json,sys; s=json.load(sys.stdin); print(s.get("active_site"), s["node"], s.get("last_auto_switchover_us", 0) > 0)' 2>&1)"
"$LABSH" droverd down >/dev/null
lab_done
