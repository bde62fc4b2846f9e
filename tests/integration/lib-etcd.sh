# SPDX-License-Identifier: LGPL-2.1-or-later
# tests/integration/lib-etcd.sh — a real 3-member etcd 3.4 cluster on loopback for one
# test or bench: members e1 e2 e3 on 127.0.0.1, fresh ports, data under $ETCD_DIR,
# stopped by PID. Source after lib.sh (or set ETCD_DIR and call etcd_cleanup yourself).
# Sets ETCD_ENDPOINTS (array of client URLs) and ETCD_PID[e1..e3].

declare -A ETCD_PID ETCD_CLIENT ETCD_PEER
ETCD_ENDPOINTS=()

etcd_cluster_start() { # DIR
        # A port picked free can be taken by someone else before etcd binds it (a busy
        # machine's outgoing connections): then a member exits at once and the cluster is
        # started again on fresh ports, at most three times.
        local attempt
        for attempt in 1 2 3; do
                etcd_cluster_try_start "$1/try$attempt" && return 0
                echo "# etcd cluster start $attempt failed; logs in $1/try$attempt" >&2
                etcd_cleanup
        done
        return 1
}

etcd_cluster_try_start() { # DIR
        ETCD_DIR=$1
        local m initial="" token="drover-test-$$-$RANDOM"
        ETCD_ENDPOINTS=()
        mkdir -p "$ETCD_DIR"
        for m in e1 e2 e3; do
                ETCD_CLIENT[$m]=$(lab_free_port)
                ETCD_PEER[$m]=$(lab_free_port)
                initial+="${initial:+,}$m=http://127.0.0.1:${ETCD_PEER[$m]}"
        done
        for m in e1 e2 e3; do
                # Heartbeat and election timeout five times etcd's LAN defaults' margin: the
                # tests share two cores with compilers and sanitizers, and a member that
                # misses its heartbeats would depose a healthy leader mid-test.
                etcd --name "$m" --data-dir "$ETCD_DIR/$m" \
                        --listen-client-urls "http://127.0.0.1:${ETCD_CLIENT[$m]}" \
                        --advertise-client-urls "http://127.0.0.1:${ETCD_CLIENT[$m]}" \
                        --listen-peer-urls "http://127.0.0.1:${ETCD_PEER[$m]}" \
                        --initial-advertise-peer-urls "http://127.0.0.1:${ETCD_PEER[$m]}" \
                        --initial-cluster "$initial" --initial-cluster-state new \
                        --initial-cluster-token "$token" \
                        --heartbeat-interval 200 --election-timeout 2000 \
                        --log-outputs "$ETCD_DIR/$m.log" --logger zap \
                        </dev/null >"$ETCD_DIR/$m.out" 2>&1 &
                ETCD_PID[$m]=$!
                ETCD_ENDPOINTS+=("http://127.0.0.1:${ETCD_CLIENT[$m]}")
        done
        etcd_wait_healthy
}

etcd_wait_healthy() {
        local i m
        for i in $(seq 1 100); do
                for m in e1 e2 e3; do
                        if [ -n "${ETCD_PID[$m]:-}" ] && ! kill -0 "${ETCD_PID[$m]}" 2>/dev/null; then
                                echo "# etcd member $m exited: $(tail -c 300 "$ETCD_DIR/$m.log" 2>/dev/null)" >&2
                                return 1
                        fi
                done
                if ETCDCTL_API=3 etcdctl --endpoints "$(IFS=,; echo "${ETCD_ENDPOINTS[*]}")" \
                        --command-timeout=1s endpoint health >/dev/null 2>&1; then
                        return 0
                fi
                sleep 0.1
        done
        echo "# etcd cluster not healthy; logs in $ETCD_DIR" >&2
        return 1
}

etcd_stop_member() { # NAME
        local pid=${ETCD_PID[$1]:-}
        [ -n "$pid" ] || return 0
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        ETCD_PID[$1]=
}

etcd_cleanup() {
        local m
        for m in e1 e2 e3; do etcd_stop_member "$m"; done
}
