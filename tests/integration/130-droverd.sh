#!/usr/bin/env bash
# droverd under a stand-in service manager: NOTIFY_SOCKET is a datagram socket read by
# notify-listen.py, WATCHDOG_USEC is set. Start (READY=1, STATUS=, WATCHDOG=1 pings,
# daemon-started journaled), SIGHUP with a broken inventory (diagnostics located, old
# config kept, READY=1 again, still alive), SIGHUP with a fixed one (config-reloaded),
# SIGTERM (STOPPING=1, exit 0, daemon-stopped), recovery of a dead run at start,
# --check-config and a bad config at start (exit 2, no READY=1, no journal).
# Waits are bounded polls; nothing asserts how long anything took.
source "$(dirname "$0")/lib.sh"
DROVERD="$DROVER_BUILD_ROOT/src/daemon/droverd"
SSHD_PORT=2222 HTTP_PORT=8080
lab_keys
: >"$LAB/known_hosts"
lab_config
# No system bus here (tests/systemd has the real one): run without the D-Bus API.
echo "dbus: {required: false}" >>"$LAB/drover.yaml"
cp "$LAB/drover.yaml" "$LAB/good.yaml"
NOTIFY_LOG="$LAB/notify.log"

# count_lines PATTERN: how many notify lines match the regex exactly (whole line).
count_lines() {
        local n
        n=$(grep -cxE "$1" "$NOTIFY_LOG" 2>/dev/null || true)
        echo "${n:-0}"
}

# wait_lines PATTERN N: poll (up to ~20 s) until at least N notify lines match.
wait_lines() {
        local i
        for i in $(seq 1 200); do
                [ "$(count_lines "$1")" -ge "$2" ] && return 0
                sleep 0.1
        done
        echo "# timed out waiting for $2 × '$1'; notify log:" >&2
        sed 's/^/#   /' "$NOTIFY_LOG" >&2
        return 1
}

wait_file_contains() { # FILE STRING
        local i
        for i in $(seq 1 200); do
                grep -qF -- "$2" "$1" 2>/dev/null && return 0
                sleep 0.1
        done
        return 1
}

# is_alive PID: a child that has not exited (zombies count as dead).
is_alive() {
        local st
        st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
        [ "$st" != Z ] && [ "$st" != X ]
}

start_droverd() { # extra args…
        env -u WATCHDOG_PID -u JOURNAL_STREAM NOTIFY_SOCKET="$LAB/notify.sock" WATCHDOG_USEC=400000 \
                "$DROVERD" --config "$LAB/drover.yaml" "$@" >>"$LAB/droverd.log" 2>&1 &
        DPID=$!
        LAB_PIDS+=("$DPID")
}

python3 "$DROVER_SOURCE_ROOT/tests/integration/notify-listen.py" "$LAB/notify.sock" "$NOTIFY_LOG" \
        >"$LAB/notify-listen.log" 2>&1 &
LAB_PIDS+=($!)
wait_lines 'LISTENING=1' 1

# --- --check-config --------------------------------------------------------------------
out=$("$DROVERD" --check-config --config "$LAB/good.yaml" 2>&1) && rc=0 || rc=$?
assert_eq "--check-config on a valid inventory: exit 0" 0 "$rc"
assert_contains "--check-config says valid" "$out" "valid"
cp "$LAB/good.yaml" "$LAB/bad.yaml"
printf 'sites:\n\tthird: {role: other}\n' >>"$LAB/bad.yaml" # a tab: YAML refuses it
bad_line=$(wc -l <"$LAB/bad.yaml")
out=$("$DROVERD" --check-config --config "$LAB/bad.yaml" 2>&1) && rc=0 || rc=$?
echo "$out" | sed 's/^/# /'
assert_eq "--check-config on a broken inventory: exit 2" 2 "$rc"
assert_contains "--check-config locates the tab (path:line:col)" "$out" "$LAB/bad.yaml:$bad_line:1: error:"
check "--check-config touched no journal" test ! -e "$LAB/drover.db"
# Under systemd stderr is the journal ($JOURNAL_STREAM = its device:inode): lines carry
# "<N>" syslog priorities instead of the program name. Elsewhere the variable is ignored.
: >"$LAB/journal-stream.log"
JOURNAL_STREAM=$(stat -c '%d:%i' "$LAB/journal-stream.log") \
        "$DROVERD" --check-config --config "$LAB/bad.yaml" 2>>"$LAB/journal-stream.log" || true
check "stderr is the journal: errors logged as <3>" grep -qF "<3>$LAB/bad.yaml:$bad_line:1: error:" \
        "$LAB/journal-stream.log"
out=$(JOURNAL_STREAM=0:0 "$DROVERD" --check-config --config "$LAB/bad.yaml" 2>&1) || true
assert_contains "stderr is not the journal: plain prefix" "$out" "droverd: $LAB/bad.yaml:$bad_line:1: error:"

# --- a bad config at start: exit 2, never READY ----------------------------------------
cp "$LAB/bad.yaml" "$LAB/drover.yaml"
start_droverd
wait "$DPID" && rc=0 || rc=$?
assert_eq "broken inventory at start: exit 2" 2 "$rc"
assert_eq "broken inventory at start: no READY=1" 0 "$(count_lines 'READY=1')"
check "broken inventory at start: diagnostics located" grep -qF "$LAB/drover.yaml:$bad_line:1: error:" \
        "$LAB/droverd.log"
check "broken inventory at start: no journal created" test ! -e "$LAB/drover.db"

# --- start ---------------------------------------------------------------------------
cp "$LAB/good.yaml" "$LAB/drover.yaml"
: >"$LAB/droverd.log"
start_droverd
wait_lines 'READY=1' 1 && ok "READY=1 after start" || not_ok "no READY=1 after start"
check "STATUS says what it watches" grep -qxF "STATUS=watching 2 sites, 2 hosts, 0 probes; no incident open; journal $LAB/drover.db" \
        "$NOTIFY_LOG"
wait_lines 'WATCHDOG=1' 2 && ok "WATCHDOG=1 sent repeatedly from the loop" || not_ok "fewer than 2 WATCHDOG=1"
assert_eq "daemon-started journaled" 1 "$(sql "SELECT count(*) FROM events WHERE kind = 'daemon-started'")"
assert_contains "daemon-started names the config" \
        "$(sql "SELECT data_json FROM events WHERE kind = 'daemon-started'")" "\"config\":\"$LAB/drover.yaml\""
check "start logged" grep -q 'started: watching 2 sites' "$LAB/droverd.log"

# --- SIGHUP with a broken inventory: refused, old one kept -----------------------------
cp "$LAB/bad.yaml" "$LAB/drover.yaml"
kill -HUP "$DPID"
wait_lines 'READY=1' 2 && ok "READY=1 again after a refused reload" || not_ok "no READY=1 after a refused reload"
check "RELOADING=1 sent" test "$(count_lines 'RELOADING=1')" -ge 1
check "MONOTONIC_USEC= sent with RELOADING=1" test "$(count_lines 'MONOTONIC_USEC=[0-9]+')" -ge 1
check "refused reload: diagnostics with path:line:col in droverd's log" \
        grep -qF "$LAB/drover.yaml:$bad_line:1: error:" "$LAB/droverd.log"
check "refused reload: STATUS says the old config is kept" \
        test "$(count_lines 'STATUS=config reload refused .*keeping the old config.*watching 2 sites.*')" -ge 1
check "refused reload: droverd still alive" is_alive "$DPID"
assert_eq "config-reload-refused journaled" 1 \
        "$(sql "SELECT count(*) FROM events WHERE kind = 'config-reload-refused'")"
n_wd=$(count_lines 'WATCHDOG=1')
wait_lines 'WATCHDOG=1' $((n_wd + 2)) && ok "watchdog pings continue after the refused reload" ||
        not_ok "watchdog stopped after the refused reload"

# --- SIGHUP with a fixed inventory (one more site) --------------------------------------
cp "$LAB/good.yaml" "$LAB/drover.yaml"
sed -i 's/^  backup: {role: backup}$/&\n  third: {role: other}/' "$LAB/drover.yaml"
kill -HUP "$DPID"
wait_lines 'READY=1' 3 && ok "READY=1 after a good reload" || not_ok "no READY=1 after a good reload"
check "good reload: STATUS shows the new config" \
        grep -qxF "STATUS=watching 3 sites, 2 hosts, 0 probes; no incident open; journal $LAB/drover.db" "$NOTIFY_LOG"
wait_for_sql "SELECT count(*) FROM events WHERE kind = 'config-reloaded'" 1 &&
        ok "config-reloaded journaled" || not_ok "no config-reloaded event"

# --- SIGTERM ---------------------------------------------------------------------------
kill -TERM "$DPID"
wait "$DPID" && rc=0 || rc=$?
assert_eq "SIGTERM: exit 0" 0 "$rc"
check "SIGTERM: STOPPING=1 sent" test "$(count_lines 'STOPPING=1')" -eq 1
check "SIGTERM: STATUS=stopping" test "$(count_lines 'STATUS=stopping')" -eq 1
assert_eq "daemon-stopped journaled" 1 "$(sql "SELECT count(*) FROM events WHERE kind = 'daemon-stopped'")"
assert_eq "events in order" "daemon-started config-reload-refused config-reloaded daemon-stopped" \
        "$(sql "SELECT group_concat(kind, ' ') FROM (SELECT kind FROM events WHERE run_id IS NULL OR run_id = 0 ORDER BY id)")"

# --- a run left running by a dead process is recovered at start --------------------------
( exit 0 ) &
dead_pid=$!
wait "$dead_pid"
sql "INSERT INTO runs (playbook, hostname, pid, pid_starttime, started) VALUES ('ghost', '$(uname -n)', $dead_pid, 1, 1)"
: >"$LAB/droverd.log"
start_droverd
wait_lines 'READY=1' 4 && ok "READY=1 after a restart" || not_ok "no READY=1 after a restart"
assert_eq "the dead run is marked interrupted" interrupted "$(sql "SELECT outcome FROM runs WHERE playbook = 'ghost'")"
check "recovery logged" grep -q "1 run(s) left running by a process that died" "$LAB/droverd.log"
kill -INT "$DPID"
wait "$DPID" && rc=0 || rc=$?
assert_eq "SIGINT: exit 0" 0 "$rc"
assert_eq "two daemon-stopped events" 2 "$(sql "SELECT count(*) FROM events WHERE kind = 'daemon-stopped'")"

lab_done
