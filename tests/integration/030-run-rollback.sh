#!/usr/bin/env bash
# A failing step with on_failure: rollback: the completed steps' rollbacks run in
# reverse order, the failed step's own rollback does not run (it succeeded nowhere),
# skipped steps are not rolled back, exit code 1, and the journal says why.
source "$(dirname "$0")/lib.sh"
lab_start_sshd
lab_start_http
lab_config
log="$LAB/order.log"
cat >"$LAB/rb.yaml" <<YAML
name: rollback-order
kind: custom
targets:
  one: {host: h1}
steps:
  - name: first
    ssh: {target: one, command: "echo do-first >> $log"}
    rollback: {name: undo-first, ssh: {target: one, command: "echo undo-first >> $log"}}
  - name: second
    ssh: {target: one, command: "echo do-second >> $log"}
    rollback: {name: undo-second, ssh: {target: one, command: "echo undo-second >> $log"}}
  - name: not-taken
    ssh: {target: one, command: "echo never >> $log"}
    when: "1 == 2"
    rollback: {name: undo-not-taken, ssh: {target: one, command: "echo undo-never >> $log"}}
  - name: third
    ssh: {target: one, command: "echo do-third >> $log; exit 7"}
    on_failure: rollback
    rollback: {name: undo-third, ssh: {target: one, command: "echo undo-third >> $log"}}
  - name: fourth
    ssh: {target: one, command: "echo do-fourth >> $log"}
YAML
out=$("$DROVERCTL" run --config "$LAB/drover.yaml" "$LAB/rb.yaml" 2>&1) && rc=0 || rc=$?
echo "$out"
assert_eq "failed run exits 1" 1 "$rc"
assert_eq "rollbacks ran in reverse order, only for completed steps" \
        "do-first do-second do-third undo-second undo-first" "$(tr '\n' ' ' <"$log" | sed 's/ $//')"
assert_eq "run outcome failed" failed "$(sql "select outcome from runs")"
assert_contains "run error names the step" "$(sql "select error from runs")" "third"
assert_eq "failing step journaled with its exit status" "failed|7" "$(sql "select outcome, exit_status from step_attempts where step_name='third'")"
assert_eq "rollback attempts journaled in phase rollback" "undo-second undo-first" \
        "$(sql "select group_concat(step_name, ' ') from (select step_name from step_attempts where phase='rollback' order by id)")"
assert_eq "fourth never ran" 0 "$(sql "select count(*) from step_attempts where step_name='fourth'")"

# A rollback that fails does not stop the others; the run says "rollback incomplete".
cat >"$LAB/rb2.yaml" <<YAML
name: rollback-broken
kind: custom
targets:
  one: {host: h1}
steps:
  - name: a
    ssh: {target: one, command: "true"}
    rollback: {name: undo-a, ssh: {target: one, command: "echo undo-a >> $log.2"}}
  - name: b
    ssh: {target: one, command: "true"}
    rollback: {name: undo-b, ssh: {target: one, command: "exit 3"}}
  - name: c
    ssh: {target: one, command: "false"}
    on_failure: rollback
YAML
out=$("$DROVERCTL" run --config "$LAB/drover.yaml" "$LAB/rb2.yaml" 2>&1) && rc=0 || rc=$?
assert_eq "exit 1 with a broken rollback" 1 "$rc"
check "the earlier rollback still ran" grep -qx undo-a "$log.2"
assert_contains "run error says rollback incomplete" "$(sql "select error from runs where playbook='rollback-broken'")" "rollback incomplete"

# on_failure: continue goes on and the run succeeds.
cat >"$LAB/cont.yaml" <<YAML
name: keep-going
kind: custom
targets:
  one: {host: h1}
steps:
  - name: may-fail
    ssh: {target: one, command: "exit 1"}
    on_failure: continue
  - name: after
    ssh: {target: one, command: "echo after >> $log.3"}
YAML
"$DROVERCTL" run --config "$LAB/drover.yaml" "$LAB/cont.yaml" >/dev/null 2>&1 && rc=0 || rc=$?
assert_eq "continue: run exits 0" 0 "$rc"
check "continue: next step ran" grep -qx after "$log.3"
lab_done
