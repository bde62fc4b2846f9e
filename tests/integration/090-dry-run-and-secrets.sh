#!/usr/bin/env bash
# --dry-run prints the resolved plan with secrets masked and contacts nothing (the SSH
# port is dead, the HTTP server sees no request, no journal is written). Secret params
# and drover.yaml secrets never reach the output or the journal of a real run.
source "$(dirname "$0")/lib.sh"
lab_start_http
SSHD_PORT=$(lab_free_port) # nobody listens there
lab_keys
: >"$LAB/known_hosts"
lab_config
cat >"$LAB/plan.yaml" <<'YAML'
name: plan
kind: vendor-replacement
params:
  reason: {type: string, required: true}
  token: {type: string, secret: true, required: true}
targets:
  one: {host: h1}
  both: {group: web}
  api: {endpoint: api}
steps:
  - name: check
    ssh: {target: one, command: "echo checking ${params.reason}"}
    register: true
  - name: each
    ssh: {target: both, command: "echo ${host.address}:${host.port} ${steps.check.stdout}"}
  - name: call
    http:
      target: api
      method: POST
      url: /record/plan
      headers: {X-Token: "${params.token}"}
      json: {reason: "${params.reason}"}
    rollback: {name: uncall, http: {target: api, method: DELETE, url: /record/plan}}
YAML
token=$(cat "$LAB/api-token")
out=$("$DROVERCTL" run --dry-run --config "$LAB/drover.yaml" "$LAB/plan.yaml" -p reason=leak-test -p token=hunter2hunter2 2>&1) && rc=0 || rc=$?
echo "$out"
assert_eq "dry run exits 0" 0 "$rc"
assert_contains "plan shows the expanded command" "$out" "echo checking leak-test"
assert_contains "plan shows per-host expansion" "$out" "127.0.0.1:$SSHD_PORT"
assert_contains "plan shows a runtime value as a placeholder" "$out" "<steps.check.stdout>"
assert_contains "plan shows the request" "$out" "POST http://127.0.0.1:$HTTP_PORT/record/plan"
assert_contains "plan lists the rollback" "$out" "uncall"
assert_contains "plan shows masking" "$out" "********"
assert_not_contains "secret param masked" "$out" "hunter2hunter2"
assert_not_contains "config secret masked" "$out" "$token"
check "nothing contacted the HTTP server" test ! -e "$LAB/http/plan.1.json"
check "dry run wrote no journal" test ! -e "$LAB/drover.db"

# A real run (SSH fails on the dead port; the plan stops there) still masks the
# secret param in the journal's params and everywhere else.
"$DROVERCTL" run --config "$LAB/drover.yaml" "$LAB/plan.yaml" -p reason=leak-test -p token=hunter2hunter2 >"$LAB/real.out" 2>&1 || true
check "journal written by the real run" test -s "$LAB/drover.db"
check "secret param absent from the whole journal" bash -c "! sqlite3 '$LAB/drover.db' .dump | grep -q hunter2hunter2"
assert_contains "params journaled masked" "$(sql "select params_json from runs")" '********'
check "secret param absent from the output" bash -c "! grep -q hunter2hunter2 '$LAB/real.out'"
lab_done
