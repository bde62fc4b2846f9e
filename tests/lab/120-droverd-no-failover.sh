#!/usr/bin/env bash
# What must NOT fail over (droverd on the lab, interval 1 s, fall 3, the primary judged
# from drover's host and from the backup site with quorum 2):
#   1. a single lost check (the primary's link down for under a second);
#   2. drover's own link to the primary lost while the backup site still sees it
#      (`lab.sh fault partition primary`: nft drops in the ROOT namespace only) → the
#      primary is "down from 1 of 2 vantage points": degraded, level 3 (yellow), notify and
#      probe faster — no level 1, no run;
#   3. 20 % random packet loss at the primary for a minute (`lab.sh fault loss primary 20`).
# Absence is checked over bounded windows longer than fall × interval + timeout.
source "$(dirname "$0")/lab-test-lib.sh"
source "$(dirname "$0")/droverd-lib.sh"
lab_fresh
droverd_fresh_journal
notify_listen
droverd_start
up_query="select count(*) from events where kind = 'health-change' and data_json like '%\"target\":\"primary-app\"%' and data_json like '%\"to\":\"up\"%'"
wait_sql 150 "$up_query" || not_ok "primary-app never judged up"

no_red_no_run() { # seconds: fail at once if a red level or a run appears within it
        local end=$(($(date +%s) + $1))
        while [ "$(date +%s)" -lt "$end" ]; do
                if sql_nonzero "select count(*) from runs" ||
                        sql_nonzero "select count(*) from incident_log where kind = 'level-change' and level_to = 1" ||
                        sql_nonzero "select count(*) from incidents where level = 1"; then
                        return 1
                fi
                sleep 0.5
        done
}

# --- 1. one lost check ------------------------------------------------------------------
"$LABSH" fault site-down primary >/dev/null
sleep 0.8 # the outage itself: shorter than one probe interval
"$LABSH" fault clear site-down primary >/dev/null
check "a single lost check: no level 1, no run for 8 s" no_red_no_run 8
assert_eq "a single lost check: primary-app never judged down" 0 \
        "$(jsql "select count(*) from events where kind = 'health-change' and data_json like '%\"target\":\"primary-app\"%' and data_json like '%\"to\":\"down\"%'")"

# --- 2. drover's link to the primary lost, the backup still sees it ------------------------
"$LABSH" fault partition primary >/dev/null
wait_sql 200 "select count(*) from events where kind = 'health-change' and data_json like '%\"target\":\"primary-app\"%' and data_json like '%\"to\":\"degraded\"%' and data_json like '%\"vantages_down\":1%'" &&
        ok "partition: primary-app degraded, down from 1 vantage point only" ||
        { not_ok "partition: primary-app not degraded"; droverd_show_log; }
wait_sql 100 "select count(*) from incidents where site = 'primary' and level = 3" &&
        ok "partition: incident at level 3 (yellow)" || not_ok "partition: no yellow incident"
inc=$(jsql "select id from incidents where site = 'primary' order by id desc limit 1")
check "partition: the probes run faster (raise-frequency journaled)" \
        sql_nonzero "select count(*) from incident_log where incident_id = $inc and kind = 'raise-frequency'"
check "partition: still no level 1, no run for 6 s" no_red_no_run 6
"$LABSH" fault clear partition primary >/dev/null
wait_sql 200 "select count(*) from incidents where id = $inc and state = 'resolved'" &&
        ok "partition cleared: the incident is resolved" || not_ok "partition cleared: incident not resolved"
check "probes back at their interval once nothing is open" sql_nonzero "select count(*) from events where kind = 'probe-frequency'"

# --- 3. 20 % packet loss for a minute ------------------------------------------------------
"$LABSH" fault loss primary 20 >/dev/null
check "20 % loss for 60 s: no level 1, no run" no_red_no_run 60
"$LABSH" fault clear loss primary >/dev/null
assert_eq "20 % loss: primary-app never judged down" 0 \
        "$(jsql "select count(*) from events where kind = 'health-change' and data_json like '%\"target\":\"primary-app\"%' and data_json like '%\"to\":\"down\"%'")"
assert_eq "customers still served by the primary" primary "$(gateway_active)"
droverd_stop && rc=0 || rc=$?
assert_eq "SIGTERM: exit 0" 0 "$rc"
assert_eq "no run at all" 0 "$(jsql "select count(*) from runs")"
lab_done
