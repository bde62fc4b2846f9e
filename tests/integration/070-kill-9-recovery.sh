#!/usr/bin/env bash
# kill -9 of droverctl mid-run: the completed step stays completed, the step in flight
# is marked "interrupted, outcome unknown" at the next start of droverctl, the run is
# marked interrupted, and nothing is reported as done that was not.
source "$(dirname "$0")/lib.sh"
lab_start_sshd
lab_config
cat >"$LAB/long.yaml" <<YAML
name: long-run
kind: custom
targets:
  one: {host: h1}
steps:
  - name: quick
    ssh: {target: one, command: "echo quick"}
  - name: slow
    ssh: {target: one, command: "sleep 30"}
    timeout: 60s
  - name: never
    ssh: {target: one, command: "touch $LAB/never"}
YAML
"$DROVERCTL" run --config "$LAB/drover.yaml" "$LAB/long.yaml" >"$LAB/run.out" 2>&1 &
pid=$!
check "the slow step starts" wait_for_sql "select outcome from step_attempts where step_name='slow'" running
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
assert_eq "before recovery the journal still says running (nobody has looked yet)" running "$(sql "select outcome from runs")"

out=$("$DROVERCTL" runs --config "$LAB/drover.yaml" 2>&1)
echo "$out"
assert_contains "droverctl announces the recovery" "$out" "interrupted"
assert_eq "run marked interrupted" interrupted "$(sql "select outcome from runs")"
assert_eq "completed step kept" ok "$(sql "select outcome from step_attempts where step_name='quick'")"
assert_eq "in-flight step interrupted" interrupted "$(sql "select outcome from step_attempts where step_name='slow'")"
assert_contains "in-flight step says outcome unknown" "$(sql "select error from step_attempts where step_name='slow'")" "outcome unknown"
assert_eq "later step never started" 0 "$(sql "select count(*) from step_attempts where step_name='never'")"
check "later step never ran" test ! -e "$LAB/never"
assert_eq "recovery is journaled as an event" 1 "$(sql "select count(*) from events where kind='run-interrupted'")"
show=$("$DROVERCTL" show --config "$LAB/drover.yaml" 1)
assert_contains "show tells the operator" "$show" "interrupted"
# A second look changes nothing.
"$DROVERCTL" runs --config "$LAB/drover.yaml" >/dev/null 2>&1
assert_eq "recovery is idempotent" 1 "$(sql "select count(*) from events where kind='run-interrupted'")"
lab_done
