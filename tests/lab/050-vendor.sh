#!/usr/bin/env bash
# Vendor replacement: vendor A starts failing 30% of payments → confirmed from its metrics →
# the e-bank is switched to vendor B on both sites → payments succeed via vendor B; then
# back. A replacement that does not work is rolled back and the journal says why.
source "$(dirname "$0")/lab-test-lib.sh"
lab_fresh
"$LABSH" workload start 20 >/dev/null
"$LABSH" fault vendor-errors vendor-a 0.3 >/dev/null
sleep 3
out=$(ctl run vendor-replacement -p reason="e2e: vendor-a failing" 2>&1) && rc=0 || rc=$?
echo "$out"
assert_eq "replacement exits 0" 0 "$rc"
rate=$(jsql "select stdout_text from step_attempts where step_name='confirm-vendor-a-failing'")
assert_contains "vendor A's failure confirmed from its metrics" "$rate" "success rate 0.7"
t1=$(date +%s.%N)
sleep 2
"$LABSH" workload stop >/dev/null
for s in primary backup; do
        assert_eq "$s site now pays through vendor B" vendor-b "$(lab_ssh 10.213.0.1$([ $s = primary ] && echo 1 || echo 2) 'cat /srv/ebank/vendor')"
done
assert_eq "no transfer failed after the switch" 0 "$(python3 -c '
import json, sys
n = 0
for l in open("/run/drover-lab/workload/workload.log"):
    o = json.loads(l)
    if "id" in o and o["t"] > float(sys.argv[1]) and not o["ok"]:
        n += 1
print(n)' "$t1")"
post=$(transfer after-vendor-switch)
assert_contains "a new payment goes through vendor B" "$post" '"vendor": "vendor-b"'

# Back to vendor A once it is healthy again (it is not failing, so force).
"$LABSH" fault vendor-errors vendor-a 0 >/dev/null
out=$(ctl run vendor-replacement -p reason="e2e: back to vendor-a" -p from=vendor-b -p to=vendor-a -p force=true 2>&1) && rc=0 || rc=$?
assert_eq "reverse replacement exits 0" 0 "$rc"
assert_contains "payments through vendor A again" "$(transfer after-switch-back)" '"vendor": "vendor-a"'

# Without force, a healthy vendor is not replaced: the run fails before touching anything.
# (Vendor B served its share without errors; vendor A's 60 s window still holds its 30 %.)
out=$(ctl run vendor-replacement -p reason="e2e: not failing" -p from=vendor-b -p to=vendor-a) && rc=0 || rc=$?
assert_eq "healthy vendor: refused, exit 1" 1 "$rc"
assert_eq "healthy vendor: nothing switched" vendor-a "$(lab_ssh 10.213.0.11 'cat /srv/ebank/vendor')"

# A replacement vendor that fails every payment: the switch is verified, fails, and is
# rolled back on both sites.
"$LABSH" fault vendor-errors vendor-b 1.0 >/dev/null
out=$(ctl run vendor-replacement -p reason="e2e: broken replacement" -p force=true 2>&1) && rc=0 || rc=$?
echo "$out"
assert_eq "broken replacement: exit 1" 1 "$rc"
run=$(jsql "select max(id) from runs")
assert_contains "broken replacement: journal says the verification failed and it rolled back" \
        "$(jsql "select error from runs where id=$run")" "verify-payment"
assert_eq "broken replacement: rollback ran on both sites" "ok ok" \
        "$(jsql "select group_concat(outcome, ' ') from step_attempts where run_id=$run and phase='rollback'")"
assert_eq "broken replacement: sites back on vendor A" "vendor-a vendor-a" \
        "$(lab_ssh 10.213.0.11 'cat /srv/ebank/vendor') $(lab_ssh 10.213.0.12 'cat /srv/ebank/vendor')"
lab_done
