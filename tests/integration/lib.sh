# SPDX-License-Identifier: LGPL-2.1-or-later
# tests/integration/lib.sh — a throwaway lab for one integration test: a real
# OpenSSH sshd (own host keys, key-only, ed25519 user key, clean HOME) and a real
# HTTP server on loopback, plus small assertion helpers. Everything lives under
# $LAB and is stopped by PID when the test exits. Source it; do not run it.
set -euo pipefail

: "${DROVER_BUILD_ROOT:?run through meson test}"
: "${DROVER_SOURCE_ROOT:?run through meson test}"
DROVERCTL="$DROVER_BUILD_ROOT/src/ctl/droverctl"
DROVER_WORKER="$DROVER_BUILD_ROOT/src/worker/drover-worker" # droverd's run worker ($DROVER_WORKER for droverd)
LAB=$(mktemp -d /tmp/drover-test.XXXXXX)
LAB_PIDS=()
N_PASS=0
N_FAIL=0

lab_cleanup() {
        local pid
        for pid in "${LAB_PIDS[@]}"; do
                kill "$pid" 2>/dev/null || true
        done
        for pid in "${LAB_PIDS[@]}"; do
                wait "$pid" 2>/dev/null || true
        done
        if [ "${LAB_KEEP:-0}" = 1 ]; then
                echo "# lab kept in $LAB"
        else
                rm -rf "$LAB"
        fi
}
trap lab_cleanup EXIT

# A TCP port nobody listens on right now (the kernel picks it).
lab_free_port() {
        python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

lab_wait_port() { # addr port
        local i
        for i in $(seq 1 100); do
                if (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; then
                        return 0
                fi
                sleep 0.05
        done
        echo "# nothing listens on $1:$2" >&2
        return 1
}

# Keys: sshd host key, drover's user key, a second user key sshd does not know.
lab_keys() {
        mkdir -p "$LAB/sshd" "$LAB/home"
        ssh-keygen -q -t ed25519 -N '' -f "$LAB/sshd/ssh_host_ed25519_key" -C lab-host
        ssh-keygen -q -t ed25519 -N '' -f "$LAB/id_ed25519" -C drover-test
        ssh-keygen -q -t ed25519 -N '' -f "$LAB/id_other" -C not-authorized
        cp "$LAB/id_ed25519.pub" "$LAB/authorized_keys"
}

# lab_start_sshd [ADDR...]: one sshd listening on the given loopback addresses
# (default 127.0.0.1) on a fresh port; sets SSHD_PORT and writes $LAB/known_hosts.
lab_start_sshd() {
        local addrs=("$@") a
        [ ${#addrs[@]} -gt 0 ] || addrs=(127.0.0.1)
        [ -f "$LAB/id_ed25519" ] || lab_keys
        mkdir -p /run/sshd
        SSHD_PORT=$(lab_free_port)
        {
                echo "Port $SSHD_PORT"
                for a in "${addrs[@]}"; do echo "ListenAddress $a"; done
                echo "HostKey $LAB/sshd/ssh_host_ed25519_key"
                echo "AuthorizedKeysFile $LAB/authorized_keys"
                echo "PasswordAuthentication no"
                echo "KbdInteractiveAuthentication no"
                echo "PubkeyAuthentication yes"
                echo "PermitRootLogin prohibit-password"
                echo "StrictModes no"
                echo "UsePAM no"
                echo "PidFile none"
                echo "MaxStartups 200"
                echo "MaxSessions 100"
                echo "LogLevel ERROR"
                echo "SetEnv HOME=$LAB/home"
                [ -z "${LAB_SSHD_EXTRA:-}" ] || echo "$LAB_SSHD_EXTRA" # a test's own lines
        } >"$LAB/sshd/sshd_config"
        /usr/sbin/sshd -D -e -f "$LAB/sshd/sshd_config" >>"$LAB/sshd/log" 2>&1 &
        LAB_PIDS+=($!)
        : >"$LAB/known_hosts"
        for a in "${addrs[@]}"; do
                lab_wait_port "$a" "$SSHD_PORT"
                echo "[$a]:$SSHD_PORT $(cut -d' ' -f1,2 "$LAB/sshd/ssh_host_ed25519_key.pub")" >>"$LAB/known_hosts"
        done
}

# lab_start_http: the test HTTP server (tests/integration/http-server.py); sets HTTP_PORT.
lab_start_http() {
        HTTP_PORT=$(lab_free_port)
        mkdir -p "$LAB/http"
        python3 "$DROVER_SOURCE_ROOT/tests/integration/http-server.py" --port "$HTTP_PORT" \
                --state-dir "$LAB/http" >>"$LAB/http/log" 2>&1 &
        LAB_PIDS+=($!)
        lab_wait_port 127.0.0.1 "$HTTP_PORT"
}

# lab_start_blackhole: a TCP listener that accepts and never speaks (a hung SSH host);
# sets BLACKHOLE_PORT.
lab_start_blackhole() {
        BLACKHOLE_PORT=$(lab_free_port)
        python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(16)
conns = []
while True:
    c, _ = s.accept(); conns.append(c)
' "$BLACKHOLE_PORT" >/dev/null 2>&1 &
        LAB_PIDS+=($!)
        lab_wait_port 127.0.0.1 "$BLACKHOLE_PORT"
}

# lab_config [EXTRA_YAML_FILE]: $LAB/drover.yaml with host h1 (the sshd), group web
# (h1 twice under two names), endpoint api (the HTTP server), a file secret.
lab_config() {
        printf 's3cr3t-t0ken-%s' "$RANDOM$RANDOM" >"$LAB/api-token"
        cat >"$LAB/drover.yaml" <<YAML
journal: $LAB/drover.db
defaults:
  step_timeout: 20s
  ssh:
    user: root
    key: $LAB/id_ed25519
    known_hosts: $LAB/known_hosts
    connect_timeout: 5s
sites:
  primary: {role: primary}
  backup: {role: backup}
hosts:
  h1: {site: primary, address: 127.0.0.1, port: ${SSHD_PORT:-22}}
  h2: {site: backup, address: 127.0.0.1, port: ${SSHD_PORT:-22}}
groups:
  web: [h1, h2]
endpoints:
  api:
    site: backup
    url: http://127.0.0.1:${HTTP_PORT:-80}
    headers:
      Authorization: "Bearer \${secrets.api_token}"
secrets:
  api_token: {file: $LAB/api-token}
YAML
        if [ $# -gt 0 ]; then
                cat "$1" >>"$LAB/drover.yaml"
        fi
}

ok() {
        N_PASS=$((N_PASS + 1))
        echo "ok $N_PASS - $*"
}

not_ok() {
        N_FAIL=$((N_FAIL + 1))
        echo "not ok - $*"
}

check() { # description command...
        local d=$1
        shift
        if "$@"; then ok "$d"; else not_ok "$d"; fi
}

assert_eq() { # description expected actual
        if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1: expected '$2', got '$3'"; fi
}

assert_contains() { # description haystack needle
        if [[ "$2" == *"$3"* ]]; then ok "$1"; else not_ok "$1: '$3' not found in: $2"; fi
}

assert_not_contains() { # description haystack needle
        if [[ "$2" != *"$3"* ]]; then ok "$1"; else not_ok "$1: '$3' must not appear in: $2"; fi
}

sql() { # query against the test journal
        sqlite3 -batch -noheader -cmd ".timeout 10000" "$LAB/drover.db" "$1"
}

# wait_until TRIES COMMAND...: poll COMMAND every 0.1 s, at most TRIES times.
wait_until() { # TRIES COMMAND...
        local n=$1 i
        shift
        for i in $(seq 1 "$n"); do
                "$@" 2>/dev/null && return 0
                sleep 0.1
        done
        return 1
}

# sql_nonzero QUERY: the test journal answers something other than "" or "0".
sql_nonzero() {
        local v
        v=$(sql "$1" 2>/dev/null) || return 1
        [ -n "$v" ] && [ "$v" != 0 ]
}

lab_done() {
        echo "# $N_PASS passed, $N_FAIL failed"
        [ "$N_FAIL" -eq 0 ] && [ "$N_PASS" -gt 0 ]
}

# wait_for_sql QUERY EXPECTED [TRIES]: poll the journal until QUERY prints EXPECTED (0.1 s steps).
wait_for_sql() {
        local i
        for i in $(seq 1 "${3:-200}"); do
                if [ "$(sql "$1" 2>/dev/null || true)" = "$2" ]; then
                        return 0
                fi
                sleep 0.1
        done
        return 1
}
