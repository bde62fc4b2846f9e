# SPDX-License-Identifier: LGPL-2.1-or-later
# drills/lab/lib/common.sh — paths, messages, process and wait helpers shared by
# lab.sh's other libraries. Sourced by lab.sh only; never run on its own.
# Owns: where the lab keeps its state, how a daemon is started inside a namespace
# (and how it is found again by PID), bounded waits, package installation.

LAB_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REPO=$(cd "$LAB_SRC/../.." && pwd)
LAB_SERVICES_DIR=${LAB_SERVICES_DIR:-$LAB_SRC/services}

# DROVER_LAB_DIR moves both state trees under one base (tests); the default is the
# spec's /run/drover-lab (runtime) and /var/lib/drover-lab (data).
if [ -n "${DROVER_LAB_DIR:-}" ]; then
        RUN=$DROVER_LAB_DIR/run
        DATA=$DROVER_LAB_DIR/lib
else
        RUN=/run/drover-lab
        DATA=/var/lib/drover-lab
fi

# The Debian interpreter, not whatever `python3` is first on PATH (a pyenv shim
# does not see python3-psycopg2 and costs start-up time).
PY=/usr/bin/python3
PGBIN=/usr/lib/postgresql/15/bin

BRIDGE=drlab0
BRIDGE_ADDR=10.213.0.1
GUARD_NET=10.213.0.0/16
# witness: the third etcd member (and a third droverd), on its own link, at no site.
NSES=(gateway primary backup vendor-a vendor-b witness)
declare -A NS_ADDR=([gateway]=10.213.0.10 [primary]=10.213.0.11 [backup]=10.213.0.12
                    [vendor-a]=10.213.0.21 [vendor-b]=10.213.0.22 [witness]=10.213.0.13)
# Index per namespace: used for the nfqueue number of a delay fault.
declare -A NS_IDX=([gateway]=1 [primary]=2 [backup]=3 [vendor-a]=4 [vendor-b]=5 [witness]=6)
SITES=(primary backup)
VENDORS=(vendor-a vendor-b)

msg() { echo "lab: $*" >&2; }
die() { echo "lab: error: $*" >&2; exit 1; }

is_ns() { # name -> 0 if one of ours
        local n
        for n in "${NSES[@]}"; do [ "$n" = "$1" ] && return 0; done
        return 1
}

need_ns() { is_ns "${1:-}" || die "unknown namespace '${1:-}' (one of: ${NSES[*]})"; }

# pid_alive PID: the process exists and is not a zombie. kill -0 is not enough:
# orphans are reaped slowly here, so a dead daemon stays a zombie for seconds.
pid_alive() {
        local st
        [ -n "${1:-}" ] || return 1
        st=$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null) || return 1
        [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

pidfile_alive() { # file
        [ -r "$1" ] && pid_alive "$(cat "$1")"
}

# wait_gone PID [TENTHS]: until the process is dead (zombie counts as dead).
wait_gone() {
        local i
        for i in $(seq 1 "${2:-50}"); do
                pid_alive "$1" || return 0
                sleep 0.1
        done
        return 1
}

# stop_pid PID: SIGTERM, up to 5 s, then SIGKILL.
stop_pid() {
        pid_alive "$1" || return 0
        kill -TERM "$1" 2>/dev/null || true
        wait_gone "$1" 50 && return 0
        kill -KILL "$1" 2>/dev/null || true
        wait_gone "$1" 30
}

# tcp_open ADDR PORT: something accepts on it (checked from the root namespace).
tcp_open() {
        timeout 1 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null
}

# wait_tcp WHAT ADDR PORT [PIDFILE [LOG]]: bounded wait (15 s); on failure names
# WHAT and shows the end of LOG. Gives up at once when PIDFILE's process died.
wait_tcp() {
        local i why="nothing accepts on $2:$3 after 15 s"
        for i in $(seq 1 150); do
                tcp_open "$2" "$3" && return 0
                if [ -n "${4:-}" ] && [ -f "$4" ] && ! pidfile_alive "$4"; then
                        why="it exited"
                        break
                fi
                sleep 0.1
        done
        msg "$1 did not come up: $why${5:+ (log $5)}"
        if [ -n "${5:-}" ] && [ -s "$5" ]; then tail -5 "$5" | sed 's/^/lab:   | /' >&2; fi
        return 1
}

# ns_spawn NS NAME CMD...: start a daemon inside namespace NS with its own UTS
# hostname and its /srv bind mount, set up in the same `ip netns exec` (each exec
# gets a private mount namespace, so a bind mount does not outlive it). The inner
# shell writes its own PID before exec'ing the daemon, so the pid file names the
# daemon itself. stdin/stdout/stderr never reach the caller (pipelines would hang).
ns_spawn() {
        local ns=$1 name=$2
        shift 2
        mkdir -p "$RUN/$ns"
        setsid ip netns exec "$ns" unshare --uts sh -c \
                'echo $$ >"$1"; hostname "$2"; mount --bind "$3" /srv || exit 1; shift 3; exec "$@"' \
                sh "$RUN/$ns/$name.pid" "$ns" "$DATA/srv/$ns" "$@" \
                </dev/null >>"$RUN/$ns/$name.log" 2>&1 &
}

# ns_run NS CMD...: run a command to completion in NS with the same view (hostname,
# /srv) an SSH session there has. Used to call the /srv/bin helpers from lab.sh.
ns_run() {
        local ns=$1
        shift
        ip netns exec "$ns" unshare --uts sh -c \
                'hostname "$1"; mount --bind "$2" /srv || exit 1; shift 2; exec "$@"' \
                sh "$ns" "$DATA/srv/$ns" "$@" </dev/null
}

# root_spawn NAME CMD...: a daemon in the root namespace, pid and log in $RUN/root.
root_spawn() {
        local name=$1
        shift
        mkdir -p "$RUN/root"
        setsid sh -c 'echo $$ >"$1"; shift; exec "$@"' sh "$RUN/root/$name.pid" "$@" \
                </dev/null >>"$RUN/root/$name.log" 2>&1 &
}

LAB_PACKAGES=(postgresql haproxy socat nftables iptables iproute2 openssh-server openssh-client
              python3 python3-psycopg2 libnetfilter-queue-dev curl util-linux etcd-server etcd-client)

ensure_packages() {
        local p missing=()
        for p in "${LAB_PACKAGES[@]}"; do
                if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]; then
                        missing+=("$p")
                fi
        done
        [ ${#missing[@]} -eq 0 ] && return 0
        msg "installing missing packages: ${missing[*]}"
        apt-get update -qq >/dev/null || die "apt-get update failed"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" \
                >"${TMPDIR:-/tmp}/drover-lab-apt.log" 2>&1 \
                || die "apt-get install ${missing[*]} failed (see ${TMPDIR:-/tmp}/drover-lab-apt.log)"
}

droverctl_path() {
        local b=${DROVER_BUILD_ROOT:-$REPO/build}
        if [ -x "$b/src/ctl/droverctl" ]; then
                echo "$b/src/ctl/droverctl"
        fi
}

nfq_delay_path() {
        local b=${DROVER_BUILD_ROOT:-$REPO/build}
        if [ -x "$b/drills/lab/nfq-delay" ]; then
                echo "$b/drills/lab/nfq-delay"
        elif [ -x "$LAB_SRC/nfq-delay" ]; then
                echo "$LAB_SRC/nfq-delay"
        fi
}
