#!/usr/bin/env bash
# kill -9 of droverd while its automatic site-switchover runs: the worker dies with it
# (PR_SET_PDEATHSIG), and at the restart the journal's recovery marks the run and the
# step in flight "interrupted" (outcome unknown); droverd journals that the incident's
# run was interrupted and does NOT start anything again by itself although the primary
# is still down (a commander decides): one run in the journal, no second attempt of the
# step, no proposal turned into a run.
source "$(dirname "$0")/lab-test-lib.sh"
source "$(dirname "$0")/droverd-lib.sh"
lab_fresh
droverd_fresh_journal
notify_listen
droverd_start
wait_sql 100 "select count(*) from events where kind = 'health-change' and data_json like '%\"target\":\"primary-app\"%' and data_json like '%\"to\":\"up\"%'" ||
        not_ok "primary-app never judged up"

"$LABSH" fault site-down primary >/dev/null
# stop-old-primary reaches for the lost primary over SSH: it is in flight for seconds.
wait_sql 400 "select count(*) from step_attempts where step_name = 'stop-old-primary' and outcome = 'running'" &&
        ok "the switchover reached stop-old-primary" || { not_ok "the run never reached stop-old-primary"; droverd_show_log; }
worker=$(jsql "select pid from runs where outcome = 'running'")
kill -KILL "$DPID"
wait "$DPID" 2>/dev/null || true
check "the run's worker was running" test -n "$worker"
wait_until 100 eval '! is_alive "$worker"' && ok "the worker died with droverd" || not_ok "worker $worker outlived droverd"
assert_eq "before the restart the run is still 'running' in the journal" running \
        "$(jsql "select outcome from runs")"

restart_id=$(jsql "select coalesce(max(id), 0) from events")
droverd_start
wait_sql 100 "select count(*) from runs where outcome = 'interrupted'" && ok "run marked interrupted at restart" ||
        not_ok "run not marked interrupted"
assert_eq "the step in flight is marked interrupted" "stop-old-primary|interrupted" \
        "$(jsql "select step_name, outcome from step_attempts where outcome = 'interrupted'")"
inc=$(jsql "select id from incidents where site = 'primary' order by id desc limit 1")
wait_sql 100 "select count(*) from incident_log where incident_id = $inc and kind = 'run-interrupted'" &&
        ok "droverd journaled that the incident's run was interrupted" || not_ok "no run-interrupted line"
assert_contains "it says a commander decides" \
        "$(jsql "select actor || ': ' || text from incident_log where kind = 'run-interrupted'")" "droverd: run "
check "the incident was restored, still open" test "$(jsql "select state from incidents where id = $inc")" = mitigating
# The condition persists: droverd sees the primary down again and decides, with the
# restored incident, that nothing changed.
wait_sql 150 "select count(*) from events where id > $restart_id and kind = 'health-change' and data_json like '%\"target\":\"primary-app\"%' and data_json like '%\"to\":\"down\"%'" &&
        ok "after the restart the primary is judged down again" || not_ok "primary not judged down after restart"
wait_sql 150 "select count(*) from incident_log where incident_id = $inc and kind = 'decision' and id > (select id from incident_log where kind = 'run-interrupted')" &&
        ok "a decision was taken after the restart" || not_ok "no decision after the restart"
check "the restart did not start a run" test "$(jsql "select count(*) from runs")" = 1
assert_eq "stop-old-primary was attempted once" 1 "$(jsql "select count(*) from step_attempts where step_name = 'stop-old-primary'")"
assert_eq "promote-standby was attempted once" 1 "$(jsql "select count(*) from step_attempts where step_name = 'promote-standby'")"
droverd_stop && rc=0 || rc=$?
assert_eq "SIGTERM: exit 0" 0 "$rc"
assert_eq "still one run after the daemon stopped" 1 "$(jsql "select count(*) from runs")"
lab_done
