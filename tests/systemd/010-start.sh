#!/usr/bin/env bash
# droverd under a real systemd, installed with meson's default prefix (/usr/local) into a
# minimal Debian 12 (no procps): the units are found there, sysusers.d and tmpfiles.d
# create the user, the commanders' group and the directories at boot, the D-Bus policy is
# where the system bus reads it, `systemctl start droverd` returns once droverd said
# READY=1 (active/running, its STATUS= shown) and droverd owns org.drover1; `systemctl
# reload` works without /bin/kill.
source "$(dirname "$0")/lib.sh"
BASE=$(sdlab_base)
check "the base image has no drover user (sysusers must create it)" bash -c "! grep -q '^drover:' '$BASE/etc/passwd'"
check "the base image has no /bin/kill (procps is not installed)" test ! -e "$BASE/bin/kill"
check "the base image has no apt sources" bash -c "! ls '$BASE'/etc/apt/sources.list '$BASE'/etc/apt/sources.list.d/* 2>/dev/null | grep -q ."
sd_up

# --- installed where systemd and dbus read it (prefix /usr/local) -------------------------
check "droverd installed under the default prefix" test -x "$SD_ROOT/usr/local/sbin/droverd"
check "the D-Bus policy is in /usr/share/dbus-1/system.d whatever the prefix" \
        test -f "$SD_ROOT/usr/share/dbus-1/system.d/org.drover1.conf"
check "no D-Bus policy under the prefix, where the bus never reads" \
        test ! -e "$SD_ROOT/usr/local/share/dbus-1/system.d/org.drover1.conf"
assert_eq "systemd loads droverd.service from /usr/local/lib/systemd/system" \
        /usr/local/lib/systemd/system/droverd.service "$(sd_prop droverd.service FragmentPath)"
assert_eq "systemd loads drover-drill@.timer instances" loaded \
        "$(sd_prop drover-drill@x.timer LoadState)"

# --- sysusers.d and tmpfiles.d, applied by systemd at boot ---------------------------------
out=$(sd getent passwd drover || true)
assert_contains "sysusers created the system user drover" "$out" "drover:x:"
assert_contains "… with its home /var/lib/drover" "$out" ":/var/lib/drover:"
uid=$(echo "$out" | cut -d: -f3)
check "… a system uid ($uid < 1000)" test "${uid:-1000}" -lt 1000
check "sysusers created the group drover-commanders" sd getent group drover-commanders
assert_eq "tmpfiles: /var/lib/drover 0750 drover:drover" "750 drover:drover" "$(sd stat -c '%a %U:%G' /var/lib/drover)"
assert_eq "tmpfiles: /etc/drover 0750 root:drover" "750 root:drover" "$(sd stat -c '%a %U:%G' /etc/drover)"
assert_eq "the example inventory is installed" yes \
        "$(test -f "$SD_ROOT/usr/local/etc/drover/drover.yaml.example" && echo yes)"

# --- start: Type=notify, READY=1 -----------------------------------------------------------
sd_config </dev/null
out=$(sd systemctl start droverd 2>&1) && rc=0 || rc=$?
assert_eq "systemctl start droverd: exit 0" 0 "$rc"
assert_eq "active/running" active/running "$(sd_prop droverd ActiveState)/$(sd_prop droverd SubState)"
status=$(sd_prop droverd StatusText)
assert_contains "STATUS= from droverd's READY=1 notification" "$status" "watching"
pid=$(sd_prop droverd MainPID)
assert_eq "the main process is droverd" droverd "$(sd cat /proc/$pid/comm)"
assert_eq "it runs as drover" drover "$(sd stat -c %U /proc/$pid)"
check "org.drover1 is owned" sd_wait_name
owner=$(sd busctl --system status org.drover1 2>/dev/null | sed -n 's/^PID=//p')
assert_eq "org.drover1 is owned by droverd's main process" "$pid" "$owner"
version=$(sd busctl --system get-property org.drover1 /org/drover1 org.drover1.Manager Version 2>&1)
assert_contains "root reads droverd's Version over the system bus" "$version" '"0.'
check "the journal exists in the StateDirectory" test -s "$SD_ROOT/var/lib/drover/drover.db"
assert_eq "daemon-started journaled" 1 "$(sd_sql "select count(*) from events where kind = 'daemon-started'")"
out=$(sd journalctl -u droverd -o cat --no-pager 2>&1)
assert_not_contains "no warning about the D-Bus API in the log" "$out" "without the D-Bus API"

# --- reload without /bin/kill ---------------------------------------------------------------
out=$(sd systemctl reload droverd 2>&1) && rc=0 || rc=$?
assert_eq "systemctl reload droverd: exit 0 (no 203/EXEC)" 0 "$rc"
wait_until 100 sd_sql_is "select count(*) from events where kind = 'config-reloaded'" 1 || true
assert_eq "the reload reached droverd (config-reloaded journaled)" 1 \
        "$(sd_sql "select count(*) from events where kind = 'config-reloaded'")"
assert_eq "same main process after the reload" "$pid" "$(sd_prop droverd MainPID)"
assert_eq "still active/running" active/running "$(sd_prop droverd ActiveState)/$(sd_prop droverd SubState)"
# The check can fail: the unit's old ExecReload= (procps' /bin/kill) does, on this image.
sd mkdir -p /run/systemd/system/droverd.service.d
printf '[Service]\nExecReload=\nExecReload=/bin/kill -HUP $MAINPID\n' | sd_write /run/systemd/system/droverd.service.d/old.conf
sd systemctl daemon-reload
sd systemctl reload droverd >/dev/null 2>&1 && rc=0 || rc=$?
check "control: ExecReload=/bin/kill fails here (exit $rc)" test "$rc" != 0
assert_contains "control: … with 203/EXEC" "$(sd journalctl -u droverd -o cat --no-pager)" "status=203/EXEC"
sd rm -r /run/systemd/system/droverd.service.d
sd systemctl daemon-reload

# --- stop -----------------------------------------------------------------------------------
check "systemctl stop droverd" sd systemctl stop droverd
assert_eq "stopped: inactive, Result=success" inactive/success "$(sd_prop droverd ActiveState)/$(sd_prop droverd Result)"
assert_eq "exit status 0" 0 "$(sd_prop droverd ExecMainStatus)"
lab_done
