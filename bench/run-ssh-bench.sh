#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# bench/run-ssh-bench.sh [N...] — how long do 10 trivial SSH steps on N hosts take with
# Ansible, with droverctl, and with a bare libssh2 program (the floor)? Default N: 1 10 50.
#
# Everything runs on loopback: N host addresses 127.0.0.2 … 127.0.0.(N+1), served by
# ceil(N/16) throwaway sshd instances (own host key, key-only auth, clean HOME). Each
# tool runs 3 times per N; the table shows medians. Installs nothing (CI installs
# ansible-core); stops every process it starts. See bench/README.md.
#
# Environment: BUILD (default: $DROVER_BUILD_ROOT, else ./build) — the meson build dir
# holding bench/ssh-floor and src/ctl/droverctl. RUNS (default 3). KEEP=1 keeps the temp dir.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-${DROVER_BUILD_ROOT:-$SRC/build}}
RUNS=${RUNS:-3}
FLOOR="$BUILD/bench/ssh-floor"
DROVERCTL="$BUILD/src/ctl/droverctl"
NS=("$@")
[ ${#NS[@]} -gt 0 ] || NS=(1 10 50)
for n in "${NS[@]}"; do
        case "$n" in
        '' | *[!0-9]*) echo "run-ssh-bench: N must be a number, got '$n'" >&2; exit 2 ;;
        esac
        if [ "$n" -lt 1 ] || [ "$n" -gt 250 ]; then
                echo "run-ssh-bench: N must be 1..250 (addresses 127.0.0.2 … 127.0.0.251)" >&2
                exit 2
        fi
done
if [ ! -x "$FLOOR" ]; then
        echo "run-ssh-bench: $FLOOR not found; build first: meson setup build && ninja -C build" >&2
        exit 2
fi

# Short path: ssh control sockets must fit in sun_path (108 bytes).
T=$(mktemp -d /tmp/dbench.XXXXXX)
PIDS=()

cleanup() {
        local pid s
        # Ansible's ControlPersist masters are detached ssh processes: ask each to exit.
        for s in "$T"/cp*/*; do
                [ -S "$s" ] && ssh -o ControlPath="$s" -O exit dummy >/dev/null 2>&1 || true
        done
        for pid in "${PIDS[@]}"; do
                kill "$pid" 2>/dev/null || true
        done
        for pid in "${PIDS[@]}"; do
                wait "$pid" 2>/dev/null || true
        done
        if [ "${KEEP:-0}" = 1 ]; then
                echo "# kept $T"
        else
                rm -rf "$T"
        fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
        python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

wait_port() { # addr port
        local i
        for i in $(seq 1 200); do
                if (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; then
                        return 0
                fi
                sleep 0.05
        done
        echo "run-ssh-bench: nothing listens on $1:$2 (see $T/sshd-*.log)" >&2
        return 1
}

# Every tool is timed the same way, from outside, with bash's own clock (no fork), so that
# each column includes its process start-up and exit and nothing else.
now() { echo "$EPOCHREALTIME"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f\n", b - a }'; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ratio() { # a b -> a/b, or "-" when either is missing
        if [ "$1" = - ] || [ "$2" = - ]; then echo -; else
                python3 -c "import sys; print('%.2f' % (float(sys.argv[1]) / float(sys.argv[2])))" "$1" "$2"
        fi
}

# ---- the lab: keys, sshd instances for the largest N ----
MAXN=0
for n in "${NS[@]}"; do [ "$n" -gt "$MAXN" ] && MAXN=$n; done

mkdir -p "$T/home" /run/sshd
ssh-keygen -q -t ed25519 -N '' -f "$T/host_key" -C bench-host
ssh-keygen -q -t ed25519 -N '' -f "$T/id_ed25519" -C bench-user
cp "$T/id_ed25519.pub" "$T/authorized_keys"

ADDRS=() PORTS=()
: >"$T/known_hosts"
i=0
while [ "$i" -lt "$MAXN" ]; do
        port=$(free_port)
        cfg="$T/sshd-$port.conf"
        {
                echo "Port $port"
                for k in $(seq 1 16); do
                        [ "$i" -lt "$MAXN" ] || break
                        i=$((i + 1))
                        addr="127.0.0.$((i + 1))"
                        echo "ListenAddress $addr"
                        ADDRS+=("$addr")
                        PORTS+=("$port")
                done
                echo "HostKey $T/host_key"
                echo "AuthorizedKeysFile $T/authorized_keys"
                echo "PasswordAuthentication no"
                echo "KbdInteractiveAuthentication no"
                echo "PubkeyAuthentication yes"
                echo "PermitRootLogin prohibit-password"
                echo "StrictModes no"
                echo "UsePAM no"
                echo "PidFile none"
                echo "MaxStartups 500"
                echo "MaxSessions 100"
                echo "LogLevel ERROR"
                # No rc files: measure the transport, not root's shell start-up.
                echo "SetEnv HOME=$T/home"
        } >"$cfg"
        /usr/sbin/sshd -D -e -f "$cfg" >>"$T/sshd-$port.log" 2>&1 &
        PIDS+=($!)
done
for k in "${!ADDRS[@]}"; do
        wait_port "${ADDRS[$k]}" "${PORTS[$k]}"
        echo "[${ADDRS[$k]}]:${PORTS[$k]} $(cut -d' ' -f1,2 "$T/host_key.pub")" >>"$T/known_hosts"
done
USER_NAME=$(id -un)

# ---- per-N inputs ----
make_inputs() { # N
        local n=$1 d="$T/n$1" k
        mkdir -p "$d"
        : >"$d/targets"
        for ((k = 0; k < n; k++)); do
                echo "${ADDRS[$k]}:${PORTS[$k]}" >>"$d/targets"
        done

        {
                echo "defaults:"
                echo "  step_timeout: 60s"
                echo "  ssh: {user: $USER_NAME, key: $T/id_ed25519, known_hosts: $T/known_hosts, connect_timeout: 10s}"
                echo "sites:"
                echo "  lab: {role: primary}"
                echo "hosts:"
                for ((k = 0; k < n; k++)); do
                        echo "  h$k: {site: lab, address: ${ADDRS[$k]}, port: ${PORTS[$k]}}"
                done
                echo "groups:"
                printf '  all: ['
                for ((k = 0; k < n; k++)); do
                        [ "$k" -gt 0 ] && printf ', '
                        printf 'h%s' "$k"
                done
                echo ']'
        } >"$d/drover.yaml"
        {
                echo "name: bench"
                echo "kind: custom"
                echo "targets:"
                echo "  all: {group: all}"
                echo "steps:"
                for k in $(seq 1 10); do
                        echo "  - name: s$k"
                        echo "    ssh: {target: all, command: \"true\", parallel: $n}"
                done
        } >"$d/bench.yaml"

        {
                echo "[all]"
                for ((k = 0; k < n; k++)); do
                        echo "h$k ansible_host=${ADDRS[$k]} ansible_port=${PORTS[$k]}"
                done
                echo "[all:vars]"
                echo "ansible_user=$USER_NAME"
                echo "ansible_ssh_private_key_file=$T/id_ed25519"
                echo "ansible_python_interpreter=/usr/bin/python3"
        } >"$d/inventory.ini"
        {
                echo "- hosts: all"
                echo "  gather_facts: false"
                echo "  tasks:"
                for k in $(seq 1 10); do
                        echo "    - name: s$k"
                        echo "      command: \"true\""
                done
        } >"$d/playbook.yml"
}

ansible_cfg() { # N control-dir -> writes $T/n$N/ansible.cfg
        cat >"$T/n$1/ansible.cfg" <<CFG
[defaults]
forks = $1
host_key_checking = True
inventory = $T/n$1/inventory.ini
local_tmp = $T/ansible-local
remote_tmp = $T/ansible-remote
retry_files_enabled = False
stdout_callback = default
interpreter_python = /usr/bin/python3

[ssh_connection]
pipelining = True
ssh_args = -o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile=$T/known_hosts -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes
control_path_dir = $2
control_path = %(directory)s/%%C
CFG
}

# ---- the tools ----
run_floor() { # N -> seconds
        local t0 t1
        t0=$(now)
        "$FLOOR" -u "$USER_NAME" -k "$T/id_ed25519" -K "$T/known_hosts" -n 10 -c true -f "$T/n$1/targets" \
                >"$T/floor.out" 2>"$T/floor.err" </dev/null || { cat "$T/floor.err" >&2; return 1; }
        t1=$(now)
        elapsed "$t0" "$t1"
}

run_drover() { # N run -> seconds
        local t0 t1 rc=0
        t0=$(now)
        "$DROVERCTL" run --config "$T/n$1/drover.yaml" --db "$T/n$1/drover-$2.db" "$T/n$1/bench.yaml" \
                >"$T/drover.out" 2>&1 </dev/null || rc=$?
        t1=$(now)
        [ "$rc" = 0 ] || return 1
        elapsed "$t0" "$t1"
}

run_ansible() { # N run -> seconds
        local t0 t1 rc=0 cp="$T/cp$1-$2" s
        mkdir -p "$cp"
        ansible_cfg "$1" "$cp"
        t0=$(now)
        ANSIBLE_CONFIG="$T/n$1/ansible.cfg" HOME="$T/home" ansible-playbook "$T/n$1/playbook.yml" \
                >"$T/ansible.out" 2>&1 </dev/null || rc=$?
        t1=$(now)
        # Each run starts cold: stop this run's ControlPersist masters.
        for s in "$cp"/*; do
                [ -S "$s" ] && ssh -o ControlPath="$s" -O exit dummy >/dev/null 2>&1 || true
        done
        [ "$rc" = 0 ] || return 1
        elapsed "$t0" "$t1"
}

HAVE_ANSIBLE=1
if ! command -v ansible-playbook >/dev/null 2>&1; then
        echo "ansible: not available (ansible-playbook not in PATH)"
        HAVE_ANSIBLE=0
fi
HAVE_DROVER=1
if [ ! -x "$DROVERCTL" ]; then
        echo "droverctl: not available ($DROVERCTL not built)"
        HAVE_DROVER=0
fi

ROWS=()
for n in "${NS[@]}"; do
        make_inputs "$n"
        fl=() dr=() an=()
        for r in $(seq 1 "$RUNS"); do
                fl+=("$(run_floor "$n")") || { echo "floor failed for N=$n" >&2; exit 1; }
                if [ "$HAVE_DROVER" = 1 ]; then
                        if v=$(run_drover "$n" "$r"); then
                                dr+=("$v")
                        else
                                echo "droverctl: not available (run failed for N=$n; output below)"
                                sed 's/^/  | /' "$T/drover.out" | tail -20
                                HAVE_DROVER=0
                        fi
                fi
                if [ "$HAVE_ANSIBLE" = 1 ]; then
                        if v=$(run_ansible "$n" "$r"); then
                                an+=("$v")
                        else
                                echo "ansible: failed for N=$n; output below" >&2
                                tail -30 "$T/ansible.out" >&2
                                exit 1
                        fi
                fi
        done
        f=$(median "${fl[@]}")
        d=- a=-
        [ "$HAVE_DROVER" = 1 ] && [ ${#dr[@]} -gt 0 ] && d=$(median "${dr[@]}")
        [ "$HAVE_ANSIBLE" = 1 ] && [ ${#an[@]} -gt 0 ] && a=$(median "${an[@]}")
        ROWS+=("$(printf '%5s %12s %14s %10s %16s %18s' "$n" "$a" "$d" "$f" "$(ratio "$d" "$f")" "$(ratio "$a" "$d")")")
        echo "# N=$n done (floor runs: ${fl[*]}; droverctl: ${dr[*]:-}; ansible: ${an[*]:-})"
done

echo
echo "10 steps of \`true\` on N hosts, median of $RUNS runs, seconds (wall clock):"
printf '%5s %12s %14s %10s %16s %18s\n' N "ansible s" "droverctl s" "floor s" "droverctl/floor" "ansible/droverctl"
printf '%s\n' "${ROWS[@]}"
