#!/usr/bin/env bash
# droverd on the lab: vendor A fails 30 % of payments → its success rate (vendor metric)
# falls under 95 % → incident at level 2 (orange) → the policy PROPOSES vendor-replacement
# (journaled; the commander is asked: approval_requested) → a commander approves it through
# the Manager's surface (manager_answer("incident", id, yes, "alice"), driven here through
# test-droverd-control, as issue 5's D-Bus API will) → the run starts with trigger
# "approved" and actor alice → the e-bank pays through vendor B. A second answer finds
# nothing pending; an unknown incident is refused.
source "$(dirname "$0")/lab-test-lib.sh"
source "$(dirname "$0")/droverd-lib.sh"
lab_fresh
droverd_fresh_journal
notify_listen
droverd_start --control
"$LABSH" workload start 20 >/dev/null
wait_sql 100 "select count(*) from events where kind = 'health-change' and data_json like '%\"target\":\"vendor-a-success\"%' and data_json like '%\"to\":\"up\"%'" ||
        not_ok "vendor-a-success never judged up"

"$LABSH" fault vendor-errors vendor-a 0.3 >/dev/null
wait_sql 300 "select count(*) from incident_log l join incidents i on i.id = l.incident_id where i.site = 'vendor-a' and l.kind = 'playbook-proposed'" &&
        ok "vendor-replacement proposed" || { not_ok "no proposal"; droverd_show_log; }
inc=$(jsql "select id from incidents where site = 'vendor-a' order by id desc limit 1")
assert_eq "incident at level 2 (orange)" 2 "$(jsql "select level from incidents where id = $inc")"
assert_contains "the proposal names the playbook, by the policy" \
        "$(jsql "select actor || ': ' || text from incident_log where incident_id = $inc and kind = 'playbook-proposed'")" \
        "policy: vendor-replacement proposed"
check "the commander was asked (approval_requested for the incident)" \
        grep -q "\"id\":$inc,\"kind\":\"incident\",\"observer\":\"approval_requested\"" "$LAB/control.out"
assert_eq "nothing runs before the approval" 0 "$(jsql "select count(*) from runs")"
check "the duty office was notified of the orange incident" \
        grep -rlq "\"incident\": $inc, \"level\": 2" /run/drover-lab/notify/

assert_contains "an unknown incident is refused (-ENOENT)" "$(dctl answer incident 999 yes alice)" '"r":-2'
assert_contains "approved by alice" "$(dctl answer incident "$inc" yes alice checked the vendor dashboard)" '"r":0'
assert_contains "a second answer finds nothing pending (-EALREADY)" "$(dctl answer incident "$inc" yes bob)" '"r":-114'
assert_eq "the approval is journaled with its actor and comment" \
        "alice|vendor-replacement approved by alice: checked the vendor dashboard" \
        "$(jsql "select actor, text from incident_log where incident_id = $inc and kind = 'playbook-approved'")"
wait_sql 300 "select count(*) from runs where outcome <> 'running'" || not_ok "the approved run did not end"
assert_eq "the run: vendor-replacement, approved, by alice, succeeded" "vendor-replacement|approved|alice|succeeded" \
        "$(jsql "select playbook, trigger, actor, outcome from runs")"
assert_eq "the run is linked to the incident" "$(jsql "select id from runs")" \
        "$(jsql "select run_id from incident_log where incident_id = $inc and kind = 'playbook-started'")"
"$LABSH" workload stop >/dev/null
for s in primary backup; do
        assert_eq "$s site now pays through vendor B" vendor-b \
                "$(lab_ssh 10.213.0.1$([ $s = primary ] && echo 1 || echo 2) 'cat /srv/ebank/vendor')"
done
assert_contains "a new payment goes through vendor B" "$(transfer after-droverd-vendor-switch)" '"vendor": "vendor-b"'
assert_contains "runs lists it as ended" "$(dctl runs)" '"outcome":"succeeded","playbook":"vendor-replacement"'
kill -TERM "$DPID"
wait "$DPID" && rc=0 || rc=$?
assert_eq "SIGTERM: exit 0" 0 "$rc"
lab_done
