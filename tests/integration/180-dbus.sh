#!/usr/bin/env bash
# droverd's D-Bus API on a PRIVATE system-type dbus-daemon that enforces the real policy
# file (units/org.drover1.conf), droverctl run as real users (runuser): a reader (group
# drover) may read and is refused every mutating call; an outsider is refused even reads;
# two commanders (group drover-commanders) run, approve (four-eyes refuses the requester),
# abort and set maintenance; `attach` follows a run to its end; an approval gate's timeout
# expires it; bad arguments get InvalidArgs and unknown objects their named error; the
# journal names every caller. Then the same droverd behind a bus whose policy lets anyone
# call: droverd's own credential check still refuses the reader.
# Waits are bounded polls; nothing asserts how long anything took.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib-dbus.sh"
DROVERD="$DROVER_BUILD_ROOT/src/daemon/droverd"

add_user drvt-reader drover
add_user drvt-cmd1 drover,drover-commanders
add_user drvt-cmd2 drover,drover-commanders
add_user drvt-outsider

lab_start_sshd
lab_start_http
cat >"$LAB/extra.yaml" <<YAML
approvals: {four_eyes: true}
YAML
lab_config "$LAB/extra.yaml"
chmod 755 "$LAB" # the test users reach the bus socket and the playbooks through it

cat >"$LAB/gate.yaml" <<'YAML'
name: gated
description: two steps around an approval gate
kind: custom
params:
  reason: {type: string, required: true}
targets:
  one: {host: h1}
steps:
  - name: before
    ssh: {target: one, command: "echo before ${params.reason}"}
  - name: gate
    approve: {prompt: "Go on with ${params.reason}?", timeout: 120s}
  - name: after
    ssh: {target: one, command: "echo after"}
YAML
cat >"$LAB/expire.yaml" <<'YAML'
name: expiring-gate
description: nobody answers; the gate expires
kind: custom
steps:
  - name: gate
    approve: {prompt: "Nobody will answer this", timeout: 1s}
  - name: never
    local: {argv: [/bin/true]}
YAML
cat >"$LAB/long.yaml" <<'YAML'
name: long
description: a step that takes long enough to be aborted
kind: custom
targets:
  one: {host: h1}
steps:
  - name: long
    ssh: {target: one, command: "sleep 60"}
    timeout: 90s
YAML
chmod 644 "$LAB"/*.yaml

start_droverd() {
        local i
        DROVER_WORKER="$DROVER_WORKER" "$DROVERD" --config "$LAB/drover.yaml" >>"$LAB/droverd.log" 2>&1 &
        DPID=$!
        LAB_PIDS+=("$DPID")
        for i in $(seq 1 200); do
                busctl --address="$BUS" status org.drover1 >/dev/null 2>&1 && return 0
                sleep 0.05
        done
        echo "# droverd did not take org.drover1; its log:" >&2
        sed 's/^/#   /' "$LAB/droverd.log" >&2
        return 1
}

stop_pid() { # PID: SIGTERM and reap
        kill "$1" 2>/dev/null || true
        wait "$1" 2>/dev/null || true
}

stop_droverd() { # SIGTERM; a clean exit (under ASan: no leak, no error report)
        local rc
        kill -TERM "$DPID"
        wait "$DPID" && rc=0 || rc=$?
        assert_eq "droverd stops cleanly on SIGTERM (exit 0)" 0 "$rc"
        [ "$rc" = 0 ] || tail -n 40 "$LAB/droverd.log" | sed 's/^/# droverd: /'
}

bctl() { # busctl call on the Manager
        busctl --address="$BUS" call org.drover1 /org/drover1 org.drover1.Manager "$@"
}

run_prop() { # RUN PROPERTY → value (busctl prints 's "x"')
        busctl --address="$BUS" get-property org.drover1 "/org/drover1/run/$1" org.drover1.Run "$2" 2>/dev/null |
                sed -E 's/^[a-z] "?//; s/"$//'
}

wait_run_prop() { # RUN PROPERTY VALUE
        local i
        for i in $(seq 1 300); do
                [ "$(run_prop "$1" "$2")" = "$3" ] && return 0
                sleep 0.1
        done
        echo "# run $1: $2 never became '$3' (is '$(run_prop "$1" "$2")')" >&2
        return 1
}

write_bus_conf "$LAB/bus/strict.conf"
start_bus "$LAB/bus/strict.conf"
start_droverd && ok "droverd owns org.drover1 on the private system bus" || not_ok "droverd is not on the bus"

# --- reading: group drover yes, outsiders no --------------------------------------------
out=$(as drvt-reader sites 2>&1) && rc=0 || rc=$?
echo "$out" | sed 's/^/# /'
assert_eq "reader: sites exits 0" 0 "$rc"
assert_contains "reader: sites lists the primary site" "$out" "primary"
out=$(as drvt-reader status --json 2>&1) && rc=0 || rc=$?
assert_eq "reader: status --json exits 0" 0 "$rc"
check "reader: status --json is one JSON object with sites, incidents, runs" \
        python3 -c 'import json,sys; o=json.loads(sys.argv[1]); assert set(o)=={"sites","incidents","runs"}; assert any(s["name"]=="backup" for s in o["sites"])' "$out"
out=$(as drvt-reader incidents 2>&1) && rc=0 || rc=$?
assert_eq "reader: incidents exits 0" 0 "$rc"
out=$(as drvt-outsider sites 2>&1) && rc=0 || rc=$?
assert_eq "outsider: sites refused by the policy (exit 4)" 4 "$rc"
assert_contains "outsider: AccessDenied" "$out" "AccessDenied"

# --- mutating as the reader: refused ----------------------------------------------------
out=$(as drvt-reader run "$LAB/gate.yaml" -p reason=nope --detach 2>&1) && rc=0 || rc=$?
echo "$out" | sed 's/^/# /'
assert_eq "reader: run refused (exit 4)" 4 "$rc"
assert_contains "reader: run refused with AccessDenied" "$out" "AccessDenied"
assert_eq "reader: no run was started" 0 "$(sql "SELECT count(*) FROM runs")"
for cmd in "abort 1" "approve 1" "deny incident 1" "skip 1" "ack 1" "maintenance primary on" "override --all on" "reload"; do
        # shellcheck disable=SC2086
        as drvt-reader $cmd >/dev/null 2>&1 && rc=0 || rc=$?
        assert_eq "reader: '$cmd' refused (exit 4)" 4 "$rc"
done
as drvt-reader note 1 "hello" >/dev/null 2>&1 && rc=0 || rc=$?
assert_eq "reader: note refused (exit 4)" 4 "$rc"

# --- a commander runs; four-eyes; another approves; attach follows to the end --------------
out=$(as drvt-cmd1 run "$LAB/gate.yaml" -p reason=drill-7 --detach --json 2>&1) && rc=0 || rc=$?
echo "$out" | sed 's/^/# /'
assert_eq "commander: run --detach exits 0" 0 "$rc"
RUN=$(echo "$out" | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["run"])' 2>/dev/null || echo 0)
check "commander: run --detach prints the run id" test "$RUN" -gt 0
assert_eq "the journal's run names the requester" drvt-cmd1 "$(sql "SELECT actor FROM runs WHERE id = $RUN")"
wait_run_prop "$RUN" State waiting-approval && ok "the run waits at the gate" || not_ok "the run never reached the gate"
assert_contains "PendingPrompt has the expanded prompt" "$(run_prop "$RUN" PendingPrompt)" "Go on with drill-7?"

as drvt-cmd2 attach "$RUN" --json >"$LAB/attach.out" 2>"$LAB/attach.err" &
ATTACH_PID=$!
LAB_PIDS+=("$ATTACH_PID")
for i in $(seq 1 100); do # attach has subscribed once it printed nothing yet is connected: poll its bus match
        busctl --address="$BUS" list 2>/dev/null | grep -q "drvt-cmd2" && break
        sleep 0.05
done

out=$(as drvt-cmd1 approve "$RUN" -m "my own" 2>&1) && rc=0 || rc=$?
echo "$out" | sed 's/^/# /'
assert_eq "four-eyes: the requester cannot approve (exit 4)" 4 "$rc"
assert_contains "four-eyes: FourEyes error" "$out" "org.drover1.Error.FourEyes"
assert_eq "four-eyes: still waiting" waiting-approval "$(run_prop "$RUN" State)"
out=$(as drvt-cmd2 skip "$RUN" -m "not a resume gate" 2>&1) && rc=0 || rc=$?
echo "$out" | sed 's/^/# /'
assert_eq "skip at an approve step's gate is refused (exit 2)" 2 "$rc"
assert_contains "skip: InvalidArgs says only a step left in flight can be skipped" "$out" \
        "offers no skip: only a step another node left in flight can be skipped"
assert_eq "skip refused: still waiting" waiting-approval "$(run_prop "$RUN" State)"
as drvt-cmd2 skip incident 1 >/dev/null 2>&1 && rc=0 || rc=$?
assert_eq "skip of an incident's proposal: a usage error (exit 2)" 2 "$rc"
out=$(as drvt-cmd2 approve run "$RUN" -m "second pair of eyes" --json 2>&1) && rc=0 || rc=$?
echo "$out" | sed 's/^/# /'
assert_eq "another commander approves (exit 0)" 0 "$rc"
wait "$ATTACH_PID" && rc=0 || rc=$?
sed 's/^/# attach: /' "$LAB/attach.out" "$LAB/attach.err"
assert_eq "attach exits 0 when the run succeeds" 0 "$rc"
check "attach saw the last step finish" grep -q '"event":"step-finished".*"step":"after"' "$LAB/attach.out"
check "attach saw the run end: succeeded" grep -q '"event":"run-finished".*"outcome":"succeeded"' "$LAB/attach.out"
assert_eq "the run succeeded" succeeded "$(sql "SELECT outcome FROM runs WHERE id = $RUN")"
assert_contains "the gate records its approver" \
        "$(sql "SELECT coalesce(stdout_text,'') || coalesce(detail,'') FROM step_attempts WHERE run_id = $RUN AND step_name = 'gate'")" \
        "drvt-cmd2"
out=$(as drvt-cmd2 approve "$RUN" 2>&1) && rc=0 || rc=$?
check "approving an ended run: nothing pending or no such run (exit 5 or 6)" test "$rc" -eq 5 -o "$rc" -eq 6

# --- runs and show through droverd (the journal file is not readable to commanders) -------
chmod 600 "$LAB"/drover.db*
out=$(as drvt-reader runs --json 2>&1) && rc=0 || rc=$?
assert_eq "reader: runs through droverd exits 0" 0 "$rc"
check "reader: runs lists the approved run as succeeded" python3 -c '
import json, sys
runs = json.loads(sys.argv[1])
assert any(r["id"] == int(sys.argv[2]) and r["outcome"] == "succeeded" and r["actor"] == "drvt-cmd1" for r in runs)' \
        "$out" "$RUN"
out=$(as drvt-reader show "$RUN" 2>&1) && rc=0 || rc=$?
echo "$out" | sed 's/^/# show: /'
assert_eq "reader: show through droverd exits 0" 0 "$rc"
assert_contains "show: the step after the gate" "$out" "after"
assert_contains "show: the approver in the gate's output" "$out" "drvt-cmd2"
out=$(as drvt-reader show "$RUN" --json 2>&1)
check "show --json: three forward step attempts" python3 -c '
import json, sys
o = json.loads(sys.argv[1])
assert [s["name"] for s in o["step_attempts"] if s["phase"] == "forward"] == ["before", "gate", "after"]' "$out"
as drvt-reader show 99999 >/dev/null 2>&1 && rc=0 || rc=$?
assert_eq "show of an unknown run through droverd: exit 5" 5 "$rc"

# --- attach in the foreground: run without --detach follows to the end -------------------
out=$(as drvt-cmd1 run "$LAB/expire.yaml" 2>&1) && rc=0 || rc=$?
echo "$out" | sed 's/^/# /'
assert_eq "a gate nobody answers expires: run exits 1" 1 "$rc"
assert_contains "run shows the gate step (StepStarted, or CurrentStep when attached later)" "$out" "gate"
assert_contains "run shows the gate's prompt (ApprovalRequested, or PendingPrompt when attached later)" "$out" "approval needed: Nobody will answer this"
assert_contains "run shows the gate's end (StepFinished)" "$out" "timeout"
assert_contains "run shows the run's end (RunChanged)" "$out" "Run $(sql "SELECT max(id) FROM runs WHERE playbook = 'expiring-gate'") failed"
EXP=$(sql "SELECT max(id) FROM runs WHERE playbook = 'expiring-gate'")
assert_eq "the expired run failed" failed "$(sql "SELECT outcome FROM runs WHERE id = $EXP")"
assert_eq "the expired gate's attempt timed out" timeout \
        "$(sql "SELECT outcome FROM step_attempts WHERE run_id = $EXP AND step_name = 'gate'")"
assert_eq "the step after the expired gate never ran" 0 \
        "$(sql "SELECT count(*) FROM step_attempts WHERE run_id = $EXP AND step_name = 'never'")"

# --- abort ---------------------------------------------------------------------------------
out=$(as drvt-cmd1 run "$LAB/long.yaml" --detach --json 2>&1) && rc=0 || rc=$?
LONG=$(echo "$out" | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["run"])' 2>/dev/null || echo 0)
check "long run started" test "$LONG" -gt 0
wait_run_prop "$LONG" CurrentStep long && ok "long run is in its step" || not_ok "long run never started its step"
out=$(as drvt-cmd2 abort "$LONG" 2>&1) && rc=0 || rc=$?
echo "$out" | sed 's/^/# /'
assert_eq "a commander aborts (exit 0)" 0 "$rc"
wait_for_sql "SELECT outcome FROM runs WHERE id = $LONG" aborted 600 && ok "the aborted run is journaled aborted" ||
        not_ok "run $LONG: outcome '$(sql "SELECT outcome FROM runs WHERE id = $LONG")', not aborted"

# --- maintenance ---------------------------------------------------------------------------
as drvt-cmd1 maintenance backup on >/dev/null 2>&1 && rc=0 || rc=$?
assert_eq "a commander sets maintenance (exit 0)" 0 "$rc"
out=$(as drvt-reader sites --json 2>&1)
check "sites shows backup in maintenance" \
        python3 -c 'import json,sys; assert [s["maintenance"] for s in json.loads(sys.argv[1]) if s["name"]=="backup"]==[True]' "$out"
as drvt-cmd1 maintenance nowhere on >/dev/null 2>&1 && rc=0 || rc=$?
assert_eq "maintenance of an unknown site: exit 5" 5 "$rc"

# --- manual override -------------------------------------------------------------------------
as drvt-cmd1 override primary on >/dev/null 2>&1 && rc=0 || rc=$?
assert_eq "a commander sets a site's manual override (exit 0)" 0 "$rc"
as drvt-cmd2 override primary on >/dev/null 2>&1 && rc=0 || rc=$?
assert_eq "the same override again: nothing to do (exit 6)" 6 "$rc"
as drvt-cmd2 override --all on >/dev/null 2>&1 && rc=0 || rc=$?
assert_eq "override of every site (exit 0)" 0 "$rc"
as drvt-cmd1 override nowhere on >/dev/null 2>&1 && rc=0 || rc=$?
assert_eq "override of an unknown site: exit 5" 5 "$rc"
as drvt-cmd1 override --all off >/dev/null 2>&1 && rc=0 || rc=$?
assert_eq "override of every site cleared (exit 0)" 0 "$rc"

# --- dry run through the daemon -------------------------------------------------------------
n_runs=$(sql "SELECT count(*) FROM runs")
out=$(as drvt-cmd1 run "$LAB/gate.yaml" -p reason=plan-only --dry-run 2>&1) && rc=0 || rc=$?
echo "$out" | sed 's/^/# /'
assert_eq "dry run through droverd exits 0" 0 "$rc"
assert_contains "dry run prints the plan" "$out" "plan-only"

# --- bad arguments and unknown objects (busctl as root: the policy lets root call) ---------
out=$(bctl AbortRun x 0 2>&1) || true
assert_contains "AbortRun 0: InvalidArgs" "$out" "run id must be positive"
out=$(busctl --address="$BUS" --verbose call org.drover1 /org/drover1 org.drover1.Manager StartRun 'sa{ss}t' x 0 4 2>&1) || true
assert_contains "StartRun with unknown flags: InvalidArgs" "$out" "unknown flags 0x4"
out=$(bctl Approve sxs bogus 1 "" 2>&1) || true
assert_contains "Approve with a bad kind: InvalidArgs" "$out" 'kind must be "run" or "incident"'
out=$(bctl StartRun 'sa{ss}t' "$LAB/gate.yaml" 0 0 2>&1) || true
assert_contains "StartRun without a required param: InvalidArgs with the reason" "$out" "reason"
out=$(as drvt-cmd1 abort 99999 2>&1) && rc=0 || rc=$?
assert_eq "abort of an unknown run: exit 5" 5 "$rc"
assert_contains "abort of an unknown run: NoSuchRun" "$out" "org.drover1.Error.NoSuchRun"
out=$(bctl GetRun x 99999 2>&1) || true
assert_contains "GetRun 99999: NoSuchRun" "$out" "no run 99999"
out=$(bctl GetIncident x 99999 2>&1) || true
assert_contains "GetIncident 99999: NoSuchIncident" "$out" "no incident 99999"
out=$(as drvt-cmd1 ack 99999 2>&1) && rc=0 || rc=$?
assert_eq "ack of an unknown incident: exit 5" 5 "$rc"
out=$(bctl GetSite s nowhere 2>&1) || true
assert_contains "GetSite nowhere: NoSuchSite" "$out" "no site 'nowhere'"
out=$(busctl --address="$BUS" get-property org.drover1 /org/drover1/run/99999 org.drover1.Run State 2>&1) || true
assert_contains "an unknown run object is unknown" "$out" "Unknown object"
assert_eq "a known run object answers" drvt-cmd1 "$(run_prop "$RUN" Actor)"
out=$(busctl --address="$BUS" tree org.drover1 2>&1) || true
assert_contains "the run objects are enumerated" "$out" "/org/drover1/run/$RUN"

# --- an incident from the journal, read through the API ----------------------------------
sql "INSERT INTO incidents (opened_at, site, subject, phenomenon, state, level) VALUES (1764500000000000, 'primary', 'primary-web', 'HTTP 503', 'detected', 2)"
INC=$(sql "SELECT max(id) FROM incidents")
out=$(as drvt-reader incident "$INC" --json 2>&1) && rc=0 || rc=$?
assert_eq "reader: incident ID exits 0" 0 "$rc"
assert_contains "incident ID shows it" "$out" '"subject":"primary-web"'
out=$(busctl --address="$BUS" get-property org.drover1 "/org/drover1/incident/$INC" org.drover1.Incident Level 2>&1) || true
assert_eq "the incident object has its level" "i 2" "$out"

# --- the journal names the callers -----------------------------------------------------------
audit() { sql "SELECT json_extract(data_json, '\$.user') || ' ' || json_extract(data_json, '\$.method') || ' ' || json_extract(data_json, '\$.result') FROM events WHERE kind = 'bus-call' ORDER BY id"; }
a=$(audit)
echo "$a" | sed 's/^/# audit: /'
assert_contains "journal: StartRun by drvt-cmd1" "$a" "drvt-cmd1 StartRun ok"
assert_contains "journal: refused self-approval" "$a" "drvt-cmd1 Approve org.drover1.Error.FourEyes"
assert_contains "journal: approval by drvt-cmd2" "$a" "drvt-cmd2 Approve ok"
assert_contains "journal: abort by drvt-cmd2" "$a" "drvt-cmd2 AbortRun ok"
assert_contains "journal: maintenance by drvt-cmd1" "$a" "drvt-cmd1 SetMaintenance ok"
assert_contains "journal: override by drvt-cmd1" "$a" "drvt-cmd1 SetOverride ok"
assert_contains "journal: override of every site by drvt-cmd2" "$a" "drvt-cmd2 SetOverride ok"
assert_contains "journal: bad arguments by root" "$a" "root AbortRun org.freedesktop.DBus.Error.InvalidArgs"
assert_eq "journal: the params' values are masked in bus-call events" 0 \
        "$(sql "SELECT count(*) FROM events WHERE kind = 'bus-call' AND data_json LIKE '%drill-7%'")"
uid2=$(id -u drvt-cmd2)
assert_eq "journal: the approver's uid is recorded" 1 \
        "$(sql "SELECT count(*) FROM events WHERE kind = 'bus-call' AND json_extract(data_json, '\$.method') = 'Approve' AND json_extract(data_json, '\$.result') = 'ok' AND json_extract(data_json, '\$.uid') = $uid2")"

# --- reload, --help on every verb, bash completion -----------------------------------------
as drvt-cmd2 reload >/dev/null 2>&1 && rc=0 || rc=$?
assert_eq "a commander reloads droverd's inventory (exit 0)" 0 "$rc"
wait_for_sql "SELECT count(*) FROM events WHERE kind = 'config-reloaded'" 1 && ok "the reload is journaled" ||
        not_ok "no config-reloaded event after Reload"
for v in validate status sites incidents incident run attach runs show approve deny skip abort ack note maintenance override reload; do
        out=$("$DROVERCTL" "$v" --help 2>&1) && rc=0 || rc=$?
        [ "$rc" = 0 ] && [[ "$out" == *"Usage: droverctl $v"* ]] && ok "$v --help" || not_ok "$v --help: exit $rc: $out"
done
comp() { # as the reader, complete the words given
        runuser -u drvt-reader -- env DBUS_SYSTEM_BUS_ADDRESS="$BUS" PATH="$DROVER_BUILD_ROOT/src/ctl:$PATH" \
                bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _droverctl; echo "${COMPREPLY[*]}"' \
                _ "$DROVER_SOURCE_ROOT/src/ctl/droverctl-completion.bash" "$@"
}
assert_eq "bash completion: verbs" "attach approve abort ack" "$(comp droverctl a)"
assert_eq "bash completion: run's options" "--detach" "$(comp droverctl run --de)"
assert_eq "bash completion: sites asked of droverd" "primary backup" "$(comp droverctl maintenance '')"
assert_eq "bash completion: on|off" "on off" "$(comp droverctl maintenance primary '')"

# --- droverd's own check, behind a bus whose policy lets anyone call ------------------------
stop_droverd
stop_pid "$BUS_PID"
write_bus_conf "$LAB/bus/open.conf" '<policy context="mandatory"><allow send_destination="org.drover1"/></policy>'
start_bus "$LAB/bus/open.conf"
start_droverd && ok "droverd back on an open bus" || not_ok "droverd not on the open bus"
out=$(as drvt-reader abort 1 2>&1) && rc=0 || rc=$?
echo "$out" | sed 's/^/# /'
assert_eq "open bus: droverd itself refuses the reader's abort (exit 4)" 4 "$rc"
assert_contains "open bus: droverd's refusal names the group" "$out" "drover-commanders"
out=$(as drvt-outsider maintenance primary on 2>&1) && rc=0 || rc=$?
assert_eq "open bus: droverd refuses the outsider's maintenance (exit 4)" 4 "$rc"
assert_contains "journal: droverd's refusal of the reader" "$(audit)" \
        "drvt-reader AbortRun org.freedesktop.DBus.Error.AccessDenied"
as drvt-outsider sites >/dev/null 2>&1 && rc=0 || rc=$?
assert_eq "open bus: reads stay open (the policy's job)" 0 "$rc"
stop_droverd
stop_pid "$BUS_PID"

lab_done
