# SPDX-License-Identifier: LGPL-2.1-or-later
# drills/lab/bin/lab-lib.sh — sourced by the helper scripts that lab.sh installs
# into every namespace's /srv/bin (pg-role, pg-promote, ebank-start, …). They run
# inside the namespace: from an SSH session of drover, or from lab.sh through
# `ip netns exec`. Reads the site's facts from /srv/lab.env (written by lab.sh).

set -euo pipefail
export PATH=/srv/bin:/usr/sbin:/usr/bin:/sbin:/bin
# runuser -u postgres keeps the cwd; root's home is not postgres's to enter.
cd /

[ -r /srv/lab.env ] || { echo "$(basename "$0"): /srv/lab.env missing: not inside a lab namespace?" >&2; exit 1; }
# shellcheck disable=SC1091
. /srv/lab.env

ME=$(basename "$0")
fail() { echo "$ME: error: $*" >&2; exit 1; }
note() { echo "$ME: $*" >&2; }

pid_alive() {
        local st
        [ -n "${1:-}" ] || return 1
        st=$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null) || return 1
        [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

need_site() {
        [ -n "${PGDATA:-}" ] || fail "no PostgreSQL at $SITE (only primary and backup have one)"
}

# psql as postgres through this site's unix socket; -X: no psqlrc; -A -t: bare values.
pg_sql() { # sql [db]
        runuser -u postgres -- "$PGBIN/psql" -X -A -t -q -v ON_ERROR_STOP=1 \
                -h "$PGSOCK" -p "$PGPORT" -d "${2:-ebank}" -c "$1"
}

# psql against another site's PostgreSQL over the lab network (trust from 10.213.0.0/24).
pg_sql_remote() { # addr sql [db]
        runuser -u postgres -- env PGCONNECT_TIMEOUT=3 "$PGBIN/psql" -X -A -t -q -v ON_ERROR_STOP=1 \
                -h "$1" -p 5432 -U postgres -d "${3:-ebank}" -c "$2"
}

pg_running() {
        local pid
        [ -r "$PGDATA/postmaster.pid" ] || return 1
        pid=$(head -1 "$PGDATA/postmaster.pid" 2>/dev/null) || return 1
        pid_alive "$pid"
}

# primary | standby | down
pg_role_now() {
        local r
        pg_running || { echo down; return 0; }
        r=$(pg_sql "select pg_is_in_recovery()" postgres 2>/dev/null) || { echo down; return 0; }
        case $r in
        f) echo primary ;;
        t) echo standby ;;
        *) echo down ;;
        esac
}

# Wait until this site's PostgreSQL accepts connections (tenths of a second).
pg_wait_ready() {
        local i
        for i in $(seq 1 "${1:-300}"); do
                runuser -u postgres -- "$PGBIN/pg_isready" -q -h "$PGSOCK" -p "$PGPORT" && return 0
                sleep 0.1
        done
        return 1
}

# site.conf: the settings that belong to this site, not to the data copied from
# the other one (pg_basebackup copies postgresql.conf and the include with it).
pg_write_site_conf() { # datadir addr port sockdir name
        cat >"$1/site.conf" <<EOF
# drover lab: settings of this copy (rewritten by lab.sh and the /srv/bin helpers)
listen_addresses = '$2'
port = $3
unix_socket_directories = '$4'
cluster_name = '$5'
EOF
        chown postgres:postgres "$1/site.conf"
}

# psql as postgres over TCP to another cluster on this site's address (a restored copy).
pg_sql_port() { # port sql [db]
        runuser -u postgres -- env PGCONNECT_TIMEOUT=3 "$PGBIN/psql" -X -A -t -q -v ON_ERROR_STOP=1 \
                -h "$ADDR" -p "$1" -U postgres -d "${3:-ebank}" -c "$2"
}
