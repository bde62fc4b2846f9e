# SPDX-License-Identifier: LGPL-2.1-or-later
# drills/lab/lib/etcd.sh — the lab's etcd 3.4 cluster for a droverd per site: three
# members, one in primary, one in backup, one in witness (its own link, at no site),
# client :2379 and peer :2380 on each namespace's address, data in $DATA/etcd/NODE,
# pid and log in $RUN/NODE/etcd.{pid,log}. Sourced by lab.sh: `lab.sh etcd ...`.
# Owns: the members and the "cut from etcd" fault (nft table drlab-etcd inside a
# namespace: no traffic to or from the other members' etcd ports, so that node's
# droverd and its etcd member lose the majority while the sites stay reachable).
# Not started by `lab.sh up` (the single-node tests do not need it); `lab.sh down`
# stops it with everything else.

ETCD_MEMBERS=(primary backup witness)
ETCD_CLIENT_PORT=2379
ETCD_PEER_PORT=2380

is_etcd_member() {
        local m
        for m in "${ETCD_MEMBERS[@]}"; do [ "$m" = "${1:-}" ] && return 0; done
        return 1
}

need_etcd_member() {
        is_etcd_member "${1:-}" || die "unknown etcd member '${1:-}' (one of: ${ETCD_MEMBERS[*]})"
}

etcd_endpoints() { # [FIRST] -> "http://10.213.0.11:2379,http://…" (FIRST's member first)
        local m out=""
        [ -n "${1:-}" ] && out="http://${NS_ADDR[$1]}:$ETCD_CLIENT_PORT"
        for m in "${ETCD_MEMBERS[@]}"; do
                [ "$m" = "${1:-}" ] || out+="${out:+,}http://${NS_ADDR[$m]}:$ETCD_CLIENT_PORT"
        done
        echo "$out"
}

etcd_initial_cluster() {
        local m out=""
        for m in "${ETCD_MEMBERS[@]}"; do out+="${out:+,}$m=http://${NS_ADDR[$m]}:$ETCD_PEER_PORT"; done
        echo "$out"
}

etcd_member_start() { # node
        local m=$1 a=${NS_ADDR[$1]}
        pidfile_alive "$RUN/$m/etcd.pid" && return 0
        command -v etcd >/dev/null || die "etcd not found (apt-get install etcd-server)"
        mkdir -p "$DATA/etcd"
        # --initial-cluster-state is ignored once the member has data: a restarted member rejoins.
        ns_spawn "$m" etcd etcd --name "$m" --data-dir "$DATA/etcd/$m" \
                --listen-client-urls "http://$a:$ETCD_CLIENT_PORT" --advertise-client-urls "http://$a:$ETCD_CLIENT_PORT" \
                --listen-peer-urls "http://$a:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://$a:$ETCD_PEER_PORT" \
                --initial-cluster "$(etcd_initial_cluster)" --initial-cluster-state new \
                --initial-cluster-token drover-lab --heartbeat-interval 100 --election-timeout 1000
}

etcd_member_stop() { # node
        local pid
        pid=$(cat "$RUN/$1/etcd.pid" 2>/dev/null || true)
        stop_pid "$pid" || msg "etcd of $1 (pid $pid) does not stop"
        rm -f "$RUN/$1/etcd.pid"
}

etcdctl_lab() {
        ETCDCTL_API=3 etcdctl --endpoints "$(etcd_endpoints)" --dial-timeout=1s --command-timeout=2s "$@"
}

etcd_wait_healthy() {
        local i
        for i in $(seq 1 100); do
                etcdctl_lab endpoint health >/dev/null 2>&1 && return 0
                sleep 0.1
        done
        msg "the etcd cluster is not healthy after 10 s (logs: $RUN/{primary,backup,witness}/etcd.log)"
        return 1
}

etcd_cut() { # node
        local m=$1 o others=()
        for o in "${ETCD_MEMBERS[@]}"; do [ "$o" != "$m" ] && others+=("${NS_ADDR[$o]}"); done
        local set
        set=$(IFS=,; echo "${others[*]}")
        ip netns exec "$m" nft delete table inet drlab-etcd 2>/dev/null || true
        ip netns exec "$m" nft -f - <<NFT
table inet drlab-etcd {
        chain input {
                type filter hook input priority -10; policy accept;
                ip saddr { $set } tcp dport { $ETCD_CLIENT_PORT, $ETCD_PEER_PORT } drop
                ip saddr { $set } tcp sport { $ETCD_CLIENT_PORT, $ETCD_PEER_PORT } drop
        }
        chain output {
                type filter hook output priority -10; policy accept;
                ip daddr { $set } tcp dport { $ETCD_CLIENT_PORT, $ETCD_PEER_PORT } drop
                ip daddr { $set } tcp sport { $ETCD_CLIENT_PORT, $ETCD_PEER_PORT } drop
        }
}
NFT
}

etcd_heal() { # [node]
        local m
        for m in "${@:-${ETCD_MEMBERS[@]}}"; do
                ns_exists "$m" && { ip netns exec "$m" nft delete table inet drlab-etcd 2>/dev/null || true; }
        done
        return 0
}

etcd_is_cut() { ip netns exec "$1" nft list table inet drlab-etcd >/dev/null 2>&1; }

# The drover.yaml of the droverd that runs in NODE's namespace: the lab's config with
# its own journal and a cluster: section naming NODE (for the cluster tests; validated).
# Its own site's etcd member comes first, as a bank would list it: a fresh client (each run
# worker's) then does not begin with a lost site's member and wait out its connect budget.
etcd_node_config() { # node -> path
        local m=$1 f=$RUN/drover/cluster-$1.yaml ctl
        [ -f "$(config_path)" ] || die "the lab is not up ($(config_path) missing)"
        sed "s|^journal: .*|journal: $RUN/drover/$m.db|" "$(config_path)" >"$f.new"
        cat >>"$f.new" <<YAML
cluster:
  node: $m
  name: lab
  lease_ttl: 5s
  endpoints: [$(etcd_endpoints "$m" | sed 's/,/, /g')]
YAML
        ctl=$(droverctl_path)
        if [ -n "$ctl" ] && ! "$ctl" validate --config "$f.new" >/dev/null 2>&1; then
                "$ctl" validate --config "$f.new" >&2 || true
                die "generated $f rejected"
        fi
        mv "$f.new" "$f"
        echo "$f"
}

etcd_status() {
        local m
        for m in "${ETCD_MEMBERS[@]}"; do
                printf '  %-8s %-22s %s%s\n' "$m" "http://${NS_ADDR[$m]}:$ETCD_CLIENT_PORT" \
                        "$(pidfile_alive "$RUN/$m/etcd.pid" && echo running || echo stopped)" \
                        "$(etcd_is_cut "$m" && echo ", cut from etcd" || true)"
        done
        etcdctl_lab endpoint status -w table 2>&1 | sed 's/^/  /' || true
}

lab_etcd() {
        local sub=${1:-} m
        [ $# -gt 0 ] && shift
        [ "$(id -u)" = 0 ] || die "lab.sh must run as root"
        case $sub in
        up)
                [ -f "$RUN/up" ] || die "the lab is not up (lab.sh up first)"
                for m in "${ETCD_MEMBERS[@]}"; do etcd_member_start "$m"; done
                for m in "${ETCD_MEMBERS[@]}"; do
                        wait_tcp "etcd of $m" "${NS_ADDR[$m]}" "$ETCD_CLIENT_PORT" "$RUN/$m/etcd.pid" "$RUN/$m/etcd.log"
                done
                etcd_wait_healthy
                echo "etcd is up: $(etcd_endpoints)"
                ;;
        down)
                etcd_heal
                for m in "${ETCD_MEMBERS[@]}"; do etcd_member_stop "$m"; done
                echo "etcd is down (data kept in $DATA/etcd; 'lab.sh down' removes it)"
                ;;
        start)
                need_etcd_member "${1:-}"
                etcd_member_start "$1"
                wait_tcp "etcd of $1" "${NS_ADDR[$1]}" "$ETCD_CLIENT_PORT" "$RUN/$1/etcd.pid" "$RUN/$1/etcd.log"
                ;;
        stop)
                need_etcd_member "${1:-}"
                etcd_member_stop "$1"
                ;;
        cut)
                need_etcd_member "${1:-}"
                etcd_cut "$1"
                echo "$1 is cut from etcd (the sites are still reachable from it)"
                ;;
        heal)
                [ $# -eq 0 ] || need_etcd_member "$1"
                etcd_heal "$@"
                ;;
        status) etcd_status ;;
        endpoints) etcd_endpoints ;;
        config)
                need_etcd_member "${1:-}"
                etcd_node_config "$1"
                ;;
        *) usage >&2; exit 2 ;;
        esac
}
