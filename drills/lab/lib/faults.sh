# SPDX-License-Identifier: LGPL-2.1-or-later
# drills/lab/lib/faults.sh — `lab.sh fault KIND ARGS` and `lab.sh fault clear
# [KIND [ARGS]]`. Network faults are nft tables named drlab inside a namespace
# (loss, delay) or inet drlab-root in the root namespace (partition), and link
# state; service faults kill by pid file. Active faults are listed in
# $RUN/faults.list for `lab.sh status`. Sourced by lab.sh.

FAULTS=$RUN/faults.list

fault_note() { echo "$*" >>"$FAULTS"; }
fault_forget() { # pattern (grep -x regex)
        [ -f "$FAULTS" ] || return 0
        grep -vx "$1" "$FAULTS" >"$FAULTS.new" || true
        mv "$FAULTS.new" "$FAULTS"
}

need_site_arg() { # site
        case ${1:-} in
        primary|backup) ;;
        *) die "SITE must be primary or backup (got '${1:-}')" ;;
        esac
}
need_vendor_arg() {
        case ${1:-} in
        vendor-a|vendor-b) ;;
        *) die "VENDOR must be vendor-a or vendor-b (got '${1:-}')" ;;
        esac
}

vendor_admin() { # vendor json
        local out
        out=$(curl -sS -m 3 -X POST -H 'Content-Type: application/json' -d "$2" \
                -w '\n%{http_code}' "http://${NS_ADDR[$1]}:8080/admin/mode") \
                || die "vendor $1 admin API does not answer"
        [ "$(echo "$out" | tail -1)" = 200 ] || die "vendor $1 refused $2: $(echo "$out" | head -1)"
}

# The namespace's own nft table for loss/delay; created on first use.
ns_nft_table() { # ns
        ip netns exec "$1" nft add table inet drlab
}

root_partition_table() {
        nft -f - <<EOF
table inet drlab-root {
        chain input { type filter hook input priority -10; policy accept; }
        chain output { type filter hook output priority -10; policy accept; }
}
EOF
}

# Everything that lives in the root pidfile dir or the ns dir under a name.
service_pidfile() { # ns -> pidfile of its killable service
        case $1 in
        primary|backup) echo "$RUN/$1/ebank.pid" ;;
        vendor-*) echo "$RUN/$1/vendor.pid" ;;
        gateway) echo "$RUN/gateway/haproxy.pid" ;;
        esac
}

service_restart() { # ns
        case $1 in
        primary|backup) ebank_start "$1" ;;
        vendor-*) vendor_start "$1" && wait_tcp "vendor $1" "${NS_ADDR[$1]}" 8080 "$RUN/$1/vendor.pid" "$RUN/$1/vendor.log" ;;
        gateway) haproxy_start && wait_tcp "HAProxy" "${NS_ADDR[gateway]}" 80 "$RUN/gateway/haproxy.pid" "$RUN/gateway/haproxy.log" ;;
        esac
}

kill_db() { # site: SIGKILL the postmaster and every backend (a crash)
        local site=$1 pid p pids
        pid=$(head -1 "$DATA/pg/$site/postmaster.pid" 2>/dev/null || true)
        pid_alive "$pid" || die "PostgreSQL at $site is not running"
        pids=$(awk -v pp="$pid" '{ if ($4 == pp) print $1 }' /proc/[0-9]*/stat 2>/dev/null || true)
        kill -KILL "$pid" $pids 2>/dev/null || true
        for p in $pid $pids; do wait_gone "$p" 50 || true; done
}

delay_rules_del() { # ns
        ip netns exec "$1" iptables -w -D OUTPUT -j DRLAB_DELAY 2>/dev/null || true
        ip netns exec "$1" iptables -w -F DRLAB_DELAY 2>/dev/null || true
        ip netns exec "$1" iptables -w -X DRLAB_DELAY 2>/dev/null || true
}

delay_stop() { # ns
        local f=$RUN/$1/nfq-delay.pid
        if [ -f "$f" ]; then
                stop_pid "$(cat "$f")" || true
                rm -f "$f"
        fi
}

lab_fault() {
        local kind=${1:-} ns
        [ -f "$RUN/up" ] || die "the lab is not up"
        [ $# -gt 0 ] && shift
        case $kind in
        site-down)
                need_ns "${1:-}"
                ip -n "$1" link set eth0 down
                fault_note "site-down $1"
                ;;
        link-down)
                need_ns "${1:-}"
                ip link set "v-$1" down
                fault_note "link-down $1"
                ;;
        kill-service)
                need_ns "${1:-}"
                local f pid
                f=$(service_pidfile "$1")
                [ -n "$f" ] || die "no killable service at $1"
                pid=$(cat "$f" 2>/dev/null || true)
                pid_alive "$pid" || die "the service at $1 is not running"
                kill -KILL "$pid"
                wait_gone "$pid" 50 || true
                fault_note "kill-service $1"
                ;;
        kill-db)
                need_site_arg "${1:-}"
                kill_db "$1"
                fault_note "kill-db $1"
                ;;
        loss)
                need_ns "${1:-}"
                local pct=${2:-}
                [[ $pct =~ ^[0-9]+$ ]] && [ "$pct" -le 100 ] || die "usage: fault loss SITE PCT (0..100)"
                local rule='iifname "eth0" drop'
                [ "$pct" -lt 100 ] && rule="iifname \"eth0\" numgen random mod 100 < $pct drop"
                [ "$pct" -eq 0 ] && rule=
                ns_nft_table "$1"
                ip netns exec "$1" nft delete chain inet drlab loss_in 2>/dev/null || true
                ip netns exec "$1" nft -f - <<EOF
table inet drlab {
        chain loss_in {
                type filter hook input priority -10; policy accept;
                $rule
        }
}
EOF
                fault_forget "loss $1 .*"
                fault_note "loss $1 $pct"
                ;;
        delay)
                need_ns "${1:-}"
                local ms=${2:-} bin
                [[ $ms =~ ^[0-9]+$ ]] || die "usage: fault delay SITE MS"
                bin=$(nfq_delay_path)
                if [ -z "$bin" ]; then
                        echo "lab: nfq-delay is not built (meson: build/drills/lab/nfq-delay; needs libnetfilter-queue-dev)" >&2
                        exit 2
                fi
                delay_stop "$1"
                ns_spawn "$1" nfq-delay "$bin" --queue "${NS_IDX[$1]}" --delay-ms "$ms"
                sleep 0.2
                pidfile_alive "$RUN/$1/nfq-delay.pid" || die "nfq-delay did not start (see $RUN/$1/nfq-delay.log)"
                # This kernel has no nft "queue" expression (nft_queue missing, no
                # module loading); iptables' NFQUEUE target works (xt via nft_compat).
                # bypass: if nfq-delay dies, packets pass instead of vanishing.
                delay_rules_del "$1"
                ip netns exec "$1" iptables -w -N DRLAB_DELAY
                ip netns exec "$1" iptables -w -A DRLAB_DELAY -o eth0 -j NFQUEUE \
                        --queue-num "${NS_IDX[$1]}" --queue-bypass
                ip netns exec "$1" iptables -w -I OUTPUT -j DRLAB_DELAY
                fault_forget "delay $1 .*"
                fault_note "delay $1 $ms"
                ;;
        vendor-errors)
                need_vendor_arg "${1:-}"
                [[ ${2:-} =~ ^(0(\.[0-9]+)?|1(\.0+)?|\.[0-9]+)$ ]] || die "usage: fault vendor-errors VENDOR RATE (0.0..1.0)"
                vendor_admin "$1" "{\"error_rate\": $2}"
                fault_forget "vendor-errors $1 .*"
                fault_note "vendor-errors $1 $2"
                ;;
        vendor-breach)
                need_vendor_arg "${1:-}"
                case ${2:-} in
                slow|refuse|none) ;;
                *) die "usage: fault vendor-breach VENDOR slow|refuse|none [SLOW_MS]" ;;
                esac
                vendor_admin "$1" "{\"breach\": \"$2\", \"slow_ms\": ${3:-3000}}"
                fault_forget "vendor-breach $1 .*"
                [ "$2" = none ] || fault_note "vendor-breach $1 $2"
                ;;
        partition)
                need_ns "${1:-}"
                root_partition_table
                nft add rule inet drlab-root input ip saddr "${NS_ADDR[$1]}" drop
                nft add rule inet drlab-root output ip daddr "${NS_ADDR[$1]}" drop
                fault_note "partition $1"
                ;;
        clear) fault_clear "$@" ;;
        *) usage >&2; exit 2 ;;
        esac
        [ "$kind" = clear ] || echo "fault $kind ${*} injected"
}

fault_clear() {
        local kind=${1:-all} ns target=${2:-}
        case $kind in
        all)
                for ns in "${NSES[@]}"; do
                        ip -n "$ns" link set eth0 up 2>/dev/null || true
                        ip link set "v-$ns" up 2>/dev/null || true
                        ip netns exec "$ns" nft delete table inet drlab 2>/dev/null || true
                        delay_rules_del "$ns"
                        delay_stop "$ns"
                done
                nft delete table inet drlab-root 2>/dev/null || true
                for ns in "${VENDORS[@]}"; do
                        if tcp_open "${NS_ADDR[$ns]}" 8080; then
                                vendor_admin "$ns" '{"error_rate": 0, "breach": "none"}'
                        fi
                done
                for ns in "${NSES[@]}"; do
                        local f
                        f=$(service_pidfile "$ns")
                        if [ -n "$f" ] && ! pidfile_alive "$f"; then service_restart "$ns"; fi
                done
                if grep -q '^kill-db ' "$FAULTS" 2>/dev/null; then
                        msg "killed databases stay down ($(grep '^kill-db ' "$FAULTS" | cut -d' ' -f2 | xargs));" \
                            "restart one with: lab.sh fault clear kill-db SITE"
                        grep '^kill-db ' "$FAULTS" >"$FAULTS.new" || true
                        mv "$FAULTS.new" "$FAULTS"
                else
                        rm -f "$FAULTS"
                fi
                ;;
        site-down) need_ns "$target"; ip -n "$target" link set eth0 up; fault_forget "site-down $target" ;;
        link-down) need_ns "$target"; ip link set "v-$target" up; fault_forget "link-down $target" ;;
        kill-service)
                need_ns "$target"
                service_restart "$target" || die "could not restart the service at $target"
                fault_forget "kill-service $target"
                ;;
        kill-db)
                need_site_arg "$target"
                ns_run "$target" /srv/bin/pg-start || die "could not restart PostgreSQL at $target"
                fault_forget "kill-db $target"
                ;;
        loss)
                need_ns "$target"
                ip netns exec "$target" nft delete chain inet drlab loss_in 2>/dev/null || true
                fault_forget "loss $target .*"
                ;;
        delay)
                need_ns "$target"
                delay_rules_del "$target"
                delay_stop "$target"
                fault_forget "delay $target .*"
                ;;
        vendor-errors)
                need_vendor_arg "$target"
                vendor_admin "$target" '{"error_rate": 0}'
                fault_forget "vendor-errors $target .*"
                ;;
        vendor-breach)
                need_vendor_arg "$target"
                vendor_admin "$target" '{"breach": "none"}'
                fault_forget "vendor-breach $target .*"
                ;;
        partition)
                need_ns "$target"
                local h
                for h in $(nft -a list table inet drlab-root 2>/dev/null | grep -F "${NS_ADDR[$target]} drop" | sed -n 's/.*# handle \([0-9]*\)$/\1/p'); do
                        nft delete rule inet drlab-root input handle "$h" 2>/dev/null \
                                || nft delete rule inet drlab-root output handle "$h" 2>/dev/null || true
                done
                fault_forget "partition $target"
                ;;
        *) die "unknown fault kind '$kind'" ;;
        esac
        echo "fault clear $kind${target:+ $target} done"
}
