#!/usr/bin/env bash
# After a switchover, a planned failback: the old primary is rebuilt as a standby of the
# new primary, caught up, and the switch back is made with customers still making
# transfers: no acknowledged transfer is lost, the primary site serves again, and the
# backup site is a synchronous standby again.
source "$(dirname "$0")/lab-test-lib.sh"
lab_fresh
"$LABSH" workload start 20 >/dev/null
sleep 1
out=$(ctl run site-switchover -p reason="e2e: planned switchover before failback" 2>&1) && rc=0 || rc=$?
assert_eq "switchover exits 0" 0 "$rc"
assert_eq "backup site active after switchover" backup "$(gateway_active)"
sleep 1
out=$(echo "yes planned failback window" | ctl run site-failback -p reason="e2e: failback" 2>&1) && rc=0 || rc=$?
echo "$out"
assert_eq "failback exits 0" 0 "$rc"
sleep 2
"$LABSH" workload stop >/dev/null
assert_eq "gateway sends customers to the primary site again" primary "$(gateway_active)"
assert_eq "primary database is primary" f "$(pg primary "select pg_is_in_recovery()")"
assert_eq "backup database is a standby again" t "$(pg backup "select pg_is_in_recovery()")"
assert_eq "backup is a synchronous, streaming standby" "streaming|sync" \
        "$(pg primary "select state, sync_state from pg_stat_replication where application_name='backup'")"
check "transfers were acknowledged across both switches" test "$(acked_transfers)" -gt 40
assert_eq "no acknowledged transfer lost (all in the primary database)" 0 "$(lost_transfers primary)"
assert_eq "both sites hold the same transactions" "$(pg primary "select count(*) from transactions")" \
        "$(pg backup "select count(*) from transactions")"
assert_contains "the approval was journaled with who answered" \
        "$(jsql "select stdout_text from step_attempts where step_name='approve-switch'")" "approved by root"
post=$(transfer after-failback)
assert_contains "a new transfer is served by the primary site" "$post" '"site": "primary"'
lab_done
