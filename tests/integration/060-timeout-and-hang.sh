#!/usr/bin/env bash
# Deadlines: a command that hangs past its step timeout is cut off; a host that accepts
# TCP and never speaks SSH delays only its own step attempt while the healthy host of
# the same group completes.
source "$(dirname "$0")/lib.sh"
lab_start_sshd
lab_start_blackhole
lab_config
cat >>"$LAB/drover.yaml" <<YAML
  hung: {address: 127.0.0.1, port: $BLACKHOLE_PORT, connect_timeout: 2s}
YAML
# groups must list hung: rewrite the groups section
python3 - "$LAB/drover.yaml" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
# move the appended host line under hosts:, add a group with it
lines = s.splitlines()
hung = lines.pop()
i = lines.index("groups:")
lines.insert(i, hung)
lines.insert(lines.index("groups:") + 1, "  mixed: [h1, hung]")
open(p, "w").write("\n".join(lines) + "\n")
PY
cat >"$LAB/hang.yaml" <<YAML
name: hang
kind: custom
targets:
  one: {host: h1}
  mixed: {group: mixed}
steps:
  - name: sleeper
    ssh: {target: one, command: "sleep 30"}
    timeout: 1s
YAML
out=$("$DROVERCTL" run --config "$LAB/drover.yaml" "$LAB/hang.yaml" 2>&1) && rc=0 || rc=$?
echo "$out"
assert_eq "hung command: exit 1" 1 "$rc"
assert_eq "hung command: journaled as timeout" timeout "$(sql "select outcome from step_attempts where step_name='sleeper'")"

cat >"$LAB/mixed.yaml" <<YAML
name: mixed
kind: custom
targets:
  mixed: {group: mixed}
steps:
  - name: both
    ssh: {target: mixed, command: "echo alive"}
    timeout: 3s
YAML
out=$("$DROVERCTL" run --config "$LAB/drover.yaml" "$LAB/mixed.yaml" 2>&1) && rc=0 || rc=$?
echo "$out"
assert_eq "one hung host fails the step: exit 1" 1 "$rc"
assert_eq "healthy host completed" "ok" "$(sql "select outcome from step_attempts where step_name='both' and target='h1'")"
assert_contains "hung host timed out" "$(sql "select outcome from step_attempts where step_name='both' and target='hung'")" "timeout"
check "healthy host finished before the hung one" test \
        "$(sql "select ended from step_attempts where step_name='both' and target='h1'")" -lt \
        "$(sql "select ended from step_attempts where step_name='both' and target='hung'")"
lab_done
