#!/usr/bin/env bash
# `systemctl stop droverd` while a run is in flight, under a real systemd: the run's
# long local step is cancelled, the run journaled aborted (not interrupted), droverd
# exits 0 well before TimeoutStopSec= (Result=success, not timeout), and nothing of the
# run is left: no step process in the container, the unit's cgroup empty.
source "$(dirname "$0")/lib.sh"
sd_up
sd_config </dev/null
cat <<'YAML' | sd_write /etc/drover/playbooks/long.yaml
name: long
description: a step that runs until it is cancelled
kind: custom
steps:
  - name: long
    local: {argv: [/bin/sleep, "3600"]}
    timeout: 2h
  - name: never
    local: {argv: [/bin/true]}
YAML
sd chgrp -R drover /etc/drover && sd chmod -R g+rX /etc/drover
check "systemctl start droverd" sd systemctl start droverd
check "org.drover1 is owned" sd_wait_name
out=$(sd droverctl run long --detach --json 2>&1) && rc=0 || rc=$?
assert_eq "droverctl run long --detach: exit 0" 0 "$rc"
run=$(echo "$out" | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["run"])' 2>/dev/null || echo 0)
check "run id printed" test "$run" -gt 0
wait_until 300 sd_sql_is "select count(*) from step_attempts where run_id = $run and step_name = 'long' and outcome = 'running'" 1 || true
sleeping() { sd sh -c 'grep -lx sleep /proc/[0-9]*/comm' >/dev/null 2>&1; }
wait_until 300 sleeping || true
check "the step's sleep runs in the container" sleeping
sleep_cgroup() { sd sh -c 'for f in $(grep -lx sleep /proc/[0-9]*/comm); do cat ${f%/comm}/cgroup; done'; }
assert_contains "… in droverd.service's cgroup" "$(sleep_cgroup)" "/system.slice/droverd.service"

out=$(sd systemctl stop droverd 2>&1) && rc=0 || rc=$?
assert_eq "systemctl stop droverd: exit 0" 0 "$rc"
assert_eq "inactive, Result=success (not timeout, not signal)" inactive/success \
        "$(sd_prop droverd ActiveState)/$(sd_prop droverd Result)"
assert_eq "droverd exited 0" 0 "$(sd_prop droverd ExecMainStatus)"
assert_eq "the run is journaled aborted" aborted "$(sd_sql "select outcome from runs where id = $run")"
assert_eq "its step cancelled" cancelled \
        "$(sd_sql "select outcome from step_attempts where run_id = $run and step_name = 'long'")"
assert_eq "the step after it never ran" 0 \
        "$(sd_sql "select count(*) from step_attempts where run_id = $run and step_name = 'never'")"
assert_eq "stopping with runs journaled, then daemon-stopped" "daemon-stopping-runs daemon-stopped" \
        "$(sd_sql "select group_concat(kind, ' ') from (select kind from events where kind like 'daemon-stop%' order by id)")"
if sleeping; then not_ok "no sleep left in the container"; else ok "no sleep left in the container"; fi
log=$(sd journalctl -u droverd -o cat --no-pager)
assert_not_contains "systemd did not have to kill anything" "$log" "SIGKILL"
lab_done
