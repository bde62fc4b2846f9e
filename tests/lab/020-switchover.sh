#!/usr/bin/env bash
# Primary site lost while customers keep making transfers → `droverctl run site-switchover`
# → the gateway serves from the backup site, no acknowledged transfer is lost, and the
# RTO (fault → first successful transfer) is measured and journaled.
source "$(dirname "$0")/lab-test-lib.sh"
lab_fresh
"$LABSH" workload start 20 >/dev/null
sleep 2
assert_eq "workload flows through the primary before the fault" primary "$(gateway_active)"
t0=$(date +%s.%N)
"$LABSH" fault site-down primary >/dev/null
out=$(ctl run site-switchover -p reason="e2e: primary site lost" -p fault_at="$t0" 2>&1) && rc=0 || rc=$?
echo "$out"
assert_eq "switchover exits 0" 0 "$rc"
sleep 2
"$LABSH" workload stop >/dev/null
assert_eq "gateway now sends customers to the backup site" backup "$(gateway_active)"
assert_eq "backup database is primary" f "$(pg backup "select pg_is_in_recovery()")"
check "transfers succeeded before and after the switchover" test "$(acked_transfers)" -gt 40
assert_eq "no acknowledged transfer lost (all in the backup database)" 0 "$(lost_transfers backup)"
assert_eq "customers recovered" True "$(report_field recovered --since "$t0")"
outage=$(report_field outage_s --since "$t0")
echo "# customer outage measured by the workload: ${outage}s"
rto=$(jsql "select stdout_text from step_attempts where step_name='measured-rto'")
check "RTO journaled by the run as a number of seconds (${rto})" python3 -c "import sys; assert float(sys.argv[1]) > 0" "$rto"
assert_eq "run journaled as succeeded" succeeded "$(jsql "select outcome from runs")"
check "duty office notified" grep -q "Site switchover" /run/drover-lab/notify/1.json
post=$(transfer after-1)
assert_contains "a new transfer is served by the backup site" "$post" '"site": "backup"'
lab_done
