#!/usr/bin/env bash
# The watchdog for real: droverd pings WATCHDOG=1 from its event loop; when the loop
# hangs (the test-only trigger: SIGUSR2 in a -Dtest_hooks=true build makes the loop sleep
# for good), systemd's watchdog fires, kills droverd (SIGABRT) and Restart=on-failure
# starts a new one, which comes back active/running and owns org.drover1 again.
# WatchdogSec= is lowered to 2s by a drop-in so that the test does not wait 30 s; the
# unit's own value is checked too. Before the hang, droverd keeps running past several
# watchdog periods (its pings work).
source "$(dirname "$0")/lib.sh"
check "the default build (tests' $DROVER_BUILD_ROOT) has no hang hook" \
        bash -c "! grep -q 'test hook: SIGUSR2' '$DROVER_BUILD_ROOT/src/daemon/droverd'"
sd_up
check "the container's build has it (-Dtest_hooks=true)" grep -q 'test hook: SIGUSR2' "$SD_ROOT/usr/local/sbin/droverd"
sd_config </dev/null
check "the unit sets WatchdogSec=30s" bash -c "grep -qx 'WatchdogSec=30s' '$SD_ROOT/usr/local/lib/systemd/system/droverd.service'"
sd mkdir -p /run/systemd/system/droverd.service.d
# LimitCORE=0: the SIGABRT must not write a core dump anywhere.
printf '[Service]\nWatchdogSec=2s\nLimitCORE=0\n' | sd_write /run/systemd/system/droverd.service.d/watchdog.conf
sd systemctl daemon-reload
assert_contains "the drop-in is loaded" "$(sd_prop droverd DropInPaths)" watchdog.conf

check "systemctl start droverd" sd systemctl start droverd
check "org.drover1 is owned" sd_wait_name
pid1=$(sd_prop droverd MainPID)
assert_eq "systemd gave droverd WATCHDOG_USEC=2000000" 2000000 \
        "$(sd cat /proc/$pid1/environ | tr '\0' '\n' | sed -n 's/^WATCHDOG_USEC=//p')"
# Pings work: three watchdog periods later it is the same process, never restarted.
# (Waiting on the journal's clock, not asserting a duration: the check is NRestarts.)
sd sleep 6
assert_eq "after 3 watchdog periods: same main process" "$pid1" "$(sd_prop droverd MainPID)"
assert_eq "after 3 watchdog periods: not restarted" 0 "$(sd_prop droverd NRestarts)"

# Hang the loop.
check "SIGUSR2 to droverd (the test hook)" sd systemctl kill -s SIGUSR2 --kill-who=main droverd
restarted() { [ "$(sd_prop droverd NRestarts)" -ge 1 ] && sd_wait_state droverd active running; }
wait_until 600 restarted || true
assert_eq "systemd restarted droverd once" 1 "$(sd_prop droverd NRestarts)"
pid2=$(sd_prop droverd MainPID)
check "a new main process ($pid1 → $pid2)" test "$pid2" != "$pid1" -a "$pid2" != 0
assert_eq "the new droverd is active/running" active/running "$(sd_prop droverd ActiveState)/$(sd_prop droverd SubState)"
log=$(sd journalctl -u droverd -o cat --no-pager)
assert_contains "droverd logged the hang" "$log" "test hook: SIGUSR2, hanging the event loop"
assert_contains "systemd: watchdog timeout" "$log" "Watchdog timeout"
assert_contains "systemd killed it with SIGABRT" "$log" "status=6/ABRT"
assert_contains "systemd scheduled the restart" "$log" "Scheduled restart job"
check "the new droverd owns org.drover1" sd_wait_name
owner=$(sd busctl --system status org.drover1 2>/dev/null | sed -n 's/^PID=//p')
assert_eq "… as the new main process" "$pid2" "$owner"
assert_eq "two daemon-started in the journal" 2 "$(sd_sql "select count(*) from events where kind = 'daemon-started'")"
lab_done
