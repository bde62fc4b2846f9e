#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tests/lab/010-lab-up.sh — smoke test of the two-site e-bank lab (drills/lab/lab.sh):
# up, SSH into every namespace with drover's key and strict known_hosts, synchronous
# replication, a transfer through the gateway that lands on both databases, the
# gateway helper, the vendors, the generated drover.yaml, one fault and its clear,
# and a down that leaves nothing behind. Needs root; uses the lab's global names
# (namespaces, drlab0), so it tears down any lab already running when it ends.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LAB=$REPO/drills/lab/lab.sh
RUN=/run/drover-lab
K=$RUN/drover
NSES=(gateway primary backup vendor-a vendor-b witness)
declare -A ADDR=([gateway]=10.213.0.10 [primary]=10.213.0.11 [backup]=10.213.0.12
                 [vendor-a]=10.213.0.21 [vendor-b]=10.213.0.22 [witness]=10.213.0.13)
LOG=$(mktemp -d /tmp/drover-lab-test.XXXXXX)
N_PASS=0
N_FAIL=0
DOWN_DONE=0

[ "$(id -u)" = 0 ] || { echo "Bail out! needs root (namespaces, PostgreSQL, sshd)"; exit 1; }
# The lab's names are global to the machine: one user at a time, across build trees, like
# every other lab test (tests/lab/lab-test-lib.sh takes the same lock). Held until exit.
exec 8>/run/drover-lab.lock
flock 8

cleanup() {
        if [ "$DOWN_DONE" = 0 ]; then
                "$LAB" down >>"$LOG/down.log" 2>&1 || echo "# lab.sh down failed (see $LOG/down.log)"
        fi
        if [ "$N_FAIL" -eq 0 ]; then rm -rf "$LOG"; else echo "# logs kept in $LOG"; fi
}
trap cleanup EXIT

ok() { N_PASS=$((N_PASS + 1)); echo "ok $N_PASS - $*"; }
not_ok() { N_FAIL=$((N_FAIL + 1)); echo "not ok - $*"; }
assert_eq() { if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1: expected '$2', got '$3'"; fi; }

lab_ssh() { # ns cmd...
        local ns=$1
        shift
        ssh -o BatchMode=yes -o UserKnownHostsFile="$K/known_hosts" -o StrictHostKeyChecking=yes \
                -o ConnectTimeout=5 -o LogLevel=ERROR -i "$K/id_ed25519" "root@${ADDR[$ns]}" "$@" </dev/null
}

sql_at() { # site sql
        ip netns exec "$1" runuser -u postgres -- /usr/lib/postgresql/15/bin/psql -X -A -t -q \
                -h "$RUN/$1/pg" -d ebank -c "$2" </dev/null 2>>"$LOG/psql.err"
}

transfer() { # id -> HTTP status (000 when no answer)
        curl -s -m 5 -o "$LOG/transfer-$1.json" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
                -d "{\"id\": \"$1\", \"account\": \"A1\", \"amount\": 10.5}" http://10.213.0.10/transfer || true
}

wait_row() { # site id -> 0 when the row is there within 5 s
        local i
        for i in $(seq 1 50); do
                [ "$(sql_at "$1" "select count(*) from transactions where id = '$2'" || true)" = 1 ] && return 0
                sleep 0.1
        done
        return 1
}

# ---- up
t0=$(date +%s.%N)
if "$LAB" up >"$LOG/up.log" 2>&1; then
        ok "lab.sh up ($(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f s", b - a }'))"
else
        not_ok "lab.sh up failed:"
        sed 's/^/#   /' "$LOG/up.log"
        echo "# $N_PASS passed, $N_FAIL failed"
        exit 1
fi
if "$LAB" up >"$LOG/up2.log" 2>&1 && grep -q "already up" "$LOG/up2.log"; then
        ok "a second lab.sh up finds the lab up and exits 0"
else
        not_ok "second lab.sh up: $(tail -3 "$LOG/up2.log")"
fi

# ---- SSH with drover's key and strict host key checking, own hostname per namespace
for ns in "${NSES[@]}"; do
        assert_eq "ssh root@${ADDR[$ns]} hostname (strict known_hosts)" "$ns" "$(lab_ssh "$ns" hostname 2>&1 || true)"
done

# ---- replication: the backup streams synchronously
assert_eq "backup is a streaming synchronous standby" "backup|streaming|sync" \
        "$(sql_at primary "select application_name, state, sync_state from pg_stat_replication" || true)"
assert_eq "pg-role over SSH: primary" primary "$(lab_ssh primary pg-role 2>&1 || true)"
assert_eq "pg-role over SSH: backup is standby" standby "$(lab_ssh backup pg-role 2>&1 || true)"

# ---- a transfer through the gateway lands on both databases
id=smoke-$$-$RANDOM
assert_eq "transfer through the gateway answers 200" 200 "$(transfer "$id")"
if wait_row primary "$id"; then ok "the row is in the primary's database"; else not_ok "row $id missing on the primary"; fi
if wait_row backup "$id"; then ok "the row is in the standby's database"; else not_ok "row $id missing on the standby"; fi
assert_eq "pg-checksum equal on both sites" "$(lab_ssh primary pg-checksum 2>&1 || true)" \
        "$(lab_ssh backup pg-checksum 2>&1 || true)"

# ---- gateway and vendors
assert_eq "gateway-active over SSH prints primary" primary "$(lab_ssh gateway gateway-active 2>&1 || true)"
for v in vendor-a vendor-b; do
        m=$(curl -s -m 3 "http://${ADDR[$v]}:8080/metrics" || true)
        if [[ $m == *success_rate* ]]; then ok "$v /metrics answers"; else not_ok "$v /metrics: '$m'"; fi
done

# ---- the generated drover.yaml
cfg=$("$LAB" env 2>&1 || true)
assert_eq "lab.sh env prints the config path" "$K/drover.yaml" "$cfg"
CTL=${DROVER_BUILD_ROOT:-$REPO/build}/src/ctl/droverctl
if [ -x "$CTL" ]; then
        out=$("$CTL" validate --config "$cfg" 2>&1 || true)
        if [ "$(echo "$out" | tail -1)" = OK ]; then ok "droverctl validate accepts the generated config"
        else not_ok "droverctl validate: $out"; fi
else
        not_ok "droverctl not built at $CTL (set DROVER_BUILD_ROOT)"
fi

# ---- a fault and its clear
"$LAB" fault site-down primary >>"$LOG/fault.log" 2>&1 || not_ok "fault site-down primary failed"
st=$(transfer "$id-down")
if [ "$st" != 200 ]; then ok "with the primary site down a transfer fails ($st)"; else not_ok "transfer succeeded with the primary site down"; fi
"$LAB" fault clear >>"$LOG/fault.log" 2>&1 || not_ok "fault clear failed"
st=
for i in $(seq 1 40); do
        st=$(transfer "$id-back-$i")
        [ "$st" = 200 ] && break
        sleep 0.25
done
assert_eq "after fault clear transfers succeed again" 200 "$st"

# ---- down leaves nothing behind
t0=$(date +%s.%N)
if "$LAB" down >"$LOG/down.log" 2>&1; then
        ok "lab.sh down ($(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f s", b - a }'))"
else
        not_ok "lab.sh down failed: $(tail -3 "$LOG/down.log")"
fi
DOWN_DONE=1
left=$(ip netns list | awk '{print $1}' | grep -xE 'gateway|primary|backup|vendor-a|vendor-b|witness' || true)
assert_eq "no lab namespace left" "" "$left"
assert_eq "no drlab0 and no v-* link left" "" "$(ip -br link | awk '{print $1}' | grep -E '^(drlab0|v-)' || true)"
assert_eq "no guard route left" "" "$(ip route show 10.213.0.0/16 | grep unreachable || true)"
assert_eq "no root-namespace nft table left" "" "$(nft list tables 2>/dev/null | grep drlab || true)"
procs=
for p in /proc/[0-9]*; do
        st=$(cut -d' ' -f3 "$p/stat" 2>/dev/null || true)
        [ -n "$st" ] && [ "$st" != Z ] || continue
        if tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -qE '/run/drover-lab|/var/lib/drover-lab|drills/lab/(services|gateway-admin|notify-sink|nfq-delay)|^postgres: (primary|backup|restore-[0-9]+):'; then
                procs+=" ${p#/proc/}"
        fi
done
assert_eq "no live process from the lab's dirs" "" "$procs"
assert_eq "state dirs removed" "" "$(ls -d /run/drover-lab /var/lib/drover-lab 2>/dev/null || true)"
if "$LAB" down >>"$LOG/down.log" 2>&1; then ok "lab.sh down on nothing exits 0"; else not_ok "second lab.sh down failed"; fi

echo "# $N_PASS passed, $N_FAIL failed"
[ "$N_FAIL" -eq 0 ]
