#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# drills/lab/lab.sh — drover's two-site e-bank lab on this machine, in network
# namespaces: up | down | status | env | fault ... | workload ...
# Interface: /tmp/lab-spec.md as copied into drills/lab/README.md. Runs as root.
# Owns the lab's network, sshds, PostgreSQL set-up, HAProxy, the admin/notify
# helpers and the faults; the python services (services/*.py) and nfq-delay are
# started from here but written elsewhere.
set -euo pipefail
# The lab tests hold /run/drover-lab.lock on fd 8 (tests/lab/lab-test-lib.sh). Daemons
# started from here must not inherit it: an orphaned one would hold the machine-wide
# lock for good, and every other lab user would wait forever.
exec 8>&-

LAB_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib
# shellcheck source=lib/common.sh
. "$LAB_LIB/common.sh"
. "$LAB_LIB/net.sh"
. "$LAB_LIB/sshd.sh"
. "$LAB_LIB/pg.sh"
. "$LAB_LIB/services.sh"
. "$LAB_LIB/config.sh"
. "$LAB_LIB/faults.sh"
. "$LAB_LIB/workload.sh"
. "$LAB_LIB/status.sh"
. "$LAB_LIB/etcd.sh"
. "$LAB_LIB/droverd.sh"

usage() {
        cat <<EOF
usage: lab.sh COMMAND
  up                      build the lab (installs missing packages), wait until it answers
  down                    stop everything, remove namespaces, bridge, state; idempotent
  status                  namespaces, services, PostgreSQL roles/replication, gateway, vendor
  env                     print the path of the generated drover.yaml
  fault KIND ARGS...      site-down SITE | link-down SITE | kill-service SITE | kill-db SITE |
                          loss SITE PCT | delay SITE MS | vendor-errors VENDOR RATE |
                          vendor-breach VENDOR slow|refuse|none | partition SITE
  fault clear [KIND [ARGS]]   undo faults (all, or one kind)
  workload start [RATE] | stop | report [--since EPOCH]
  etcd up | down | status | endpoints    the 3-member etcd (primary, backup, witness)
  etcd stop NODE | start NODE           one member
  etcd cut NODE | heal [NODE]           NODE's namespace loses etcd (client and peer
                                        traffic to the other members), still reaches the sites
  etcd config NODE                      write (and print the path of) NODE's drover.yaml with cluster:
  droverd up [NODE...] | down | status  a droverd per etcd node, in its namespace, with cluster:
                                        (starts etcd if needed), its own journal and its own bus
  droverd start|stop|kill NODE          one node's droverd (stop = SIGTERM, resigns; kill = SIGKILL)
  droverd bus NODE | journal NODE       print its D-Bus address (DBUS_SYSTEM_BUS_ADDRESS) / journal
EOF
}

# ---------------------------------------------------------------- down

lab_down() {
        local f pid ns
        workload_stop_quiet
        # 1. Every daemon we started, by its pid file.
        for f in "$RUN"/*/*.pid; do
                [ -e "$f" ] || continue
                pid=$(cat "$f" 2>/dev/null || true)
                if pid_alive "$pid"; then kill -TERM "$pid" 2>/dev/null || true; fi
        done
        pg_stop_all
        for f in "$RUN"/*/*.pid; do
                [ -e "$f" ] || continue
                pid=$(cat "$f" 2>/dev/null || true)
                pid_alive "$pid" || continue
                wait_gone "$pid" 50 || { kill -KILL "$pid" 2>/dev/null || true; wait_gone "$pid" 30 || true; }
        done
        # 2. Anything else still inside our namespaces (started over SSH, say).
        for ns in $(net_existing_ns); do
                for pid in $(ip netns pids "$ns" 2>/dev/null); do
                        kill -KILL "$pid" 2>/dev/null || true
                done
        done
        for ns in $(net_existing_ns); do
                for pid in $(ip netns pids "$ns" 2>/dev/null); do
                        wait_gone "$pid" 30 || msg "process $pid in namespace $ns does not die"
                done
        done
        # 3. Network, guard route last.
        net_down
        # 4. State.
        rm -rf "$RUN" "$DATA"
        if [ -n "${DROVER_LAB_DIR:-}" ]; then rmdir "$DROVER_LAB_DIR" 2>/dev/null || true; fi
}

# ---------------------------------------------------------------- up

# Everything answers? Used for "already up" and at the end of up.
lab_check() { # quiet? -> prints problems
        local bad=0 ns
        for ns in "${NSES[@]}"; do
                ns_exists "$ns" || { echo "namespace $ns missing"; bad=1; continue; }
                tcp_open "${NS_ADDR[$ns]}" 22 || { echo "sshd of $ns (${NS_ADDR[$ns]}:22) does not answer"; bad=1; }
        done
        for ns in "${VENDORS[@]}"; do
                tcp_open "${NS_ADDR[$ns]}" 8080 || { echo "vendor $ns (${NS_ADDR[$ns]}:8080) does not answer"; bad=1; }
        done
        for ns in "${SITES[@]}"; do
                tcp_open "${NS_ADDR[$ns]}" 8080 || { echo "ebank at $ns (${NS_ADDR[$ns]}:8080) does not answer"; bad=1; }
                tcp_open "${NS_ADDR[$ns]}" 5432 || { echo "PostgreSQL at $ns (${NS_ADDR[$ns]}:5432) does not answer"; bad=1; }
        done
        tcp_open "${NS_ADDR[gateway]}" 80 || { echo "HAProxy (${NS_ADDR[gateway]}:80) does not answer"; bad=1; }
        tcp_open "${NS_ADDR[gateway]}" 8081 || { echo "gateway admin API (${NS_ADDR[gateway]}:8081) does not answer"; bad=1; }
        tcp_open "$BRIDGE_ADDR" 8099 || { echo "notify sink ($BRIDGE_ADDR:8099) does not answer"; bad=1; }
        return $bad
}

# The gateway's health check must have seen the active e-bank up before the lab
# counts as up (a customer's first transfer must not meet a DOWN server).
wait_gateway_ready() {
        local i code
        for i in $(seq 1 100); do
                code=$(curl -s -o /dev/null -w '%{http_code}' -m 2 "http://${NS_ADDR[gateway]}/health" || true)
                [ "$code" = 200 ] && return 0
                sleep 0.1
        done
        msg "the gateway does not pass /health to a healthy e-bank (last status ${code:-none})"
        return 1
}

summary() {
        local ns
        cat <<EOF
${1:-drover lab is up.}
  namespaces (ssh root@ADDR with the key below; 'ip netns exec NS CMD' for a shell):
EOF
        for ns in "${NSES[@]}"; do
                printf '    %-9s %-12s' "$ns" "${NS_ADDR[$ns]}"
                case $ns in
                gateway) echo "sshd :22, HAProxy :80 (customers), admin API :8081, gateway-active" ;;
                primary) echo "sshd :22, PostgreSQL :5432 (primary), ebank :8080" ;;
                backup) echo "sshd :22, PostgreSQL :5432 (sync standby), ebank :8080" ;;
                witness) echo "sshd :22 (etcd :2379 with 'lab.sh etcd up', as on primary and backup)" ;;
                vendor-*) echo "sshd :22, vendor API :8080" ;;
                esac
        done
        cat <<EOF
    root ns   $BRIDGE_ADDR   notify sink :8099 -> $RUN/notify/N.json
  drover config:  $(config_path)  (droverctl validate: $VALIDATED)
  ssh:            ssh -i $RUN/drover/id_ed25519 -o UserKnownHostsFile=$RUN/drover/known_hosts root@10.213.0.11
  psql:           ip netns exec primary runuser -u postgres -- psql -h $RUN/primary/pg ebank
  logs:           $RUN/<ns>/*.log
  down:           $0 down
EOF
}

# Restart dead daemons of a running lab; data, network and PostgreSQL are left as
# they are (a stopped database may be the drill's state: pg-start or
# `fault clear kill-db SITE` starts it).
lab_repair() {
        local ns problems
        for ns in "${NSES[@]}"; do sshd_start "$ns"; done
        for ns in "${VENDORS[@]}"; do vendor_start "$ns"; done
        haproxy_start
        gateway_admin_start
        notify_start
        for ns in "${SITES[@]}"; do ebank_start "$ns" || msg "ebank at $ns does not start"; done
        for ns in "${NSES[@]}"; do
                wait_tcp "sshd of $ns" "${NS_ADDR[$ns]}" 22 "$RUN/$ns/sshd.pid" "$RUN/$ns/sshd.log" || true
        done
        for ns in "${VENDORS[@]}"; do
                wait_tcp "vendor $ns" "${NS_ADDR[$ns]}" 8080 "$RUN/$ns/vendor.pid" "$RUN/$ns/vendor.log" || true
        done
        wait_tcp "HAProxy" "${NS_ADDR[gateway]}" 80 "$RUN/gateway/haproxy.pid" "$RUN/gateway/haproxy.log" || true
        if problems=$(lab_check); then
                msg "repaired"
                return 0
        fi
        if echo "$problems" | grep -qv '^PostgreSQL'; then
                echo "$problems" | sed 's/^/lab:   /' >&2
                die "the lab could not be repaired; run '$0 down' and '$0 up'"
        fi
        echo "$problems" | sed 's/^/lab:   /' >&2
        msg "left as is: start a stopped database with pg-start at its site or '$0 fault clear kill-db SITE'"
}

UP_STARTED=0
up_failed() {
        local rc=$?
        trap - EXIT
        if [ "$UP_STARTED" = 1 ]; then
                msg "lab did not come up; tearing down what was started (logs were in $RUN)"
                # Keep the logs for a post-mortem before the state goes.
                if [ -d "$RUN" ]; then
                        rm -rf "${TMPDIR:-/tmp}/drover-lab-failed-logs"
                        mkdir -p "${TMPDIR:-/tmp}/drover-lab-failed-logs"
                        (cd "$RUN" && find . -name '*.log' -exec cp --parents {} "${TMPDIR:-/tmp}/drover-lab-failed-logs/" \;) 2>/dev/null || true
                        msg "logs copied to ${TMPDIR:-/tmp}/drover-lab-failed-logs"
                fi
                lab_down || true
        fi
        exit "$((rc == 0 ? 1 : rc))"
}

lab_up() {
        local t0 ns problems pids=() pid fail=0
        t0=$(date +%s.%N)
        [ "$(id -u)" = 0 ] || die "lab.sh must run as root"
        if [ -f "$RUN/up" ] && [ "$(net_existing_ns | wc -l)" = ${#NSES[@]} ] && ip link show "$BRIDGE" >/dev/null 2>&1; then
                if ! problems=$(lab_check); then
                        msg "lab is up but not everything answers; restarting what died:"
                        echo "$problems" | sed 's/^/lab:   /' >&2
                        lab_repair
                fi
                VALIDATED=$(config_validate 2>/dev/null || echo "REJECTED")
                summary "drover lab is already up."
                return 0
        elif [ -f "$RUN/up" ]; then
                msg "lab network is incomplete; rebuilding the lab"
                lab_down
        elif [ -n "$(net_existing_ns)" ] || ip link show "$BRIDGE" >/dev/null 2>&1 || [ -d "$RUN" ]; then
                msg "leftovers of an earlier lab found; removing them first"
                lab_down
        fi
        ensure_packages
        for f in haproxy socat nft curl ssh-keygen "$PGBIN/initdb"; do
                command -v "$f" >/dev/null || die "$f not found after installing packages"
        done
        for f in ebank.py vendor.py; do
                [ -f "$LAB_SERVICES_DIR/$f" ] || die "$LAB_SERVICES_DIR/$f missing"
        done

        UP_STARTED=1
        trap up_failed EXIT
        srv_prepare
        net_up
        ssh_keys
        config_write

        # Daemons that need nothing but the network: start all, wait later.
        for ns in "${NSES[@]}"; do sshd_start "$ns"; done
        for ns in "${VENDORS[@]}"; do vendor_start "$ns"; done
        haproxy_start
        gateway_admin_start
        notify_start
        for ns in "${SITES[@]}"; do ebank_start "$ns" & pids+=($!); done

        # PostgreSQL: primary, then the backup becomes its synchronous standby.
        pg_init_primary || { msg "PostgreSQL primary did not come up (see $RUN/primary/postgres.log)"; false; }
        ns_run backup /srv/bin/pg-rebuild-standby "${NS_ADDR[primary]}" >/dev/null \
                || { msg "PostgreSQL standby did not come up (see $RUN/backup/postgres.log)"; false; }
        for pid in "${pids[@]}"; do wait "$pid" || fail=1; done
        [ $fail = 0 ] || { msg "an e-bank service did not come up (see $RUN/{primary,backup}/ebank.log)"; false; }

        for ns in "${NSES[@]}"; do
                wait_tcp "sshd of $ns" "${NS_ADDR[$ns]}" 22 "$RUN/$ns/sshd.pid" "$RUN/$ns/sshd.log"
        done
        for ns in "${VENDORS[@]}"; do
                wait_tcp "vendor $ns" "${NS_ADDR[$ns]}" 8080 "$RUN/$ns/vendor.pid" "$RUN/$ns/vendor.log"
        done
        wait_tcp "HAProxy" "${NS_ADDR[gateway]}" 80 "$RUN/gateway/haproxy.pid" "$RUN/gateway/haproxy.log"
        wait_tcp "gateway admin API" "${NS_ADDR[gateway]}" 8081 "$RUN/gateway/gateway-admin.pid" \
                "$RUN/gateway/gateway-admin.log"
        wait_tcp "notify sink" "$BRIDGE_ADDR" 8099 "$RUN/root/notify-sink.pid" "$RUN/root/notify-sink.log"
        wait_gateway_ready
        problems=$(lab_check) || { msg "not everything answers:"; echo "$problems" >&2; false; }
        VALIDATED=$(config_validate) || { msg "generated config rejected"; false; }
        trap - EXIT
        date +%s >"$RUN/up"
        summary
        awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "  (up in %.1f s)\n", b - a }'
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case $cmd in
up) lab_up ;;
down)
        [ "$(id -u)" = 0 ] || die "lab.sh must run as root"
        lab_down
        echo "drover lab is down."
        ;;
status) lab_status ;;
env)
        [ -f "$(config_path)" ] || die "the lab is not up ($(config_path) missing)"
        config_path
        ;;
fault) lab_fault "$@" ;;
workload) lab_workload "$@" ;;
etcd) lab_etcd "$@" ;;
droverd) lab_droverd "$@" ;;
-h|--help|help) usage ;;
*) usage >&2; exit 2 ;;
esac
