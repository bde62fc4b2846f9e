#!/usr/bin/env bash
# droverctl validate: clean files print OK (exit 0); broken ones print every problem as
# path:line:col: error: … with the source line and a caret (exit 2); and `run` of a broken
# playbook runs nothing and writes no journal.
source "$(dirname "$0")/lib.sh"
SSHD_PORT=2222 HTTP_PORT=8080
lab_keys
: >"$LAB/known_hosts"
lab_config
cat >"$LAB/good.yaml" <<'YAML'
name: good
kind: switchover
targets:
  one: {host: h1}
steps:
  - name: hello
    ssh: {target: one, command: "echo hello"}
YAML
out=$("$DROVERCTL" validate --config "$LAB/drover.yaml" "$LAB/good.yaml" 2>&1) && rc=0 || rc=$?
assert_eq "clean: exit 0" 0 "$rc"
assert_eq "clean: prints OK" OK "$out"
out=$("$DROVERCTL" validate "$LAB/drover.yaml" 2>&1) && rc=0 || rc=$?
assert_eq "inventory alone validates" "0 OK" "$rc $out"

cat >"$LAB/bad.yaml" <<'YAML'
name: bad
kind: switchover
targets:
  one: {host: h9}
steps:
  - name: hello
    ssh: {target: one, command: "echo ${params.nope}"}
    timout: 5s
  - name: hello
    sleep: forever
YAML
out=$("$DROVERCTL" validate --config "$LAB/drover.yaml" "$LAB/bad.yaml" 2>&1) && rc=0 || rc=$?
echo "$out"
assert_eq "broken: exit 2" 2 "$rc"
assert_contains "unknown host located" "$out" "$LAB/bad.yaml:4:"
assert_contains "unknown reference located at the reference" "$out" "$LAB/bad.yaml:7:"
assert_contains "unknown key with a suggestion" "$out" "did you mean 'timeout'"
assert_contains "duplicate step name" "$out" "$LAB/bad.yaml:9:"
assert_contains "bad duration" "$out" "$LAB/bad.yaml:10:"
check "at least five errors in one pass" test "$(grep -c ': error: ' <<<"$out")" -ge 5
check "source line and caret printed" grep -q '^ *\^' <<<"$out"
assert_not_contains "no OK on failure" "$out" "OK"

out=$("$DROVERCTL" validate --json --config "$LAB/drover.yaml" "$LAB/bad.yaml" 2>/dev/null) && rc=0 || rc=$?
check "validate --json parses and says not ok" python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["ok"] is False and len(d["diagnostics"]) >= 5' "$out"

rm -f "$LAB/drover.db"
out=$("$DROVERCTL" run --config "$LAB/drover.yaml" "$LAB/bad.yaml" 2>&1) && rc=0 || rc=$?
assert_eq "run of a broken playbook: exit 2" 2 "$rc"
check "run of a broken playbook wrote no journal" test ! -e "$LAB/drover.db"

# A broken inventory is refused whole as well.
printf 'hosts:\n  x: {adress: 1.2.3.4}\n' >"$LAB/broken-inventory.yaml"
out=$("$DROVERCTL" validate "$LAB/broken-inventory.yaml" 2>&1) && rc=0 || rc=$?
assert_eq "broken inventory: exit 2" 2 "$rc"
assert_contains "broken inventory: suggestion" "$out" "did you mean 'address'"

# Unknown parameters and missing required ones are usage errors; nothing runs.
cat >"$LAB/param.yaml" <<'YAML'
name: param
kind: custom
params:
  reason: {type: string, required: true}
  n: {type: int, default: 1}
targets:
  one: {host: h1}
steps:
  - name: hello
    ssh: {target: one, command: "echo ${params.reason}"}
YAML
out=$("$DROVERCTL" run --config "$LAB/drover.yaml" "$LAB/param.yaml" -p n=2 2>&1) && rc=0 || rc=$?
assert_eq "missing required param: exit 2" 2 "$rc"
assert_contains "missing required param: named" "$out" "reason"
out=$("$DROVERCTL" run --config "$LAB/drover.yaml" "$LAB/param.yaml" -p reason=x -p n=two 2>&1) && rc=0 || rc=$?
assert_eq "param of wrong type: exit 2" 2 "$rc"
out=$("$DROVERCTL" run --config "$LAB/drover.yaml" "$LAB/param.yaml" -p reason=x -p nn=2 2>&1) && rc=0 || rc=$?
assert_eq "unknown param: exit 2" 2 "$rc"
out=$("$DROVERCTL" run --db /proc/no-such-dir/drover.db --config "$LAB/drover.yaml" "$LAB/good.yaml" 2>&1) && rc=0 || rc=$?
assert_eq "unusable journal: exit 3 (infrastructure)" 3 "$rc"
assert_contains "unusable journal: said so" "$out" "cannot open journal"
assert_eq "no run was journaled for usage errors" 0 "$(sql "select count(*) from runs" 2>/dev/null || echo 0)"
lab_done
