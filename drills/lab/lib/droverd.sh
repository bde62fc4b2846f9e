# SPDX-License-Identifier: LGPL-2.1-or-later
# drills/lab/lib/droverd.sh — a droverd per etcd node (primary, backup, witness), each in
# its node's namespace with the config of `lab.sh etcd config NODE` (its own journal
# $RUN/drover/NODE.db, `cluster:` naming NODE, lease 5 s) and its own system-type
# dbus-daemon ($RUN/NODE/bus.sock, root only), so that each node's D-Bus API can be asked
# (`droverctl` with DBUS_SYSTEM_BUS_ADDRESS from `lab.sh droverd bus NODE`).
# Pid and log in $RUN/NODE/{droverd,dbus}.{pid,log}. Sourced by lab.sh: `lab.sh droverd …`.
# Owns: these daemons. Not started by `lab.sh up` (the single-droverd tests start their
# own droverd in the root namespace); `lab.sh down` stops them with everything else.

droverd_bin() {
        local b=${DROVER_BUILD_ROOT:-$REPO/build}
        [ -x "$b/src/daemon/droverd" ] || die "droverd not built under $b (meson setup build && ninja -C build)"
        echo "$b/src/daemon/droverd"
}

droverd_bus_address() { echo "unix:path=$RUN/$1/bus.sock"; }

# The bus: system type (droverd owns its name there), root only, nothing else on it.
droverd_bus_start() { # node
        local m=$1 conf=$RUN/$1/bus.conf
        pidfile_alive "$RUN/$m/dbus.pid" && return 0
        mkdir -p "$RUN/$m"
        rm -f "$RUN/$m/bus.sock"
        cat >"$conf" <<XML
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$RUN/$m/bus.sock</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <deny user="*"/>
    <allow user="root"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
  <policy user="root">
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Monitoring"/>
  </policy>
</busconfig>
XML
        ns_spawn "$m" dbus dbus-daemon --config-file="$conf" --nofork
        local i
        for i in $(seq 1 100); do
                [ -S "$RUN/$m/bus.sock" ] && return 0
                sleep 0.05
        done
        die "the bus of $m did not start (see $RUN/$m/dbus.log)"
}

droverd_node_start() { # node
        local m=$1 cfg bin worker
        pidfile_alive "$RUN/$m/droverd.pid" && return 0
        bin=$(droverd_bin)
        worker=$(dirname "$(dirname "$bin")")/worker/drover-worker
        cfg=$(etcd_node_config "$m")
        # The node's droverd must have its API: refuse to run without it.
        sed -i 's/^dbus: {required: false}/dbus: {required: true}/' "$cfg"
        droverd_bus_start "$m"
        ns_spawn "$m" droverd env -u NOTIFY_SOCKET -u WATCHDOG_USEC -u WATCHDOG_PID \
                DBUS_SYSTEM_BUS_ADDRESS="$(droverd_bus_address "$m")" DROVER_WORKER="$worker" \
                "$bin" --config "$cfg"
}

droverd_node_wait() { # node: until droverd owns org.drover1 on the node's bus
        local m=$1 i
        for i in $(seq 1 400); do
                busctl --address="$(droverd_bus_address "$m")" status org.drover1 >/dev/null 2>&1 && return 0
                pidfile_alive "$RUN/$m/droverd.pid" || break
                sleep 0.1
        done
        tail -20 "$RUN/$m/droverd.log" | sed 's/^/lab:   /' >&2
        die "droverd of $m is not on its bus"
}

droverd_node_kill() { # node: SIGKILL, as a crash
        local pid
        pid=$(cat "$RUN/$1/droverd.pid" 2>/dev/null || true)
        pid_alive "$pid" || { msg "droverd of $1 is not running"; return 0; }
        kill -KILL "$pid"
        wait_gone "$pid" 50 || msg "droverd of $1 (pid $pid) does not die"
        rm -f "$RUN/$1/droverd.pid"
}

droverd_node_stop() { # node: SIGTERM (a clean stop resigns the lease), then the bus
        local pid
        pid=$(cat "$RUN/$1/droverd.pid" 2>/dev/null || true)
        stop_pid "$pid" || msg "droverd of $1 (pid $pid) does not stop"
        rm -f "$RUN/$1/droverd.pid"
}

droverd_node_prop() { # node property -> value
        busctl --address="$(droverd_bus_address "$1")" get-property org.drover1 /org/drover1 org.drover1.Manager "$2" \
                2>/dev/null | sed -E 's/^[a-z]+ //; s/"//g'
}

droverd_status() {
        local m
        for m in "${ETCD_MEMBERS[@]}"; do
                if pidfile_alive "$RUN/$m/droverd.pid"; then
                        printf '  %-8s pid %-7s %-10s leader %-8s epoch %-6s members %s\n' "$m" \
                                "$(cat "$RUN/$m/droverd.pid")" "$(droverd_node_prop "$m" ClusterRole)" \
                                "$(droverd_node_prop "$m" ClusterLeader)" "$(droverd_node_prop "$m" ClusterEpoch)" \
                                "$(droverd_node_prop "$m" ClusterMembers)"
                else
                        printf '  %-8s stopped\n' "$m"
                fi
        done
}

lab_droverd() {
        local sub=${1:-} m
        [ $# -gt 0 ] && shift
        [ "$(id -u)" = 0 ] || die "lab.sh must run as root"
        case $sub in
        up)
                [ -f "$RUN/up" ] || die "the lab is not up (lab.sh up first)"
                etcdctl_lab endpoint health >/dev/null 2>&1 || lab_etcd up >/dev/null
                for m in "${@:-${ETCD_MEMBERS[@]}}"; do need_etcd_member "$m"; droverd_node_start "$m"; done
                for m in "${@:-${ETCD_MEMBERS[@]}}"; do droverd_node_wait "$m"; done
                echo "droverd is up on ${*:-${ETCD_MEMBERS[*]}} (journals $RUN/drover/NODE.db; lab.sh droverd status)"
                ;;
        down)
                for m in "${ETCD_MEMBERS[@]}"; do droverd_node_stop "$m"; done
                for m in "${ETCD_MEMBERS[@]}"; do
                        stop_pid "$(cat "$RUN/$m/dbus.pid" 2>/dev/null || true)" || true
                        rm -f "$RUN/$m/dbus.pid" "$RUN/$m/bus.sock"
                done
                echo "droverd is down (journals kept in $RUN/drover)"
                ;;
        start)
                need_etcd_member "${1:-}"
                droverd_node_start "$1"
                droverd_node_wait "$1"
                ;;
        stop)
                need_etcd_member "${1:-}"
                droverd_node_stop "$1"
                ;;
        kill)
                need_etcd_member "${1:-}"
                droverd_node_kill "$1"
                ;;
        status) droverd_status ;;
        bus)
                need_etcd_member "${1:-}"
                droverd_bus_address "$1"
                ;;
        journal)
                need_etcd_member "${1:-}"
                echo "$RUN/drover/$1.db"
                ;;
        *) usage >&2; exit 2 ;;
        esac
}
