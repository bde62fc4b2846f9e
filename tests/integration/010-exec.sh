#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The real executor (libssh2, libcurl, posix_spawn) against a real sshd, the test HTTP
# server, a black-hole TCP listener and real local processes: tests/integration/test-exec.c
# does the asserting; this script builds the lab and turns cmocka's verdicts into ours.
source "$(dirname "$0")/lib.sh"
lab_start_sshd
SSHD_PID=${LAB_PIDS[0]}
lab_start_http
lab_start_blackhole

# known_hosts that holds a different key for the sshd's address: "the key changed".
ssh-keygen -q -t ed25519 -N '' -f "$LAB/impostor" -C impostor
echo "[127.0.0.1]:$SSHD_PORT $(cut -d' ' -f1,2 "$LAB/impostor.pub")" >"$LAB/known_hosts_impostor"

# A second sshd with an ECDSA and an ed25519 host key; known_hosts2 records only ed25519.
ssh-keygen -q -t ecdsa -N '' -f "$LAB/sshd/ssh_host_ecdsa_key" -C lab-host-ecdsa
SSHD2_PORT=$(lab_free_port)
sed -e "s/^Port .*/Port $SSHD2_PORT/" "$LAB/sshd/sshd_config" >"$LAB/sshd/sshd2_config"
echo "HostKey $LAB/sshd/ssh_host_ecdsa_key" >>"$LAB/sshd/sshd2_config"
/usr/sbin/sshd -D -e -f "$LAB/sshd/sshd2_config" >>"$LAB/sshd/log2" 2>&1 &
LAB_PIDS+=($!)
lab_wait_port 127.0.0.1 "$SSHD2_PORT"
echo "[127.0.0.1]:$SSHD2_PORT $(cut -d' ' -f1,2 "$LAB/sshd/ssh_host_ed25519_key.pub")" >"$LAB/known_hosts2"

TEST_LAB=$LAB
FREE_PORT=$(lab_free_port)
HOSTKEY_FP=$(ssh-keygen -l -E sha256 -f "$LAB/sshd/ssh_host_ed25519_key.pub" | awk '{print $2}')
export TEST_LAB SSHD_PID SSHD2_PORT SSHD_PORT HTTP_PORT BLACKHOLE_PORT FREE_PORT HOSTKEY_FP

out=$("$DROVER_BUILD_ROOT/tests/test-exec" 2>&1) && rc=0 || rc=$?
echo "$out" | sed 's/^/# /'
summary=0
while IFS= read -r line; do
        case "$line" in
        "[       OK ] "*) ok "${line#\[       OK \] }" ;;
        "[  FAILED  ] "*" test(s), listed below:"*) summary=1 ;; # the same names again
        "[  FAILED  ] "*) [ "$summary" = 1 ] || not_ok "${line#\[  FAILED  \] }" ;;
        esac
done <<<"$out"
assert_eq "test-exec exit status" 0 "$rc"
lab_done
