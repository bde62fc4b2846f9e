#!/usr/bin/env bash
# A passing playbook over real SSH and HTTP: every step kind, register + templates,
# a fan-out over a group, `when`, an approval gate answered on stdin, a notify; the
# journal holds every attempt; the API token reaches the server but never the output.
source "$(dirname "$0")/lib.sh"
lab_start_sshd
lab_start_http
lab_config

cat >"$LAB/pass.yaml" <<'YAML'
name: pass-all
description: every step kind against the test lab
kind: custom
params:
  reason: {type: string, required: true}
  skip_me: {type: bool, default: false}
objectives: {rto: 60s}
targets:
  one: {host: h1}
  both: {group: web}
  api: {endpoint: api}
steps:
  - name: hostname
    ssh: {target: one, command: "echo lag=42; echo to-stderr >&2"}
    register: true
    expect: {contains: "lag="}
  - name: fanout
    ssh: {target: both, command: "echo ${host.name} says ${steps.hostname.stdout}", parallel: 2}
  - name: health
    http: {target: api, url: /json}
    expect: {status: 200, json: {data.state: ready, items.0.id: "7"}}
    register: true
  - name: use-json
    local: {argv: [/bin/echo, "state=${steps.health.json.data.state}"]}
    expect: {contains: "state=ready"}
  - name: skipped
    local: {argv: [/bin/false]}
    when: "params.skip_me == true"
  - name: record
    http:
      target: api
      method: POST
      url: /record/call
      json: {reason: "${params.reason}", n: 3}
  - name: gate
    approve: {prompt: "Proceed with ${params.reason}?", timeout: 60s}
  - name: nap
    sleep: 100ms
  - name: tell
    notify: {target: api, url: /record/notify, message: "done: ${params.reason}"}
YAML

out=$(echo "yes looks fine" | "$DROVERCTL" run --config "$LAB/drover.yaml" "$LAB/pass.yaml" -p reason=drill-42 2>&1) && rc=0 || rc=$?
echo "$out"
assert_eq "run exits 0" 0 "$rc"
assert_contains "summary says succeeded" "$out" "succeeded"
assert_eq "run recorded as succeeded" "succeeded" "$(sql "select outcome from runs")"
assert_eq "no attempt left running" 0 "$(sql "select count(*) from step_attempts where outcome='running'")"
assert_eq "fan-out ran on both hosts" "h1 h2" "$(sql "select group_concat(target, ' ') from (select target from step_attempts where step_name='fanout' order by target)")"
assert_contains "registered stdout templated into the fan-out" "$(sql "select stdout_text from step_attempts where step_name='fanout' and target='h1'")" "h1 says lag=42"
assert_eq "stderr captured" "to-stderr" "$(sql "select trim(stderr_text, char(10)) from step_attempts where step_name='hostname'")"
assert_eq "when=false step skipped" "skipped" "$(sql "select outcome from step_attempts where step_name='skipped'")"
assert_eq "http status journaled" 200 "$(sql "select http_status from step_attempts where step_name='health'")"
assert_contains "approval records who" "$(sql "select stdout_text from step_attempts where step_name='gate'")" "approved by root"
assert_contains "approval records the comment" "$(sql "select stdout_text from step_attempts where step_name='gate'")" "looks fine"
check "JSON body sent with the param" python3 -c 'import json,sys; b=json.loads(json.load(open(sys.argv[1]))["body"]); assert b == {"reason": "drill-42", "n": 3}, b' "$LAB/http/call.1.json"
check "notify delivered the message" grep -q 'done: drill-42' "$LAB/http/notify.1.json"
token=$(cat "$LAB/api-token")
check "the secret token reached the server in the header" grep -q "Bearer $token" "$LAB/http/call.1.json"
assert_not_contains "the token never appears in the output" "$out" "$token"
check "the token never appears in the journal" bash -c "! sqlite3 '$LAB/drover.db' .dump | grep -q '$token'"
assert_eq "params journaled with their types" '{"reason":"drill-42","skip_me":false}' "$(sql "select params_json from runs" | tr -d ' ')"

# The same run as JSON lines: one object per event, parseable.
json=$(echo yes | "$DROVERCTL" run --json --config "$LAB/drover.yaml" "$LAB/pass.yaml" -p reason=json 2>/dev/null) && rc=0 || rc=$?
assert_eq "json run exits 0" 0 "$rc"
check "every --json line parses" python3 -c 'import sys, json; [json.loads(l) for l in sys.argv[1].splitlines()]' "$json"
assert_contains "json has run-finished" "$json" '"event":"run-finished"'

# runs and show read the journal back.
runs=$("$DROVERCTL" runs --config "$LAB/drover.yaml")
assert_contains "runs lists the playbook" "$runs" "pass-all"
show=$("$DROVERCTL" show --config "$LAB/drover.yaml" 1)
assert_contains "show lists steps" "$show" "use-json"
check "show --json parses" bash -c "'$DROVERCTL' show --json --config '$LAB/drover.yaml' 1 | python3 -c 'import json,sys; d=json.load(sys.stdin); assert len(d[\"step_attempts\"]) >= 10'"

# A denied gate fails the run with exit 1.
echo "no not now" | "$DROVERCTL" run --config "$LAB/drover.yaml" "$LAB/pass.yaml" -p reason=deny >"$LAB/deny.out" 2>&1 && rc=0 || rc=$?
assert_eq "denied gate exits 1" 1 "$rc"
assert_contains "denial journaled" "$(sql "select error from step_attempts where step_name='gate' and run_id=3")" "denied by root"
lab_done
