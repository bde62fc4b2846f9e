#!/usr/bin/env bash
# drover-worker on its own, started the way droverd starts it (include/drover/worker-protocol.h):
# a worker of another protocol version, or one missing an option, refuses (exit 2); a worker
# whose parent is not --parent-pid any more exits 126 before touching anything; a whole run
# over the pipes — progress lines, an approval answered on stdin, the journal; a malformed
# answer is ignored; a worker whose parent is killed dies with it (PR_SET_PDEATHSIG, set by
# the worker itself) and journal recovery marks its run interrupted.
source "$(dirname "$0")/lib.sh"
lab_keys
: >"$LAB/known_hosts"
lab_config
mkdir -p "$LAB/playbooks"
echo "playbook_dir: $LAB/playbooks" >>"$LAB/drover.yaml"
cat >"$LAB/playbooks/gated.yaml" <<YAML
name: gated
kind: custom
params:
  reason: {type: string, required: true}
steps:
  - name: hello
    local: {argv: [/bin/sh, -c, "echo hello \${params.reason}"]}
  - name: gate
    approve: {prompt: "Go on with \${params.reason}?", timeout: 2m}
  - name: after
    local: {argv: [/bin/true]}
YAML
cat >"$LAB/playbooks/long.yaml" <<YAML
name: long
kind: custom
steps:
  - name: long
    local: {argv: [/bin/sh, -c, "echo \$\$ > $LAB/step.pid; exec sleep 60"]}
    timeout: 90s
YAML
common=(--config="$LAB/drover.yaml" --db="$LAB/drover.db" --trigger=manual --actor=tester)
field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1]).get(sys.argv[2], ""))' "$1" "$2"; }

# --- refusals ---------------------------------------------------------------------------
out=$("$DROVER_WORKER" --protocol=2 --parent-pid=$$ "${common[@]}" -- gated 2>&1) && rc=0 || rc=$?
assert_eq "another protocol version: refused (exit 2)" 2 "$rc"
assert_contains "it says which protocol it speaks" "$out" "protocol 2 is not spoken here (this worker speaks 1)"
out=$("$DROVER_WORKER" --parent-pid=$$ "${common[@]}" -- gated 2>&1) && rc=0 || rc=$?
assert_eq "no --protocol: refused (exit 2)" 2 "$rc"
out=$("$DROVER_WORKER" --protocol=1 --parent-pid=$$ --approver=worker "${common[@]}" -- gated 2>&1) && rc=0 || rc=$?
assert_eq "droverctl's old hidden option: refused (exit 2)" 2 "$rc"
assert_contains "it names the option" "$out" "unknown option '--approver=worker'"
out=$("$DROVER_WORKER" --protocol=1 --parent-pid=1 "${common[@]}" --param=reason=x -- gated 2>&1) && rc=0 || rc=$?
assert_eq "parent is not --parent-pid: exits 126" 126 "$rc"
assert_contains "it says droverd is gone" "$out" "droverd (pid 1) is gone before the run started"
check "an orphaned worker touches no journal" test ! -e "$LAB/drover.db"
"$DROVER_WORKER" --protocol=1 --parent-pid=$$ "${common[@]}" -- gated >"$LAB/refused.out" 2>&1 </dev/null && rc=0 || rc=$?
assert_eq "a missing parameter: refused (exit 2)" 2 "$rc"
assert_eq "a refusal prints no progress line" "" "$(grep '^{' "$LAB/refused.out" || true)"
check "a refusal leaves no journal" test ! -e "$LAB/drover.db"

# --- a run over the pipes ---------------------------------------------------------------
# Two FIFOs, and the worker this shell's own child, as it is droverd's.
mkfifo "$LAB/answers" "$LAB/progress.fifo"
"$DROVER_WORKER" --protocol=1 --parent-pid=$$ "${common[@]}" --param=reason=drill-7 -- gated \
        <"$LAB/answers" >"$LAB/progress.fifo" 2>"$LAB/w.err" &
wpid=$!
exec 7>"$LAB/answers" 8<"$LAB/progress.fifo"
events=()
while IFS= read -r -t 60 -u 8 line; do
        printf '%s\n' "$line" >>"$LAB/progress"
        ev=$(field "$line" event)
        events+=("$ev")
        if [ "$ev" = approval-requested ]; then
                prompt=$(field "$line" prompt)
                echo 'not json' >&7
                echo '{"approve":true,"actor":"bob","comment":"looks fine"}' >&7
        fi
        [ "$ev" = run-finished ] && break
done
wait "$wpid" && rc=0 || rc=$?
exec 7>&- 8<&-
assert_eq "the run succeeds (exit 0)" 0 "$rc"
assert_eq "the first line is run-started" run-started "${events[0]:-}"
assert_eq "the last line is run-finished" run-finished "${events[-1]:-}"
assert_contains "an approval was requested" "${events[*]}" approval-requested
assert_eq "the prompt is expanded" "Go on with drill-7?" "${prompt:-}"
last=$(tail -n 1 "$LAB/progress")
assert_eq "run-finished: succeeded" succeeded "$(field "$last" outcome)"
assert_eq "run-finished: 3 steps ok" 3 "$(field "$last" ok)"
run=$(field "$(head -n 1 "$LAB/progress")" run)
assert_eq "run-started carries the journal's run id" "$(sql "select id from runs")" "$run"
assert_eq "journal: the run succeeded" "succeeded|manual|tester" "$(sql "select outcome, trigger, actor from runs")"
assert_contains "journal: the gate was approved by bob" "$(sql "select stdout_text from step_attempts where step_name='gate'")" "approved by bob"
assert_contains "the malformed answer was ignored, and said so" "$(cat "$LAB/w.err")" "ignoring a malformed answer line"
assert_eq "every progress line is a JSON object" "$(wc -l <"$LAB/progress")" "$(grep -c '^{.*}$' "$LAB/progress")"

# --- the worker dies with its parent ----------------------------------------------------
# A parent shell that starts the worker with its own pid, then is killed with SIGKILL.
export PIDF="$LAB/worker.pid"
bash -c 'w=$1; shift; "$w" --parent-pid=$$ "$@" </dev/null >/dev/null 2>&1 & echo $! >"$PIDF"; wait' \
        _ "$DROVER_WORKER" --protocol=1 "${common[@]}" -- long >/dev/null 2>&1 &
parent=$!
check "the long step runs" wait_for_sql "select outcome from step_attempts where step_name='long'" running
wpid=$(cat "$LAB/worker.pid" 2>/dev/null || true)
kill -9 "$parent"
wait "$parent" 2>/dev/null || true
gone() { [ ! -e "/proc/$1" ] || [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ]; }
check "the worker died with its parent" wait_until 100 gone "$wpid"
kill "$(cat "$LAB/step.pid")" 2>/dev/null || true # the step's own process (its own group) outlives it
"$DROVERCTL" runs --config "$LAB/drover.yaml" >/dev/null 2>&1 || true # opens the journal: recovery
assert_eq "recovery marks the run interrupted" interrupted "$(sql "select outcome from runs where playbook='long'")"
lab_done
