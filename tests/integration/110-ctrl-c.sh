#!/usr/bin/env bash
# Ctrl-C (SIGINT) mid-step: the running step is cancelled, the rollbacks of completed
# steps run because the step asks for it, the journal records the abort, exit 1.
source "$(dirname "$0")/lib.sh"
lab_start_sshd
lab_config
log="$LAB/order.log"
cat >"$LAB/cc.yaml" <<YAML
name: ctrl-c
kind: custom
targets:
  one: {host: h1}
steps:
  - name: first
    ssh: {target: one, command: "echo do-first >> $log"}
    rollback: {name: undo-first, ssh: {target: one, command: "echo undo-first >> $log"}}
  - name: slow
    ssh: {target: one, command: "sleep 30; echo slow-finished >> $log"}
    timeout: 60s
    on_failure: rollback
  - name: never
    ssh: {target: one, command: "echo never >> $log"}
YAML
"$DROVERCTL" run --config "$LAB/drover.yaml" "$LAB/cc.yaml" >"$LAB/run.out" 2>&1 &
pid=$!
check "the slow step starts" wait_for_sql "select outcome from step_attempts where step_name='slow'" running
kill -INT "$pid"
wait "$pid" && rc=0 || rc=$?
cat "$LAB/run.out"
assert_eq "aborted run exits 1" 1 "$rc"
assert_eq "run outcome aborted" aborted "$(sql "select outcome from runs")"
assert_eq "running step cancelled" cancelled "$(sql "select outcome from step_attempts where step_name='slow'")"
assert_eq "rollback of the completed step ran" "do-first undo-first" "$(tr '\n' ' ' <"$log" | sed 's/ $//')"
assert_eq "later step never started" 0 "$(sql "select count(*) from step_attempts where step_name='never'")"
assert_contains "run error says who stopped it" "$(sql "select error from runs")" "cancel"
assert_eq "no attempt left running" 0 "$(sql "select count(*) from step_attempts where outcome='running'")"
lab_done
