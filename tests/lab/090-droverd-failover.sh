#!/usr/bin/env bash
# droverd on the lab: the primary site is lost → the detector (interval 1 s, fall 3,
# quorum of vantage points) declares it down → incident at level 1 (red) → the policy
# runs site-switchover automatically (trigger auto, actor policy) → the gateway serves
# from the backup site and the backup becomes the active site. The journal shows the
# detection (health-change), the incident and its level history, the decision, the run
# linked to the incident; STATUS= said what was happening; the duty office was notified.
source "$(dirname "$0")/lab-test-lib.sh"
source "$(dirname "$0")/droverd-lib.sh"
lab_fresh
droverd_fresh_journal
notify_listen
droverd_start
wait_sql 100 "select count(*) from events where kind = 'health-change' and data_json like '%\"target\":\"primary-app\"%' and data_json like '%\"to\":\"up\"%'" &&
        ok "primary-app judged up first" || not_ok "primary-app never judged up"
assert_eq "customers served by the primary before the fault" primary "$(gateway_active)"

t0=$(($(date +%s%N) / 1000))
"$LABSH" fault site-down primary >/dev/null
wait_sql 400 "select count(*) from runs where trigger = 'auto' and outcome <> 'running'" ||
        { not_ok "no automatic run ended"; droverd_show_log; }
assert_eq "the automatic run succeeded" "site-switchover|policy|succeeded" \
        "$(jsql "select playbook, actor, outcome from runs where trigger = 'auto'")"
assert_eq "gateway now sends customers to the backup site" backup "$(gateway_active)"
assert_eq "backup database is primary" f "$(pg backup "select pg_is_in_recovery()")"

down_at=$(jsql "select at from events where kind = 'health-change' and data_json like '%\"target\":\"primary-app\"%' and data_json like '%\"to\":\"down\"%' order by id limit 1")
run_at=$(jsql "select started from runs where trigger = 'auto'")
check "the detection is journaled after the fault (health-change primary-app → down)" test "${down_at:-0}" -gt "$t0"
check "the run started after the detection" test "${run_at:-0}" -ge "${down_at:-0}"
echo "# fault → primary-app down: $(((down_at - t0) / 1000)) ms; fault → run started: $(((run_at - t0) / 1000)) ms"

inc=$(jsql "select id from incidents where site = 'primary' order by id desc limit 1")
check "an incident for the primary site" test -n "$inc"
assert_eq "incident at level 1 (red), mitigating" "1|mitigating" "$(jsql "select level, state from incidents where id = $inc")"
check "level history reaches red (opened red, or escalated to red)" sql_nonzero "select count(*) from incident_log where incident_id = $inc and ((kind = 'level-change' and level_to = 1) or (kind = 'opened' and text like 'active-site-down%'))"
assert_contains "the decision is journaled with its actor" \
        "$(jsql "select actor || ': ' || text from incident_log where incident_id = $inc and kind = 'decision'")" \
        "policy: "
assert_contains "the decision says auto site-switchover" \
        "$(jsql "select text from incident_log where incident_id = $inc and kind = 'decision'")" "auto site-switchover"
assert_eq "the run is linked to the incident" "$(jsql "select id from runs where trigger = 'auto'")" \
        "$(jsql "select run_id from incident_log where incident_id = $inc and kind = 'playbook-started'")"
assert_eq "the run ended in the incident's log" 1 \
        "$(jsql "select count(*) from incident_log where incident_id = $inc and kind = 'playbook-finished' and text like '%succeeded%'")"
assert_contains "the active site changed to backup (journaled)" \
        "$(jsql "select data_json from events where kind = 'active-site-changed'")" '"to":"backup"'
check "the run's worker journaled it as part of the incident" \
        sql_nonzero "select count(*) from events where kind = 'incident-link' and data_json = '{\"incident\":$inc}'"
check "STATUS= said an incident was open at level 1" grep -qE '^STATUS=watching .*incident.* open \(level 1\)' "$NOTIFY_LOG"
check "STATUS= said the switchover was running, with its step" \
        grep -qE '^STATUS=.*running site-switchover \(step [0-9]+/9\)' "$NOTIFY_LOG"
check "the duty office was notified of the red incident" \
        grep -lq "\"incident\": $inc, \"level\": 1" /run/drover-lab/notify/ -r

# The old primary being down is no reason for anything more: no second run.
wait_sql 50 "select count(*) from incident_log where incident_id = $inc and kind = 'playbook-finished'"
droverd_stop && rc=0 || rc=$?
assert_eq "SIGTERM: exit 0" 0 "$rc"
assert_eq "exactly one run" 1 "$(jsql "select count(*) from runs")"
assert_eq "daemon-stopped journaled" 1 "$(jsql "select count(*) from events where kind = 'daemon-stopped'")"

# The regulator's report of this real incident, and the journal droverd wrote is intact.
md=$(ctl --db "$JDB" report incident "$inc" 2>&1) && rc=0 || rc=$?
assert_eq "report incident (Markdown) exits 0" 0 "$rc"
assert_contains "the report names the site" "$md" "primary"
assert_contains "the report names the run it started" "$md" "site-switchover"
assert_contains "the report says who acted: the policy" "$md" "policy"
html=$(ctl --db "$JDB" report incident "$inc" --format html 2>&1)
assert_contains "the HTML report has its timeline" "$html" "<svg"
json=$(ctl --db "$JDB" report incident "$inc" --format json 2>&1)
check "the JSON report's level history reaches level 1 (red)" python3 -c '
import json, sys
r = json.loads(sys.argv[1])
assert r["incident"]["site"] == "primary"
assert any(e["to"] == 1 for e in r["level_history"])
' "$json"
check "audit verify: the chain of everything droverd and its worker wrote is intact" ctl --db "$JDB" audit verify
lab_done
