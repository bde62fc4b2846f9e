#!/usr/bin/env bash
# The shipped live drill drills/site-switchover.yaml on the lab: `droverctl drill start
# site-switchover` injects the primary site's outage itself (lab.sh fault site-down
# primary), runs the switchover for real while customers keep paying, measures the RTO
# from the injection to the verified transfer, clears the fault, and journals it all as
# a drill (never an incident). The objectives verdict must agree with the measured RTO.
source "$(dirname "$0")/lab-test-lib.sh"
lab_fresh
"$LABSH" workload start 20 >/dev/null
sleep 1
t0=$(date +%s)
out=$(ctl drill start site-switchover </dev/null 2>&1) && rc=0 || rc=$?
echo "$out"
sleep 1
"$LABSH" workload stop >/dev/null
met=$(jsql "select objectives_met from drill_runs where id = 1")
rto=$(jsql "select rto_us from drill_runs where id = 1")
echo "# achieved RTO of the live drill: $(python3 -c "print('%.3f s' % ($rto / 1e6))")"
assert_eq "drill run succeeded" succeeded "$(jsql "select outcome from drill_runs where id = 1")"
check "objectives judged (0 or 1)" test "$met" = 1 -o "$met" = 0
assert_eq "exit status follows the verdict (0 met, 1 not met)" "$((1 - met))" "$rc"
assert_eq "RTO = verify-transfer's end - fault injection, and > 0" 1 \
        "$(jsql "select count(*) from drill_runs d, step_attempts s where d.id = 1 and s.step_name = 'verify-transfer'
                and s.outcome = 'ok' and d.recovered_at = s.ended and d.rto_us = s.ended - d.fault_injected_at and d.rto_us > 0")"
assert_eq "verdict agrees with the 30 s objective" "$met" "$(jsql "select rto_us <= 30000000 from drill_runs where id = 1")"
check "fault injected after the drill started" test "$(jsql "select fault_injected_at from drill_runs where id = 1")" -ge "${t0}000000"
assert_eq "fault cleared after recovery" 1 "$(jsql "select fault_cleared_at >= recovered_at from drill_runs where id = 1")"
check "primary site's link is up again" bash -c "ip -n primary link show eth0 | grep -q 'state UP'"
assert_eq "gateway serves from the backup site" backup "$(gateway_active)"
assert_eq "no acknowledged transfer lost" 0 "$(lost_transfers backup)"
assert_eq "the playbook run is journaled as a drill" "site-switchover|drill|drill|succeeded" \
        "$(jsql "select playbook, mode, trigger, outcome from runs")"
check "the playbook measured its own RTO from the injected fault_at" \
        python3 -c "import sys; assert float(sys.argv[1]) > 0" "$(jsql "select stdout_text from step_attempts where step_name='measured-rto'")"
assert_eq "injection and clearing are journal events" "drill-fault-injected drill-fault-cleared" \
        "$(jsql "select group_concat(kind, ' ') from events where kind like 'drill-fault-%' order by id")"
out=$(ctl runs)
assert_contains "droverctl runs lists it under DRILLS" "$(sed -n '/^DRILLS/,$p' <<<"$out")" "site-switchover"
assert_not_contains "and there is no real run" "$out" "RUNS (incidents"
lab_done
