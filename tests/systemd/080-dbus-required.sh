#!/usr/bin/env bash
# droverd without its D-Bus API, under a real systemd and bus: with the policy where the
# old build put it for prefix /usr/local (/usr/local/share/dbus-1/system.d, which dbus
# never reads) the bus refuses droverd its name; droverd says so clearly ("cannot own
# org.drover1: Permission denied: the system bus policy does not allow it …") and exits 3
# before READY=1, so `systemctl start droverd` fails and the unit ends failed. With
# `dbus: {required: false}` in drover.yaml the same droverd stays up without the API and
# warns. With the policy back where the bus reads it, droverd owns its name again.
source "$(dirname "$0")/lib.sh"
sd_up
sd_config </dev/null
sd mkdir -p /usr/local/share/dbus-1/system.d
sd mv /usr/share/dbus-1/system.d/org.drover1.conf /usr/local/share/dbus-1/system.d/
check "the bus reloads its configuration" sd systemctl reload dbus

# --- required (the default): a loud failure -------------------------------------------------------
out=$(sd systemctl start droverd 2>&1) && rc=0 || rc=$?
echo "$out" | sed 's/^/# systemctl: /'
check "systemctl start droverd fails (exit $rc): READY=1 comes only with the bus name" test "$rc" != 0
failed() { [ "$(sd_prop droverd ActiveState)" = failed ]; }
wait_until 300 failed || true
assert_eq "droverd.service ends failed" failed "$(sd_prop droverd ActiveState)"
assert_eq "… droverd exited 3 (infrastructure)" 3 "$(sd_prop droverd ExecMainStatus)"
log=$(sd journalctl -u droverd -o cat --no-pager)
echo "$log" | grep -E "org.drover1|exiting" | head -3 | sed 's/^/# log: /'
assert_contains "the log: cannot own org.drover1: Permission denied" "$log" \
        "D-Bus: cannot own org.drover1: Permission denied"
assert_contains "… says where the policy belongs" "$log" "/usr/share/dbus-1/system.d"
assert_contains "… and why droverd exits" "$log" "exiting: no D-Bus API"
assert_eq "nothing owns org.drover1" 1 "$(sd busctl --system status org.drover1 >/dev/null 2>&1; echo $?)"

# --- dbus: {required: false}: runs without the API, and says so -----------------------------------
sd systemctl reset-failed droverd
echo "dbus: {required: false}" | sd_config
out=$(sd droverd --check-config --config /etc/drover/drover.yaml 2>&1) && rc=0 || rc=$?
assert_eq "dbus.required: false is a valid key" 0 "$rc"
check "systemctl start droverd" sd systemctl start droverd
warned() { sd journalctl -u droverd -o cat --no-pager | grep -q "running without the D-Bus API"; }
wait_until 300 warned || true
check "droverd warns it runs without the D-Bus API" warned
assert_eq "… and is active/running" active/running "$(sd_prop droverd ActiveState)/$(sd_prop droverd SubState)"
pid=$(sd_prop droverd MainPID)
assert_eq "… the same process after the warning" droverd "$(sd cat /proc/$pid/comm)"
check "systemctl stop droverd" sd systemctl stop droverd

# --- the policy where the bus reads it --------------------------------------------------------------
sd mv /usr/local/share/dbus-1/system.d/org.drover1.conf /usr/share/dbus-1/system.d/
sd systemctl reload dbus
sd_config </dev/null
check "systemctl start droverd (policy in /usr/share/dbus-1/system.d)" sd systemctl start droverd
check "droverd owns org.drover1" sd_wait_name
assert_eq "active/running" active/running "$(sd_prop droverd ActiveState)/$(sd_prop droverd SubState)"
lab_done
