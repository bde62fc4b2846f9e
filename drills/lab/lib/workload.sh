# SPDX-License-Identifier: LGPL-2.1-or-later
# drills/lab/lib/workload.sh — `lab.sh workload start [RATE] | stop | report
# [ARGS]`: runs drills/lab/services/workload.py (the customers) in the root
# namespace against the gateway; pid, log and summary under $RUN/workload/.
# Sourced by lab.sh.

WL=$RUN/workload

workload_stop_quiet() {
        local pid
        pid=$(cat "$WL/workload.pid" 2>/dev/null || true)
        if pid_alive "$pid"; then stop_pid "$pid" || true; fi
        rm -f "$WL/workload.pid"
}

lab_workload() {
        local sub=${1:-} pid
        [ $# -gt 0 ] && shift
        case $sub in
        start)
                [ -f "$RUN/up" ] || die "the lab is not up"
                local rate=${1:-20}
                [[ $rate =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "usage: workload start [RATE per second]"
                [ -f "$LAB_SERVICES_DIR/workload.py" ] || die "$LAB_SERVICES_DIR/workload.py missing"
                mkdir -p "$WL"
                if pidfile_alive "$WL/workload.pid"; then
                        echo "workload already running (pid $(cat "$WL/workload.pid")), log $WL/workload.log"
                        return 0
                fi
                setsid sh -c 'echo $$ >"$1"; shift; exec "$@"' sh "$WL/workload.pid" \
                        "$PY" "$LAB_SERVICES_DIR/workload.py" --gateway "http://${NS_ADDR[gateway]}" \
                        --rate "$rate" --log "$WL/workload.log" \
                        </dev/null >>"$WL/summary.log" 2>>"$WL/workload.err" &
                sleep 0.3
                pidfile_alive "$WL/workload.pid" || die "workload.py exited at start (see $WL/workload.err)"
                date +%s.%N >"$WL/started"
                echo "workload running at $rate/s (pid $(cat "$WL/workload.pid")), log $WL/workload.log"
                ;;
        stop)
                pid=$(cat "$WL/workload.pid" 2>/dev/null || true)
                if ! pid_alive "$pid"; then
                        echo "workload not running"
                        return 0
                fi
                # SIGTERM: in-flight transfers finish (2 s deadline each), then a summary.
                kill -TERM "$pid"
                wait_gone "$pid" 100 || { kill -KILL "$pid" 2>/dev/null || true; msg "workload killed (no summary)"; }
                rm -f "$WL/workload.pid"
                tail -1 "$WL/summary.log" 2>/dev/null || true
                ;;
        report)
                [ -f "$WL/workload.log" ] || die "no workload log ($WL/workload.log): start one first"
                "$PY" "$LAB_SERVICES_DIR/workload.py" report --log "$WL/workload.log" "$@"
                ;;
        *) die "usage: workload start [RATE] | stop | report [--since EPOCH] [--ids-out FILE]" ;;
        esac
}
