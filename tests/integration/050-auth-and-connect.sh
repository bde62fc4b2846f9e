#!/usr/bin/env bash
# A user key the server does not know is refused; a port nobody listens on fails fast
# with a connection error; both are journaled as errors and the run exits 1.
source "$(dirname "$0")/lib.sh"
lab_start_sshd
lab_config
cat >"$LAB/one.yaml" <<YAML
name: one-command
kind: custom
targets:
  one: {host: h1}
steps:
  - name: touch
    ssh: {target: one, command: "touch $LAB/touched"}
YAML
sed -i "s|key: $LAB/id_ed25519|key: $LAB/id_other|" "$LAB/drover.yaml"
out=$("$DROVERCTL" run --config "$LAB/drover.yaml" "$LAB/one.yaml" 2>&1) && rc=0 || rc=$?
echo "$out"
assert_eq "wrong user key: exit 1" 1 "$rc"
assert_contains "wrong user key: authentication refused" "$out" "authentication"
check "wrong user key: nothing ran" test ! -e "$LAB/touched"
assert_eq "wrong user key: journaled as error" error "$(sql "select outcome from step_attempts")"

sed -i "s|key: $LAB/id_other|key: $LAB/id_ed25519|" "$LAB/drover.yaml"
dead=$(lab_free_port)
sed -i "s|port: $SSHD_PORT|port: $dead|" "$LAB/drover.yaml"
out=$("$DROVERCTL" run --config "$LAB/drover.yaml" "$LAB/one.yaml" 2>&1) && rc=0 || rc=$?
echo "$out"
assert_eq "connection refused: exit 1" 1 "$rc"
assert_contains "connection refused: said so" "$out" "refused"
assert_eq "connection refused: journaled as error" error "$(sql "select outcome from step_attempts where run_id=2")"

# ssh-agent: the key lives only in the agent; the config says agent: true.
sed -i "s|port: $dead|port: $SSHD_PORT|" "$LAB/drover.yaml"
eval "$(ssh-agent -a "$LAB/agent.sock" -s)" >/dev/null
LAB_PIDS+=("$SSH_AGENT_PID")
ssh-add -q "$LAB/id_ed25519"
sed -i "s|    key: $LAB/id_ed25519|    agent: true|" "$LAB/drover.yaml"
mv "$LAB/id_ed25519" "$LAB/id_ed25519.moved" # prove the file is not used
out=$("$DROVERCTL" run --config "$LAB/drover.yaml" "$LAB/one.yaml" 2>&1) && rc=0 || rc=$?
echo "$out"
assert_eq "ssh-agent authentication: exit 0" 0 "$rc"
check "ssh-agent authentication: command ran" test -e "$LAB/touched"
rm -f "$LAB/touched"
ssh-add -q -D
out=$("$DROVERCTL" run --config "$LAB/drover.yaml" "$LAB/one.yaml" 2>&1) && rc=0 || rc=$?
assert_eq "empty agent: refused, exit 1" 1 "$rc"
check "empty agent: nothing ran" test ! -e "$LAB/touched"
lab_done
