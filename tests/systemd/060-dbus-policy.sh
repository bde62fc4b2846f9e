#!/usr/bin/env bash
# The D-Bus policy (units/org.drover1.conf) on the container's real system bus, with
# droverd started by systemd: a user in neither group is refused even reading (by the
# bus: AccessDenied before droverd sees the call); a member of group drover reads but may
# not command; a member of drover-commanders commands (maintenance on/off, reload), and
# droverd journals who did it. Both through busctl (the raw bus) and droverctl.
source "$(dirname "$0")/lib.sh"
sd_up
sd_config </dev/null
sd useradd -M -s /bin/sh outsider
sd useradd -M -s /bin/sh -G drover reader
sd useradd -M -s /bin/sh -G drover-commanders commander
check "systemctl start droverd" sd systemctl start droverd
check "org.drover1 is owned" sd_wait_name
as() { local u=$1; shift; sd runuser -u "$u" -- "$@"; }
call() { # USER METHOD [SIGNATURE ARGS...]
        local u=$1 m=$2
        shift 2
        as "$u" busctl --system call org.drover1 /org/drover1 org.drover1.Manager "$m" "$@"
}

# --- outsider: refused by the bus ---------------------------------------------------------------
out=$(call outsider ListSites 2>&1) && rc=0 || rc=$?
check "outsider: ListSites refused (busctl exit $rc)" test "$rc" != 0
assert_contains "outsider: by the bus policy (Access denied)" "$out" "Access denied"
out=$(call outsider SetMaintenance sb backup true 2>&1) && rc=0 || rc=$?
check "outsider: SetMaintenance refused" test "$rc" != 0
assert_contains "outsider: SetMaintenance: Access denied" "$out" "Access denied"
out=$(as outsider droverctl sites 2>&1) && rc=0 || rc=$?
assert_eq "outsider: droverctl sites exits 4 (access)" 4 "$rc"
assert_contains "outsider: droverctl says AccessDenied" "$out" "AccessDenied"

# --- reader (group drover): reads, cannot command -----------------------------------------------
out=$(call reader ListSites 2>&1) && rc=0 || rc=$?
assert_eq "reader: ListSites allowed" 0 "$rc"
assert_contains "reader: … lists the sites" "$out" '"primary"'
out=$(as reader droverctl maintenance backup on 2>&1) && rc=0 || rc=$?
assert_eq "reader: maintenance refused (exit 4)" 4 "$rc"
out=$(as reader droverctl reload 2>&1) && rc=0 || rc=$?
assert_eq "reader: reload refused (exit 4)" 4 "$rc"

# --- commander (group drover-commanders): commands ----------------------------------------------
out=$(as commander droverctl sites 2>&1) && rc=0 || rc=$?
assert_eq "commander: droverctl sites exits 0" 0 "$rc"
out=$(as commander droverctl maintenance backup on 2>&1) && rc=0 || rc=$?
assert_eq "commander: maintenance backup on (exit 0)" 0 "$rc"
out=$(as reader droverctl sites --json 2>&1)
check "… and backup is in maintenance" \
        python3 -c 'import json,sys; assert [s["maintenance"] for s in json.loads(sys.argv[1]) if s["name"]=="backup"]==[True]' "$out"
out=$(call commander SetMaintenance sb backup false 2>&1) && rc=0 || rc=$?
assert_eq "commander: SetMaintenance over raw busctl (exit 0)" 0 "$rc"
out=$(as commander droverctl reload 2>&1) && rc=0 || rc=$?
assert_eq "commander: reload (exit 0)" 0 "$rc"
wait_until 100 sd_sql_is "select count(*) from events where kind = 'config-reloaded'" 1 || true
assert_eq "… droverd reloaded" 1 "$(sd_sql "select count(*) from events where kind = 'config-reloaded'")"
audit=$(sd_sql "select group_concat(kind || ' ' || coalesce(message, '') || ' ' || coalesce(data_json, ''), '|') from events")
assert_contains "the journal names the commander" "$audit" commander
assert_not_contains "… and never the refused users" "$audit" outsider
lab_done
