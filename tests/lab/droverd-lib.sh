# SPDX-License-Identifier: LGPL-2.1-or-later
# tests/lab/droverd-lib.sh — for the lab tests of droverd (tests/lab/NNN-droverd-*.sh):
# start droverd (or test-droverd-control, the same Manager with a command channel) on the
# lab's config under a stand-in notify socket, wait for journal conditions by bounded
# polling. Source it after lab-test-lib.sh.
DROVERD="$DROVER_BUILD_ROOT/src/daemon/droverd"
DCONTROL="$DROVER_BUILD_ROOT/tests/test-droverd-control"
NOTIFY_LOG="$LAB/notify.log"
DLOG="$LAB/droverd.log"

# The lab's journal is fresh for each test (lab_fresh removes nothing of drover's own).
droverd_fresh_journal() { rm -f "$JDB" "$JDB-wal" "$JDB-shm"; }

notify_listen() {
        python3 "$DROVER_SOURCE_ROOT/tests/integration/notify-listen.py" "$LAB/notify.sock" "$NOTIFY_LOG" \
                >"$LAB/notify-listen.log" 2>&1 &
        LAB_PIDS+=($!)
        wait_until 50 grep -qx LISTENING=1 "$NOTIFY_LOG"
}

# droverd_start [--control]: DPID is the daemon. With --control, commands go to the FIFO
# through dctl (answers in $LAB/control.out).
droverd_start() {
        local bin=$DROVERD
        if [ "${1:-}" = --control ]; then
                bin=$DCONTROL
                rm -f "$LAB/control.fifo"
                mkfifo "$LAB/control.fifo"
                exec 7<>"$LAB/control.fifo"
                env -u WATCHDOG_PID -u JOURNAL_STREAM NOTIFY_SOCKET="$LAB/notify.sock" DROVER_WORKER="$DROVER_WORKER" \
                        "$bin" --config "$CFG" <&7 >>"$LAB/control.out" 2>>"$DLOG" &
        else
                env -u WATCHDOG_PID -u JOURNAL_STREAM NOTIFY_SOCKET="$LAB/notify.sock" DROVER_WORKER="$DROVER_WORKER" \
                        "$bin" --config "$CFG" </dev/null >>"$DLOG" 2>&1 &
        fi
        DPID=$!
        LAB_PIDS+=("$DPID")
        wait_until 100 grep -q "started: watching" "$DLOG" || { echo "# droverd did not start:"; sed 's/^/#   /' "$DLOG"; }
}

# dctl COMMAND...: one command to test-droverd-control; prints its answer line.
answers_more_than() { test "$(grep -c '"cmd"' "$LAB/control.out")" -gt "$1"; }
dctl() {
        local n
        n=$(grep -c '"cmd"' "$LAB/control.out" 2>/dev/null || true)
        echo "$*" >&7
        wait_until 200 answers_more_than "${n:-0}"
        grep '"cmd"' "$LAB/control.out" | tail -1
}

# wait_sql TRIES QUERY: poll until QUERY prints something other than "" or "0".
sql_nonzero() {
        local v
        v=$(jsql "$1" 2>/dev/null) || return 1
        [ -n "$v" ] && [ "$v" != 0 ]
}
wait_sql() { wait_until "$1" sql_nonzero "$2"; }

# is_alive PID: not exited (a zombie counts as dead).
is_alive() {
        local st
        st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
        [ "$st" != Z ] && [ "$st" != X ]
}

droverd_stop() {
        kill -TERM "$DPID" 2>/dev/null || true
        wait "$DPID" 2>/dev/null
}

droverd_show_log() { sed 's/^/#   /' "$DLOG" | grep -v "notification of role" | tail -${1:-40}; }
