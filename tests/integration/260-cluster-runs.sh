#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs across nodes (issue 9 phase 2b): drover-worker with --cluster-epoch against a real
# 3-member etcd 3.4 on loopback, a real sshd and a real HTTP server. A current epoch: the run
# acts, the run record in etcd has every step, the HTTP server sees X-Drover-Fencing-Token
# and the SSH step sees DROVER_FENCING_TOKEN. A stale epoch: the first step does not act
# (the HTTP server counts no request) and the run is journaled fenced. A worker killed -9 in
# the middle of step 2 of 3: another node's worker with --resume journals what the first
# did (with its node), does not repeat step 1, asks before re-running the non-idempotent
# step 2 (deny: nothing more acts; approve: it runs again, then step 3), and re-runs an
# idempotent in-flight step without asking. Actions are counted where they land.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib-etcd.sh"
NAME=t260
PREFIX=/drover/$NAME
trap 'etcd_cleanup; lab_cleanup' EXIT

LAB_SSHD_EXTRA="AcceptEnv DROVER_FENCING_TOKEN" # as the lab's sshd (drills/lab/lib/sshd.sh)
lab_start_sshd
lab_start_http
lab_config
etcd_cluster_start "$LAB/etcd"
ok "3-member etcd cluster healthy"
EPS=$(IFS=,; echo "${ETCD_ENDPOINTS[*]}")
etcdctl_() { ETCDCTL_API=3 etcdctl --endpoints "$EPS" --command-timeout=3s "$@"; }
mkdir -p "$LAB/playbooks"
echo "playbook_dir: $LAB/playbooks" >>"$LAB/drover.yaml"
cp "$LAB/drover.yaml" "$LAB/beta.yaml"
for n in alpha beta; do
        cat >>"$LAB/$([ $n = alpha ] && echo drover || echo beta).yaml" <<YAML
cluster:
  node: $n
  name: $NAME
  endpoints: [$EPS]
YAML
done

# Three steps; step 2 records each start on the SSH host, then holds while $LAB/NAME.hold
# exists (the window in which its worker is killed).
playbook() { # NAME IDEMPOTENT(true|false)
        cat >"$LAB/playbooks/$1.yaml" <<YAML
name: $1
kind: custom
targets:
  api: {endpoint: api}
  h1: {host: h1}
params:
  reason: {type: string, required: true}
steps:
  - name: open
    http: {target: api, method: POST, url: /record/$1-s1}
  - name: move
    idempotent: $2
    ssh: {target: h1, command: "echo \"token=\$DROVER_FENCING_TOKEN\" >> $LAB/$1-s2.log; while [ -e $LAB/$1.hold ]; do sleep 0.1; done"}
    timeout: 60s
  - name: close
    http: {target: api, method: POST, url: /record/$1-s3}
YAML
}
playbook quick false
playbook switch false
playbook switch-idem true

lead() { # NODE: (re)creates the leader key; prints its create revision (the epoch)
        etcdctl_ del "$PREFIX/leader" >/dev/null
        etcdctl_ put "$PREFIX/leader" "$1" >/dev/null
        etcdctl_ get "$PREFIX/leader" -w json |
                python3 -c 'import json,sys; print(json.load(sys.stdin)["kvs"][0]["create_revision"])'
}
count() { python3 -c 'import json,sys,urllib.request; print(json.load(urllib.request.urlopen(sys.argv[1]))["count"])' \
        "http://127.0.0.1:$HTTP_PORT/count/$1"; }
lines() { [ -f "$1" ] && grep -c . "$1" || echo 0; }
header() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["headers"].get("X-Drover-Fencing-Token",""))' "$1"; }
keys() { etcdctl_ get --keys-only --prefix "$PREFIX/$1" | grep . || true; }
meta_state() { etcdctl_ get --print-value-only "$PREFIX/runs/$1/meta" | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])'; }
worker() { # CONFIG ARGS... (stdin/stdout as given by the caller)
        local cfg=$1
        shift
        "$DROVER_WORKER" --protocol=1 --parent-pid=$BASHPID --config="$cfg" --db="$LAB/drover.db" --trigger=manual \
                --actor=tester "$@"
}
field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1]).get(sys.argv[2], ""))' "$1" "$2"; }

# --- a current epoch ---------------------------------------------------------------------
E1=$(lead alpha)
worker "$LAB/drover.yaml" --cluster-epoch="$E1" --param=reason=r1 -- quick </dev/null >"$LAB/quick.out" 2>"$LAB/quick.err" \
        && rc=0 || rc=$?
assert_eq "current epoch: the run succeeds" 0 "$rc"
RUN1="$E1-alpha-$(sql "select max(id) from runs")"
assert_eq "the run record has one attempt of each step" \
        "$PREFIX/runs/$RUN1/steps/0000.001 $PREFIX/runs/$RUN1/steps/0001.001 $PREFIX/runs/$RUN1/steps/0002.001" \
        "$(keys "runs/$RUN1/steps/" | tr '\n' ' ' | sed 's/ $//')"
assert_eq "the run record says succeeded" succeeded "$(meta_state "$RUN1")"
assert_eq "the finished run is not active any more" "" "$(keys active/)"
assert_eq "the HTTP server saw the fencing token" "$E1" "$(header "$LAB/http/quick-s1.1.json")"
assert_eq "the SSH step saw DROVER_FENCING_TOKEN" "token=$E1" "$(cat "$LAB/quick-s2.log")"
step_rec=$(etcdctl_ get --print-value-only "$PREFIX/runs/$RUN1/steps/0001.001")
assert_contains "a step record names its node" "$step_rec" '"node":"alpha"'

# --- a stale epoch -------------------------------------------------------------------------
E2=$(lead alpha) # the same node, a new leadership: E1 is stale now
worker "$LAB/drover.yaml" --cluster-epoch="$E1" --param=reason=r2 -- quick </dev/null >"$LAB/stale.out" 2>"$LAB/stale.err" \
        && rc=0 || rc=$?
assert_eq "stale epoch: the run fails (exit 1)" 1 "$rc"
assert_eq "stale epoch: the first step sent no request" 1 "$(count quick-s1)"
assert_eq "stale epoch: no step attempt journaled" 0 \
        "$(sql "select count(*) from step_attempts where run_id=(select max(id) from runs)")"
assert_eq "stale epoch: the run is journaled interrupted" interrupted "$(sql "select outcome from runs order by id desc limit 1")"
ev=$(sql "select message from events where kind='cluster-fenced' and run_id=(select max(id) from runs)")
assert_contains "stale epoch: a cluster-fenced event names the leader's epoch" "$ev" "alpha leads in epoch $E2"
assert_contains "stale epoch: the progress lines carry the event" "$(cat "$LAB/stale.out")" '"kind":"cluster-fenced"'
assert_eq "stale epoch: nothing written to etcd for it" "" "$(keys "runs/$E1-alpha-$(sql "select max(id) from runs")/")"

# --- kill -9 in the middle of step 2, then another node takes over --------------------------
kill_in_step2() { # PLAYBOOK: runs it as alpha and kills its worker while step 2 runs; prints the cluster run id
        local pb=$1 w before
        before=$(lines "$LAB/$pb-s2.log")
        touch "$LAB/$pb.hold"
        worker "$LAB/drover.yaml" --cluster-epoch="$E2" --param=reason=r3 -- "$pb" </dev/null >"$LAB/$pb.out" \
                2>"$LAB/$pb.err" &
        w=$!
        step2_started() { [ "$(lines "$LAB/$pb-s2.log")" -gt "$before" ]; }
        wait_until 300 step2_started || true
        kill -KILL "$w"
        wait "$w" 2>/dev/null || true
        rm -f "$LAB/$pb.hold" # the remote command of the killed session ends; a re-run does not hold
        echo "$E2-alpha-$(sql "select max(id) from runs")"
}
RUN3=$(kill_in_step2 switch)
assert_eq "killed: step 1 acted once, step 2 started once" "1 1" "$(count switch-s1) $(lines "$LAB/switch-s2.log")"
assert_eq "killed: the run is still active in etcd" "$PREFIX/active/$RUN3" "$(keys active/)"
E3=$(lead beta)

# A resume whose gate is answered over the pipes, like droverd does.
resume_answered() { # RUN ANSWER(true: approve, false: deny, skip, none) OUT
        local run=$1 answer=$2 out=$3 wpid line ev
        rm -f "$LAB/answers" "$LAB/progress.fifo"
        mkfifo "$LAB/answers" "$LAB/progress.fifo"
        worker "$LAB/beta.yaml" --cluster-epoch="$E3" --resume="$run" <"$LAB/answers" >"$LAB/progress.fifo" \
                2>"$out.err" &
        wpid=$!
        exec 7>"$LAB/answers" 8<"$LAB/progress.fifo"
        : >"$out"
        while IFS= read -r -t 60 -u 8 line; do
                printf '%s\n' "$line" >>"$out"
                ev=$(field "$line" event)
                if [ "$ev" = approval-requested ] && [ "$answer" = skip ]; then
                        echo '{"approve":false,"skip":true,"actor":"carol","comment":"it moved: checked by hand"}' >&7
                elif [ "$ev" = approval-requested ]; then
                        echo "{\"approve\":$answer,\"actor\":\"carol\",\"comment\":\"checked the gateway\"}" >&7
                fi
                [ "$ev" = run-finished ] && break
        done
        wait "$wpid" && rc=0 || rc=$?
        exec 7>&- 8<&-
        return 0
}
resume_answered "$RUN3" false "$LAB/deny.out"
assert_eq "resume, gate denied: the run fails (exit 1)" 1 "$rc"
assert_contains "resume: the gate asks about the in-flight step" "$(cat "$LAB/deny.out")" \
        "Step 'move' was in flight on node alpha"
assert_eq "resume, denied: step 1 not repeated, step 2 not re-run, step 3 never ran" "1 1 0" \
        "$(count switch-s1) $(lines "$LAB/switch-s2.log") $(count switch-s3)"
assert_eq "resume, denied: the run record is aborted" aborted "$(meta_state "$RUN3")"
assert_eq "resume, denied: the local run is aborted" aborted "$(sql "select outcome from runs order by id desc limit 1")"

E2=$(lead alpha)
RUN4=$(kill_in_step2 switch)
E3=$(lead beta)
resume_answered "$RUN4" true "$LAB/approve.out"
assert_eq "resume, gate approved: the run succeeds" 0 "$rc"
assert_eq "resume, approved: step 1 not repeated, step 2 re-run once, step 3 once (2nd run)" "2 3 1" \
        "$(count switch-s1) $(lines "$LAB/switch-s2.log") $(count switch-s3)"
assert_eq "the re-run got the new leader's token" "token=$E3" "$(tail -1 "$LAB/switch-s2.log")"
assert_eq "the record: step 2 attempt 1 by alpha, attempt 2 by beta" "alpha beta" \
        "$(for a in 001 002; do etcdctl_ get --print-value-only "$PREFIX/runs/$RUN4/steps/0001.$a" |
                python3 -c 'import json,sys; print(json.load(sys.stdin)["node"])'; done | tr '\n' ' ' | sed 's/ $//')"
assert_eq "resume, approved: the run record succeeded" succeeded "$(meta_state "$RUN4")"
LOCAL=$(sql "select max(id) from runs")
assert_contains "journal: cluster-resumed event" "$(sql "select message from events where run_id=$LOCAL and kind='cluster-resumed'")" \
        "run $RUN4 taken over"
assert_eq "journal: alpha's steps imported with their node" \
        "open|ok|done by node alpha (epoch $E2); imported from the cluster run record
move|interrupted|done by node alpha (epoch $E2); imported from the cluster run record" \
        "$(sql "select step_name, outcome, detail from step_attempts where run_id=$LOCAL and detail like 'done by node%' order by id")"
show=$("$DROVERCTL" --config "$LAB/beta.yaml" show "$LOCAL" 2>&1 || true)
assert_contains "droverctl show: the old leader's step, with its node" "$show" "done by node alpha"

E2=$(lead alpha) # alpha leads again, is killed in step 2 again; this time the step is skipped
RUN6=$(kill_in_step2 switch)
E3=$(lead beta)
resume_answered "$RUN6" skip "$LAB/skip.out"
assert_eq "resume, step skipped at the gate: the run succeeds" 0 "$rc"
assert_contains "resume: the gate offers the skip" "$(grep approval-requested "$LAB/skip.out")" '"skippable":true'
assert_eq "resume, skipped: step 1 not repeated, step 2 not re-run, step 3 once more (3rd run)" "3 4 2" \
        "$(count switch-s1) $(lines "$LAB/switch-s2.log") $(count switch-s3)"
LOCAL=$(sql "select max(id) from runs")
assert_eq "journal: step 2 skipped by the commander's decision" \
        "skipped|step 'move' is skipped, not run again: decided by carol: it moved: checked by hand" \
        "$(sql "select outcome, stdout_text from step_attempts where run_id=$LOCAL and step_name='move' and coalesce(detail, '') not like 'done by node%'")"
assert_eq "the record: step 2 attempt 2 by beta, skipped" "beta skipped" \
        "$(etcdctl_ get --print-value-only "$PREFIX/runs/$RUN6/steps/0001.002" |
                python3 -c 'import json,sys; r=json.load(sys.stdin); print(r["node"], r["outcome"])')"
assert_eq "resume, skipped: the run record succeeded" succeeded "$(meta_state "$RUN6")"

E2=$(lead alpha) # alpha leads once more, and is killed again
RUN5=$(kill_in_step2 switch-idem)
E3=$(lead beta)
resume_answered "$RUN5" none "$LAB/idem.out"
assert_eq "resume of an idempotent in-flight step: the run succeeds" 0 "$rc"
assert_not_contains "resume, idempotent: no gate" "$(cat "$LAB/idem.out")" approval-requested
assert_eq "resume, idempotent: step 1 once, step 2 re-run, step 3 once" "1 2 1" \
        "$(count switch-idem-s1) $(lines "$LAB/switch-idem-s2.log") $(count switch-idem-s3)"
assert_eq "nothing left active" "" "$(keys active/)"

out=$(worker "$LAB/beta.yaml" --cluster-epoch="$E3" --resume="$RUN5" </dev/null 2>&1) && rc=0 || rc=$?
assert_eq "a finished run cannot be resumed (refused, exit 2)" 2 "$rc"
assert_contains "it says so" "$out" "has already finished (succeeded)"

# --- etcd gone: no step acts without the fence ------------------------------------------------
before=$(count quick-s1)
etcd_cleanup
worker "$LAB/beta.yaml" --cluster-epoch="$E3" --param=reason=r9 -- quick </dev/null >"$LAB/down.out" 2>"$LAB/down.err" \
        && rc=0 || rc=$?
assert_eq "etcd down: the run fails (exit 1)" 1 "$rc"
assert_eq "etcd down: the first step sent no request" "$before" "$(count quick-s1)"
assert_contains "etcd down: the cluster-fenced event says etcd was not reached" \
        "$(sql "select message from events where kind='cluster-fenced' and run_id=(select max(id) from runs)")" \
        "etcd not reached"
lab_done
