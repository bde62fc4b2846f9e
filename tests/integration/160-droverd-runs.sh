#!/usr/bin/env bash
# The commander's surface for runs (manager.h), driven through test-droverd-control (the
# same Manager as droverd, with a command channel instead of D-Bus): a run in a worker
# process (droverctl run --approver worker), the run id known when start returns, its
# approve gate answered through manager_answer("run", …) — refused to the requester
# (four eyes, -EPERM), accepted from another person —, abort (SIGINT: the rollback runs),
# a dry run's plan, a bad parameter refused synchronously, SIGTERM while a run is in
# flight (the worker is cancelled cleanly, journaled, then the daemon exits 0), and
# STATUS= naming the running playbook and its step. Local steps only: no sshd needed.
source "$(dirname "$0")/lib.sh"
DCONTROL="$DROVER_BUILD_ROOT/tests/test-droverd-control"
lab_keys
: >"$LAB/known_hosts"
lab_config
mkdir -p "$LAB/playbooks"
cat >>"$LAB/drover.yaml" <<YAML
playbook_dir: $LAB/playbooks
approvals: {four_eyes: true}
YAML
cat >"$LAB/playbooks/gated.yaml" <<YAML
name: gated
kind: custom
params:
  reason: {type: string, required: true}
steps:
  - name: first
    local: {argv: [/bin/sh, -c, "echo first >> $LAB/trace"]}
    rollback: {name: undo-first, local: {argv: [/bin/sh, -c, "echo undo-first >> $LAB/trace"]}}
  - name: gate
    approve: {prompt: "Go on with \${params.reason}?", timeout: 2m}
  - name: long
    local: {argv: [/bin/sleep, "60"]}
    timeout: 90s
    on_failure: rollback
  - name: never
    local: {argv: [/bin/sh, -c, "echo never >> $LAB/trace"]}
YAML
NOTIFY_LOG="$LAB/notify.log"
python3 "$DROVER_SOURCE_ROOT/tests/integration/notify-listen.py" "$LAB/notify.sock" "$NOTIFY_LOG" \
        >"$LAB/notify-listen.log" 2>&1 &
LAB_PIDS+=($!)

start_control() {
        rm -f "$LAB/control.fifo"
        mkfifo "$LAB/control.fifo"
        exec 7<>"$LAB/control.fifo"
        env -u WATCHDOG_PID -u JOURNAL_STREAM NOTIFY_SOCKET="$LAB/notify.sock" DROVER_WORKER="$DROVER_WORKER" \
                "$DCONTROL" --config "$LAB/drover.yaml" <&7 >>"$LAB/control.out" 2>>"$LAB/droverd.log" &
        DPID=$!
        LAB_PIDS+=("$DPID")
        wait_until 100 grep -q "started: watching" "$LAB/droverd.log"
}
answers_more_than() { test "$(grep -c '"cmd"' "$LAB/control.out")" -gt "$1"; }
dctl() {
        local n
        n=$(grep -c '"cmd"' "$LAB/control.out" 2>/dev/null || true)
        echo "$*" >&7
        wait_until 200 answers_more_than "${n:-0}"
        grep '"cmd"' "$LAB/control.out" | tail -1
}
sql_is() { [ "$(sql "$1")" = "$2" ]; }
json_field() { python3 -c "import json,sys; print(json.loads(sys.argv[1]).get(sys.argv[2]))" "$1" "$2"; }

wait_until 50 grep -qx LISTENING=1 "$NOTIFY_LOG"
start_control && ok "droverd (control) started" || { not_ok "did not start"; cat "$LAB/droverd.log"; exit 1; }

# --- refused synchronously ------------------------------------------------------------------
out=$(dctl start gated alice manual 0)
assert_eq "a missing required parameter: -EINVAL" -22 "$(json_field "$out" r)"
assert_contains "…with the worker's reason" "$out" "reason"
out=$(dctl start no-such-playbook alice)
assert_eq "an unknown playbook: -EINVAL" -22 "$(json_field "$out" r)"
assert_eq "nothing journaled as a run" 0 "$(sql "select count(*) from runs")"
out=$(dctl dry-run gated alice reason=plan)
assert_eq "dry run: 0" 0 "$(json_field "$out" r)"
assert_contains "dry run: the plan comes back" "$out" '"plan":'
assert_contains "dry run: the plan names the steps" "$out" "gate"

# --- a gated run ------------------------------------------------------------------------------
out=$(dctl start gated alice manual 0 reason=e2e)
assert_eq "start: 0" 0 "$(json_field "$out" r)"
run=$(json_field "$out" run)
assert_eq "the run id is journaled when start returns" "gated|manual|alice|running" \
        "$(sql "select playbook, trigger, actor, outcome from runs where id = ${run:-0}")"
wait_until 100 grep -q "\"id\":$run,\"kind\":\"run\",\"observer\":\"approval_requested\"" "$LAB/control.out" &&
        ok "the gate is announced to the observer" || not_ok "no approval_requested"
assert_contains "runs: waiting-approval with the prompt" "$(dctl runs)" '"prompt":"Go on with e2e?"'
check "STATUS= says the run waits for approval" \
        wait_until 50 grep -qE "^STATUS=.*running gated \(step 2/4, waiting for approval\)" "$NOTIFY_LOG"
assert_eq "four eyes: the requester cannot approve (-EPERM)" -1 "$(json_field "$(dctl answer run "$run" yes alice)" r)"
assert_eq "an unknown run: -ENOENT" -2 "$(json_field "$(dctl answer run 999 yes bob)" r)"
assert_eq "bob approves: 0" 0 "$(json_field "$(dctl answer run "$run" yes bob looks fine)" r)"
check "the approval reached the worker (gate step ok)" \
        wait_until 100 sql_is "select outcome from step_attempts where run_id = $run and step_name = 'gate'" ok
wait_until 100 sql_is "select outcome from step_attempts where run_id = $run and step_name = 'long'" running
assert_eq "no pending gate any more: -EALREADY" -114 "$(json_field "$(dctl answer run "$run" yes bob)" r)"
check "STATUS= names the step running" wait_until 50 grep -qE "^STATUS=.*running gated \(step 3/4\)" "$NOTIFY_LOG"
assert_eq "abort: 0" 0 "$(json_field "$(dctl abort "$run" carol)" r)"
check "the aborted run ends" wait_until 200 sql_is "select outcome from runs where id = $run" aborted
assert_eq "the long step was cancelled" cancelled \
        "$(sql "select outcome from step_attempts where run_id = $run and step_name = 'long'")"
assert_eq "the rollback ran, the last step did not" "first undo-first" "$(tr '\n' ' ' <"$LAB/trace" | sed 's/ $//')"
assert_contains "runs: ended, aborted" "$(dctl runs)" '"outcome":"aborted"'
assert_eq "abort of an ended run: -EALREADY" -114 "$(json_field "$(dctl abort "$run" carol)" r)"
assert_contains "gate approval journaled with its actor" \
        "$(sql "select message from events where kind = 'gate-approved'")" "bob approved the pending gate of run $run"
assert_contains "abort journaled with its actor" \
        "$(sql "select message from events where kind = 'run-abort-requested'")" "requested by carol"

# --- SIGTERM with a run in flight ---------------------------------------------------------------
out=$(dctl start gated alice manual 0 reason=stop)
run2=$(json_field "$out" run)
wait_until 100 grep -q "\"id\":$run2,\"kind\":\"run\",\"observer\":\"approval_requested\"" "$LAB/control.out"
dctl answer run "$run2" yes bob >/dev/null
wait_until 100 sql_is "select outcome from step_attempts where run_id = $run2 and step_name = 'long'" running
worker=$(sql "select pid from runs where id = $run2")
kill -TERM "$DPID"
wait "$DPID" && rc=0 || rc=$?
assert_eq "SIGTERM with a run in flight: exit 0" 0 "$rc"
assert_eq "the run was cancelled cleanly (aborted, not interrupted)" aborted "$(sql "select outcome from runs where id = $run2")"
check "the worker is gone" test ! -e "/proc/$worker/stat" -o "$(awk '{print $3}' "/proc/$worker/stat" 2>/dev/null)" = Z
assert_eq "stopping with runs journaled, then daemon-stopped" "daemon-stopping-runs daemon-stopped" \
        "$(sql "select group_concat(kind, ' ') from (select kind from events where kind like 'daemon-stop%' order by id)")"
check "STOPPING=1 sent" grep -qx STOPPING=1 "$NOTIFY_LOG"
lab_done
