#!/usr/bin/env bash
# droverd.service's sandbox, applied for real: a playbook step of droverd (a child of the
# service, in its sandbox) and root entering the service's mount namespace find /usr and
# /etc (and /var/lib but for the journal's directory) read-only, the journal's directory
# writable, no capabilities (effective, permitted, bounding), no_new_privs and a seccomp
# filter, and memory both writable and executable refused (MemoryDenyWriteExecute=).
# Controls: the same probes as root outside the service see the opposite, so each check
# can fail.
source "$(dirname "$0")/lib.sh"
: "${DROVER_WX_PROBE:?run through meson test}"
sd_up
sd mkdir -p /usr/local/lib/drover-test
cp "$DROVER_WX_PROBE" "$SD_ROOT/usr/local/lib/drover-test/wx-probe"
sd_config </dev/null
cat <<'YAML' | sd_write /etc/drover/playbooks/sandbox.yaml
name: sandbox
description: what a local step of droverd may do
kind: custom
steps:
  - name: status
    local: {argv: [/bin/sh, -c, "grep -E '^(CapEff|CapPrm|CapBnd|CapAmb|NoNewPrivs|Seccomp):' /proc/self/status"]}
  - name: mounts
    local: {argv: [/bin/sh, -c, "for d in /usr /etc /var/lib /var/lib/drover; do printf '%s ' $d; findmnt -n -o OPTIONS -T $d | cut -d, -f1; done"]}
  - name: write-journal-dir
    local: {argv: [/bin/sh, -c, "echo probe > /var/lib/drover/probe && cat /var/lib/drover/probe"]}
  - name: wx
    local: {argv: [/bin/sh, -c, "/usr/local/lib/drover-test/wx-probe; echo exit=$?"]}
YAML
sd chgrp -R drover /etc/drover && sd chmod -R g+rX /etc/drover
check "systemctl start droverd" sd systemctl start droverd
check "org.drover1 is owned" sd_wait_name
pid=$(sd_prop droverd MainPID)

# --- the main process, seen by the kernel ----------------------------------------------------
st=$(sd cat /proc/$pid/status)
for cap in CapEff CapPrm CapBnd CapAmb; do
        assert_eq "droverd: $cap is empty" 0000000000000000 "$(echo "$st" | awk -v k="$cap:" '$1 == k {print $2}')"
done
assert_eq "droverd: no_new_privs" 1 "$(echo "$st" | awk '$1 == "NoNewPrivs:" {print $2}')"
assert_eq "droverd: a seccomp filter (mode 2)" 2 "$(echo "$st" | awk '$1 == "Seccomp:" {print $2}')"

# --- root in the service's mount namespace: read-only is read-only even for root -----------
for d in /usr /etc /etc/drover /var/lib; do
        out=$(sd nsenter -t "$pid" -m touch "$d/sdlab-probe" 2>&1) && rc=0 || rc=$?
        assert_contains "service's $d is read-only (root gets EROFS)" "$out" "Read-only file system"
done
out=$(sd nsenter -t "$pid" -m sh -c 'touch /var/lib/drover/sdlab-probe && echo written' 2>&1)
assert_eq "service's /var/lib/drover (the journal) is writable" written "$out"
# Control: outside the service, /usr is writable for root.
out=$(sd sh -c 'touch /usr/sdlab-probe && echo written; rm -f /usr/sdlab-probe' 2>&1)
assert_eq "control: /usr outside the service is writable" written "$out"

# --- a step of droverd (its worker's child): the sandbox is inherited --------------------------
out=$(sd droverctl run sandbox --detach --json 2>&1) && rc=0 || rc=$?
assert_eq "droverctl run sandbox --detach: exit 0" 0 "$rc"
run=$(echo "$out" | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["run"])' 2>/dev/null || echo 0)
check "run id printed" test "$run" -gt 0
wait_until 300 sd_sql_is "select outcome from runs where id = $run" succeeded ||
        echo "# run $run: $(sd_sql "select outcome from runs where id = $run")" >&2
assert_eq "the sandbox run succeeded" succeeded "$(sd_sql "select outcome from runs where id = $run")"
step() { sd_sql "select stdout_text from step_attempts where run_id = $run and step_name = '$1'"; }
out=$(step status)
echo "$out" | sed 's/^/# status: /'
for cap in CapEff CapPrm CapBnd CapAmb; do
        assert_eq "step: $cap is empty" 0000000000000000 "$(echo "$out" | awk -v k="$cap:" '$1 == k {print $2}')"
done
assert_eq "step: no_new_privs" 1 "$(echo "$out" | awk '$1 == "NoNewPrivs:" {print $2}')"
assert_eq "step: seccomp filter" 2 "$(echo "$out" | awk '$1 == "Seccomp:" {print $2}')"
out=$(step mounts)
echo "$out" | sed 's/^/# mounts: /'
assert_eq "step: /usr /etc /var/lib read-only, /var/lib/drover writable" \
        "/usr ro|/etc ro|/var/lib ro|/var/lib/drover rw" "$(echo "$out" | paste -sd'|')"
assert_eq "step: writes the journal's directory" probe "$(step write-journal-dir)"
out=$(step wx)
echo "$out" | sed 's/^/# wx: /'
assert_contains "step: mmap(PROT_WRITE|PROT_EXEC) refused" "$out" "mmap-wx refused"
assert_contains "step: mprotect(PROT_EXEC) of written memory refused" "$out" "mprotect-x refused"
assert_contains "step: wx-probe exit 0" "$out" "exit=0"
# Control: the same probe outside the service is allowed W+X.
out=$(sd /usr/local/lib/drover-test/wx-probe 2>&1) && rc=0 || rc=$?
assert_contains "control: outside the service mmap W+X is allowed" "$out" "mmap-wx allowed"
assert_eq "control: wx-probe exit 1" 1 "$rc"
out=$(sd grep '^CapEff:' /proc/self/status)
check "control: root outside the service has capabilities" bash -c "! echo '$out' | grep -q 0000000000000000"
lab_done
