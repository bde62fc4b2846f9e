#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tests/lab/200-cluster-kill-mid-run.sh — issue 9 test 3 with real droverds: the leader is
# killed (-9, its worker with it) in the middle of site-switchover. The witness node's
# droverd is started first so that it leads; a commander runs site-switchover through it.
# The backup site's e-bank service is down, so the run holds in its step 4
# 'backup-app-healthy' (a wait, not marked idempotent) after steps 1–3 are done: the
# standby's lag read, the gateway cut (the gateway's own action log), the promotion
# (PostgreSQL's timeline). The leader is killed there. A survivor is elected and takes the
# run over: it does not repeat steps 1–3, and it does not re-run the in-flight step on its
# own: it waits at an approval gate. Nothing more reaches the gateway while it waits. The
# commander brings the service back, checks it by hand and answers `droverctl skip`: the
# step is journaled skipped and the survivor finishes the run from step 5. Counted
# where the actions land: the gateway received one cut and one switch to the backup site,
# PostgreSQL one promotion and one verify transfer, the duty office one switchover
# notification. `droverctl show` on the survivor names the node that did each step.
# Then the survivor is killed too: the last node is elected, learns from etcd that the
# backup site is active (the failover state the leader published) and, though it sees the
# old primary down, switches nothing over again.
source "$(dirname "$0")/lab-test-lib.sh"
source "$(dirname "$0")/cluster-lib.sh"
lab_fresh
cluster_up_led_by witness
E1=$(prop witness ClusterEpoch)

gw_actions() { lab_ssh 10.213.0.10 "grep -c ' $1 ' /srv/gateway/actions.log || true"; }
timeline() { pg backup "select substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)"; }
verify_transfers() { pg backup "select count(*) from transactions where id like 'drover-verify-%'"; }
switch_notices() { grep -l "Site switchover to the backup site done" /run/drover-lab/notify/*.json 2>/dev/null | wc -l; }

"$LABSH" fault kill-service backup >/dev/null
out=$(ctl_on witness run --detach site-switchover -p reason="commander: move to the backup site" 2>&1) && rc=0 || rc=$?
assert_eq "the commander's run starts on the leader" 0 "$rc"
in_step4() {
        sql_nonzero_node witness "select count(*) from step_attempts where step_name = 'backup-app-healthy' and outcome = 'running'"
}
check "the run holds in step 4 'backup-app-healthy' on witness" wait_until 150 in_step4
assert_eq "steps 1–3 are done on witness" "standby-lag|ok cut-primary-from-gateway|ok promote-standby|ok" \
        "$(nsql witness "select step_name || '|' || outcome from step_attempts where outcome <> 'running' order by id" | tr '\n' ' ' | sed 's/ $//')"
assert_eq "the gateway received one cut" 1 "$(gw_actions "switch none")"
assert_eq "PostgreSQL promoted the standby once (timeline 2)" 00000002 "$(timeline)"

"$LABSH" droverd kill witness >/dev/null
survivor_leads() { [ -n "$(leaders primary backup)" ] && [ "$(prop "$(leaders primary backup)" ClusterEpoch)" -gt "$E1" ]; }
check "a survivor leads in a newer epoch" wait_until 300 survivor_leads
L2=$(leaders primary backup)
echo "# new leader $L2"
gate() { sql_nonzero_node "$L2" "select count(*) from events where kind = 'approval-requested'"; }
check "$L2 took the run over and waits at an approval gate" wait_until 300 gate
RUN=$(nsql "$L2" "select id from runs")
assert_eq "$L2 has the one run, the take-over (actor cluster), still running" "site-switchover|cluster|running" \
        "$(nsql "$L2" "select playbook, actor, outcome from runs")"
prompt=$(nsql "$L2" "select message from events where kind = 'approval-requested'")
assert_contains "the gate names the in-flight step and the node it ran on" "$prompt" \
        "Step 'backup-app-healthy' was in flight on node witness"
own_steps() { nsql "$L2" "select step_name || ':' || outcome from step_attempts where run_id = $RUN and coalesce(detail, '') not like 'done by node%' order by id" | tr '\n' ' ' | sed 's/ $//'; }
assert_eq "$L2 ran no step yet" "" "$(own_steps)"
sleep 2 # nothing may happen while the gate waits (not a timed assertion)
assert_eq "nothing more reached the gateway while the gate waits" "1 0" "$(gw_actions "switch none") $(gw_actions "switch backup")"

"$LABSH" fault clear kill-service backup >/dev/null
healthy() { curl -sf -m 2 http://10.213.0.12:8080/health | grep -q '"db": *"primary"'; }
check "the commander checks by hand: the backup e-bank answers on the promoted database" wait_until 100 healthy
out=$(ctl_on "$L2" skip run "$RUN" -m "checked by hand: the backup e-bank answers" 2>&1) && rc=0 || rc=$?
echo "$out" | sed 's/^/# /'
assert_eq "the commander skips the in-flight step on $L2" 0 "$rc"
ended() { sql_nonzero_node "$L2" "select count(*) from runs where outcome <> 'running'"; }
check "$L2 finishes the run" wait_until 600 ended
assert_eq "the run succeeded" succeeded "$(nsql "$L2" "select outcome from runs where id = $RUN")"
assert_eq "$L2 journaled step 4 skipped, then ran steps 5 to 9, each once" \
        "backup-app-healthy:skipped point-gateway-at-backup:ok verify-transfer:ok measured-rto:skipped stop-old-primary:ok notify-duty-office:ok" \
        "$(own_steps)"
assert_eq "$L2 shows steps 1 to 4 as done by witness (imported)" 4 \
        "$(nsql "$L2" "select count(*) from step_attempts where run_id = $RUN and detail like 'done by node witness%'")"
assert_eq "the gateway serves from the backup site" backup "$(gateway_active)"
assert_eq "the gateway received one cut and one switch to backup, none refused" "1 1 0" \
        "$(gw_actions "switch none") $(gw_actions "switch backup") $(gw_actions refused)"
assert_eq "PostgreSQL was promoted once (timeline 2)" 00000002 "$(timeline)"
assert_eq "PostgreSQL received one verify transfer" 1 "$(verify_transfers)"
assert_eq "the duty office received one switchover notification" 1 "$(switch_notices)"
assert_eq "no other run on the survivors (the policy saw the backup site active)" 1 \
        "$(( $(nsql primary "select count(*) from runs") + $(nsql backup "select count(*) from runs") ))"
show=$(ctl_on "$L2" show "$RUN" 2>&1) || true
assert_contains "droverctl show on $L2 shows step 3 done by witness" "$show" "witness"
assert_contains "droverctl show on $L2 shows the promotion" "$show" "promote-standby"

L3=$([ "$L2" = primary ] && echo backup || echo primary)
primary_down_on_l3() { sql_nonzero_node "$L3" "select count(*) from incidents where site = 'primary' and level = 1 and state not in ('resolved', 'closed')"; }
check "$L3 (a follower) sees the old primary site down: a red incident" wait_until 300 primary_down_on_l3
E2=$(prop "$L2" ClusterEpoch)
"$LABSH" droverd kill "$L2" >/dev/null
l3_leads() { [ "$(prop "$L3" ClusterRole)" = leader ] && [ "$(prop "$L3" ClusterEpoch)" -gt "$E2" ]; }
check "$L2 killed too: $L3 leads in a newer epoch" wait_until 300 l3_leads
learned() { sql_nonzero_node "$L3" "select count(*) from events where kind = 'active-site-changed' and message like '%learned from the cluster (written by node $L2%'"; }
check "$L3 learned from etcd that the backup site is active (written by $L2)" wait_until 100 learned
assert_eq "$L3's active site is backup" backup \
        "$(nsql "$L3" "select json_extract(data_json, '\$.to') from events where kind = 'active-site-changed' order by id desc limit 1")"
decided() { sql_nonzero_node "$L3" "select count(*) from incident_log l join incidents i on i.id = l.incident_id where i.site = 'primary' and l.kind = 'decision' and l.text like '%not the active site%'"; }
check "$L3 decided the primary's incident again: no switchover, primary is not the active site" wait_until 100 decided
assert_eq "$L3 ran nothing" 0 "$(nsql "$L3" "select count(*) from runs")"
assert_eq "the gateway still serves from the backup site, switched once" "backup 1" \
        "$(gateway_active) $(gw_actions "switch backup")"
"$LABSH" droverd down >/dev/null
lab_done
