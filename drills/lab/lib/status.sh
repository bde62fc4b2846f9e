# SPDX-License-Identifier: LGPL-2.1-or-later
# drills/lab/lib/status.sh — `lab.sh status`: each namespace and its daemons, the
# PostgreSQL roles and replication, the gateway's active site, the vendor each
# e-bank uses, active faults and the workload. Read-only. Sourced by lab.sh.

st_proc() { # pidfile label
        if pidfile_alive "$1"; then printf '%s up (pid %s)' "$2" "$(cat "$1")"; else printf '%s DOWN' "$2"; fi
}

lab_status() {
        local ns line role rep active v
        if [ ! -d "$RUN" ] && [ -z "$(net_existing_ns)" ]; then
                echo "drover lab: down"
                return 0
        fi
        if [ -f "$RUN/up" ]; then echo "drover lab: up since $(date -d "@$(cat "$RUN/up")" '+%F %T')"
        else echo "drover lab: partly up (no complete 'up')"; fi
        for ns in "${NSES[@]}"; do
                if ! ns_exists "$ns"; then
                        printf '  %-9s %-12s namespace MISSING\n' "$ns" "${NS_ADDR[$ns]}"
                        continue
                fi
                line="link $(ip -n "$ns" -br link show eth0 2>/dev/null | awk '{print $2}'), $(st_proc "$RUN/$ns/sshd.pid" sshd)"
                case $ns in
                gateway)
                        line+=", $(st_proc "$RUN/gateway/haproxy.pid" haproxy), $(st_proc "$RUN/gateway/gateway-admin.pid" admin-api)"
                        ;;
                primary|backup)
                        role=$(ns_run "$ns" /srv/bin/pg-role 2>/dev/null || echo "?")
                        line+=", $(st_proc "$RUN/$ns/ebank.pid" ebank), postgres $role"
                        ;;
                vendor-*)
                        line+=", $(st_proc "$RUN/$ns/vendor.pid" vendor)"
                        ;;
                esac
                pidfile_alive "$RUN/$ns/nfq-delay.pid" && line+=", nfq-delay up"
                printf '  %-9s %-12s %s\n' "$ns" "${NS_ADDR[$ns]}" "$line"
        done
        printf '  %-9s %-12s %s\n' "root" "$BRIDGE_ADDR" "$(st_proc "$RUN/root/notify-sink.pid" notify-sink) ($(ls "$RUN/notify" 2>/dev/null | grep -c '\.json$' || true) notifications)"
        echo "replication:"
        for ns in "${SITES[@]}"; do
                rep=$(ns_run "$ns" sh -c '. /srv/lab.env; runuser -u postgres -- "$PGBIN/psql" -XAtq -F" " -h "$PGSOCK" -d postgres -c "select application_name, client_addr, state, sync_state, pg_wal_lsn_diff(sent_lsn, replay_lsn) from pg_stat_replication" 2>/dev/null' || true)
                if [ -n "$rep" ]; then
                        echo "$rep" | while read -r app addr state sync lag; do
                                echo "  $ns -> $app ($addr): $state, $sync, replay lag ${lag:-?} bytes"
                        done
                fi
        done
        active=$(ns_run gateway /srv/bin/gateway-active 2>&1 || true)
        echo "gateway active site: $active"
        for ns in "${SITES[@]}"; do
                v=$(cat "$DATA/srv/$ns/ebank/vendor" 2>/dev/null || echo "?")
                echo "e-bank at $ns uses vendor: $v"
        done
        if [ -s "$RUN/faults.list" ]; then
                echo "active faults:"
                sed 's/^/  /' "$RUN/faults.list"
        else
                echo "active faults: none"
        fi
        if pidfile_alive "$RUN/workload/workload.pid"; then
                echo "workload: running (pid $(cat "$RUN/workload/workload.pid")), log $RUN/workload/workload.log"
        fi
        [ -f "$RUN/drover/drover.yaml" ] && echo "drover config: $RUN/drover/drover.yaml"
        return 0
}
