#!/usr/bin/env bash
# The shipped example playbooks: tools/demo-mini.sh runs the demo
# switchover for real against its throwaway lab and succeeds; every example validates.
source "$(dirname "$0")/lib.sh"
out=$(bash "$DROVER_SOURCE_ROOT/tools/demo-mini.sh" 2>&1) && rc=0 || rc=$?
echo "$out"
assert_eq "tools/demo-mini.sh exits 0" 0 "$rc"
db=/tmp/drover-demo/drover.db
assert_eq "the demo run succeeded" succeeded "$(sqlite3 "$db" "select outcome from runs")"
assert_eq "every forward step of the demo ran ok" "9 9" \
        "$(sqlite3 "$db" "select count(*), sum(outcome='ok') from step_attempts where phase='forward'" | tr '|' ' ')"
check "the demo fenced the primary" grep -qx fenced /tmp/drover-demo/site/primary.state
for pb in "$DROVER_SOURCE_ROOT"/playbooks/examples/*.yaml; do
        case "$pb" in
        */demo-switchover.yaml) continue ;; # validated and run above against its own lab
        esac
        DROVER_TEST_TOKEN=x "$DROVERCTL" validate --config "$DROVER_SOURCE_ROOT/tests/bad-input/playbook/_inventory.yaml" "$pb" >"$LAB/v.out" 2>&1 && rc=0 || rc=$?
        assert_eq "$(basename "$pb") validates" 0 "$rc"
done
lab_done
