#!/usr/bin/env bash
# Scheduled drills under a real systemd, set up as the example inventory's header tells
# a new user (default prefix /usr/local): the example copied to /etc/drover/drover.yaml,
# its key/known_hosts/CA files in place. drover-drill@NAME.timer enables, list-timers
# shows its next elapse; the drill's own schedule (`droverctl drill timer NAME` as a
# drop-in) moves it to the drill's calendar; `systemctl start drover-drill@NAME.service`
# runs what the timer runs: no terminal (StandardInput=null), as user drover, a tabletop
# drill journaled as due (`drill-due`), the unit succeeds. Control: the example's old
# playbook_dir (/usr/share/drover/playbooks, not where /usr/local puts them) fails it.
source "$(dirname "$0")/lib.sh"
sd_up
D=site-switchover-tabletop
sd mkdir -p /etc/drover/ssh /etc/drover/tls /etc/drover/credentials
sd touch /etc/drover/ssh/id_ed25519 /etc/drover/ssh/known_hosts /etc/drover/tls/internal-ca.pem
sd cp /usr/local/etc/drover/drover.yaml.example /etc/drover/drover.yaml
sd chgrp -R drover /etc/drover && sd chmod -R g+rX /etc/drover
assert_eq "the example points at the playbooks of this prefix" \
        "playbook_dir: /usr/local/share/drover/playbooks" "$(sd grep '^playbook_dir:' /etc/drover/drover.yaml)"
out=$(sd droverctl validate /etc/drover/drover.yaml 2>&1) && rc=0 || rc=$?
assert_eq "the example validates" 0 "$rc"

# --- the timer --------------------------------------------------------------------------------
out=$(sd systemctl enable --now "drover-drill@$D.timer" 2>&1) && rc=0 || rc=$?
assert_eq "systemctl enable --now drover-drill@$D.timer" 0 "$rc"
assert_eq "the timer is active/waiting" active/waiting \
        "$(sd_prop "drover-drill@$D.timer" ActiveState)/$(sd_prop "drover-drill@$D.timer" SubState)"
line=$(sd systemctl list-timers --all --no-pager --no-legend "drover-drill@$D.timer")
echo "# list-timers: $line"
assert_contains "list-timers lists it" "$line" "drover-drill@$D.timer"
next=$(echo "$line" | awk '{print $1}')
check "… with a next elapse (not '-' or 'n/a': '$next')" test "$next" != "-" -a "$next" != "n/a" -a -n "$next"
next_default=$(sd_prop "drover-drill@$D.timer" NextElapseUSecRealtime)
check "NextElapseUSecRealtime is set ($next_default)" test -n "$next_default"
# The drill's own schedule (on_calendar "*-09-15 10:00:00") as the drop-in droverctl prints.
sd mkdir -p "/etc/systemd/system/drover-drill@$D.timer.d"
sd droverctl drill timer "$D" | sd_write "/etc/systemd/system/drover-drill@$D.timer.d/schedule.conf"
sd systemctl daemon-reload
sd systemctl restart "drover-drill@$D.timer"
next_own=$(sd_prop "drover-drill@$D.timer" NextElapseUSecRealtime)
echo "# next elapse: default $next_default, with the drill's schedule $next_own"
assert_contains "with the drill's schedule: next elapse on 15 September" "$next_own" "-09-15 "

# --- what the timer runs ----------------------------------------------------------------------
out=$(sd systemctl start "drover-drill@$D.service" 2>&1) && rc=0 || rc=$?
assert_eq "systemctl start drover-drill@$D.service: exit 0" 0 "$rc"
assert_eq "Result=success, exit 0" success/0 \
        "$(sd_prop "drover-drill@$D.service" Result)/$(sd_prop "drover-drill@$D.service" ExecMainStatus)"
assert_eq "no terminal: StandardInput=null" null "$(sd_prop "drover-drill@$D.service" StandardInput)"
assert_eq "it ran as drover" drover "$(sd_prop "drover-drill@$D.service" User)"
log=$(sd journalctl -u "drover-drill@$D.service" -o cat --no-pager)
assert_contains "the log says the tabletop is due" "$log" "tabletop drill $D is due"
assert_eq "drill-due journaled once" 1 "$(sd_sql "select count(*) from events where kind = 'drill-due'")"
assert_eq "the journal belongs to drover" drover "$(sd stat -c %U /var/lib/drover/drover.db)"

# --- control: the example as it was (playbook_dir under /usr/share) -----------------------------
sd sed -i 's|^playbook_dir: .*|playbook_dir: /usr/share/drover/playbooks|' /etc/drover/drover.yaml
out=$(sd systemctl start "drover-drill@$D.service" 2>&1) && rc=0 || rc=$?
check "control: with /usr/share/drover/playbooks the drill unit fails" test "$rc" != 0
assert_contains "control: … unknown playbook" "$(sd journalctl -u "drover-drill@$D.service" -o cat --no-pager)" \
        "unknown playbook 'site-switchover'"
lab_done
