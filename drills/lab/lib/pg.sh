# SPDX-License-Identifier: LGPL-2.1-or-later
# drills/lab/lib/pg.sh — PostgreSQL 15 of the lab: initdb of the primary, its
# settings, roles and schema; the synchronous standby is made by the backup's own
# /srv/bin/pg-rebuild-standby (the same code a failback uses). Sourced by lab.sh.

pg_datadir() { echo "$DATA/pg/$1"; }

pg_init_primary() {
        local d
        d=$(pg_datadir primary)
        mkdir -p "$DATA/pg" "$RUN/primary/pg"
        chmod 755 "$DATA/pg"
        if [ ! -f "$d/PG_VERSION" ]; then
                rm -rf "$d"
                install -d -o postgres -g postgres -m 700 "$d"
                runuser -u postgres -- "$PGBIN/initdb" --no-sync -D "$d" -U postgres --auth=trust \
                        -E UTF8 --no-locale >>"$RUN/primary/initdb.log" 2>&1 \
                        || { msg "initdb failed (see $RUN/primary/initdb.log)"; return 1; }
                cat >>"$d/postgresql.conf" <<'EOF'

# drover lab (lab.sh): throwaway data, fast start, one synchronous standby.
fsync = off
synchronous_commit = on
wal_level = replica
max_wal_senders = 10
wal_keep_size = 256MB
hot_standby = on
hot_standby_feedback = on
shared_buffers = 16MB
max_connections = 80
log_line_prefix = '%m [%p] %q%a '
log_connections = off
# Site-specific settings (address, socket dir, cluster name) of each copy.
include_if_exists = 'site.conf'
EOF
                cat >"$d/pg_hba.conf" <<'EOF'
# drover lab ONLY: trust inside the lab's private network namespaces. Never copy this.
local   all             all                     trust
local   replication     all                     trust
host    all             all     10.213.0.0/24   trust
host    replication     all     10.213.0.0/24   trust
EOF
                cat >"$d/site.conf" <<EOF
listen_addresses = '${NS_ADDR[primary]}'
port = 5432
unix_socket_directories = '$RUN/primary/pg'
cluster_name = 'primary'
EOF
                chown postgres:postgres "$d/pg_hba.conf" "$d/site.conf"
        fi
        ns_run primary /srv/bin/pg-start >/dev/null || return 1
        pg_psql_primary postgres "
                do \$\$ begin
                  if not exists (select from pg_roles where rolname = 'ebank') then
                    create role ebank login; end if;
                  if not exists (select from pg_roles where rolname = 'replicator') then
                    create role replicator login replication; end if;
                end \$\$;" >/dev/null || return 1
        if [ "$(pg_psql_primary postgres "select count(*) from pg_database where datname = 'ebank'")" = 0 ]; then
                pg_psql_primary postgres "create database ebank owner ebank" >/dev/null || return 1
        fi
        pg_psql_primary ebank "set role ebank;
                create table if not exists transactions (
                        id text primary key,
                        account text not null,
                        amount numeric(12,2) not null,
                        vendor text not null,
                        site text not null,
                        created_at timestamptz not null default now())" >/dev/null || return 1
}

pg_psql_primary() { # db sql
        runuser -u postgres -- "$PGBIN/psql" -X -A -t -q -v ON_ERROR_STOP=1 \
                -h "$RUN/primary/pg" -p 5432 -d "$1" -c "$2"
}

# Stop every cluster the lab knows: the two sites' and the restored copies
# (pg-restore-tar lists them). SIGQUIT = immediate shutdown; the data is throwaway.
pg_stop_all() {
        local d pid pids=() site
        local dirs=("$(pg_datadir primary)" "$(pg_datadir backup)")
        for site in "${SITES[@]}"; do
                if [ -r "$RUN/$site/restored.list" ]; then
                        while read -r d; do [ -n "$d" ] && dirs+=("$d"); done <"$RUN/$site/restored.list"
                fi
        done
        for d in "${dirs[@]}"; do
                [ -r "$d/postmaster.pid" ] || continue
                pid=$(head -1 "$d/postmaster.pid")
                if pid_alive "$pid" && grep -q postgres "/proc/$pid/cmdline" 2>/dev/null; then
                        kill -QUIT "$pid" 2>/dev/null || true
                        pids+=("$pid")
                fi
        done
        for pid in "${pids[@]}"; do
                wait_gone "$pid" 50 || { kill -KILL "$pid" 2>/dev/null || true; wait_gone "$pid" 30 || true; }
        done
}
