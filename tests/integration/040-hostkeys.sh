#!/usr/bin/env bash
# Strict host-key checking: an unknown key is refused with its fingerprint and nothing
# runs on the host; --accept-new-host-keys records it; a CHANGED key is refused even then.
source "$(dirname "$0")/lib.sh"
lab_start_sshd
lab_config
cat >"$LAB/hk.yaml" <<YAML
name: hostkey-check
kind: custom
targets:
  one: {host: h1}
steps:
  - name: touch
    ssh: {target: one, command: "touch $LAB/touched"}
YAML
fp=$(ssh-keygen -l -E sha256 -f "$LAB/sshd/ssh_host_ed25519_key.pub" | awk '{print $2}')
good_known_hosts=$(cat "$LAB/known_hosts")
: >"$LAB/known_hosts"

out=$("$DROVERCTL" run --config "$LAB/drover.yaml" "$LAB/hk.yaml" 2>&1) && rc=0 || rc=$?
echo "$out"
assert_eq "unknown host key: exit 1" 1 "$rc"
assert_contains "the refusal shows the fingerprint" "$out" "$fp"
check "nothing ran on the host" test ! -e "$LAB/touched"
assert_eq "journaled as error" error "$(sql "select outcome from step_attempts where step_name='touch'")"
assert_contains "journal error names the fingerprint" "$(sql "select error from step_attempts")" "$fp"

out=$("$DROVERCTL" run --accept-new-host-keys --config "$LAB/drover.yaml" "$LAB/hk.yaml" 2>&1) && rc=0 || rc=$?
assert_eq "accept-new: exit 0" 0 "$rc"
check "accept-new: command ran" test -e "$LAB/touched"
assert_contains "accept-new: key recorded in known_hosts" "$(ssh-keygen -l -E sha256 -f "$LAB/known_hosts" 2>/dev/null)" "$fp"
rm -f "$LAB/touched"
"$DROVERCTL" run --config "$LAB/drover.yaml" "$LAB/hk.yaml" >/dev/null 2>&1 && rc=0 || rc=$?
assert_eq "recorded key now accepted without the flag" 0 "$rc"
rm -f "$LAB/touched"

# Put a different key for the same address into known_hosts: the server's key now
# looks changed. It must be refused even with --accept-new-host-keys.
ssh-keygen -q -t ed25519 -N '' -f "$LAB/impostor" -C impostor
echo "[127.0.0.1]:$SSHD_PORT $(cut -d' ' -f1,2 "$LAB/impostor.pub")" >"$LAB/known_hosts"
out=$("$DROVERCTL" run --accept-new-host-keys --config "$LAB/drover.yaml" "$LAB/hk.yaml" 2>&1) && rc=0 || rc=$?
echo "$out"
assert_eq "changed key: exit 1" 1 "$rc"
assert_contains "changed key: said so" "$out" "CHANGED"
check "changed key: nothing ran" test ! -e "$LAB/touched"
assert_eq "changed key: known_hosts untouched" "[127.0.0.1]:$SSHD_PORT $(cut -d' ' -f1,2 "$LAB/impostor.pub")" "$(cat "$LAB/known_hosts")"
: "$good_known_hosts"
lab_done
