#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# test-services.sh — the lab's application services (drills/lab/services/*.py) on loopback,
# without namespaces: a throwaway PostgreSQL 15, two vendor.py, one ebank.py, workload.py.
# Run as root (PostgreSQL runs as user postgres). Prints ok/not ok lines and
# "# N passed, M failed"; exits non-zero on any failure. Cleans up everything by trap.
set -u

REPO=$(cd "$(dirname "$0")/../.." && pwd)
SVC=$REPO/drills/lab/services
PY=/usr/bin/python3           # the system python has python3-psycopg2
PGBIN=/usr/lib/postgresql/15/bin

PASS=0
FAIL=0
ok() { PASS=$((PASS + 1)); echo "ok - $*"; }
nok() { FAIL=$((FAIL + 1)); echo "not ok - $*"; }
check() { # check DESCRIPTION COMMAND...
        local d=$1
        shift
        if "$@"; then ok "$d"; else nok "$d"; fi
}

[ "$(id -u)" = 0 ] || { echo "Bail out! needs root (PostgreSQL runs as user postgres)"; exit 1; }
"$PY" -c 'import psycopg2' 2>/dev/null || { echo "Bail out! $PY lacks psycopg2 (apt-get install python3-psycopg2)"; exit 1; }

T=$(mktemp -d /tmp/drover-lab-svc.XXXXXX)
chmod 755 "$T"
PIDS=()

cleanup() {
        local p
        for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
        for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
        if [ -f "$T/pg/postmaster.pid" ]; then
                runuser -u postgres -- "$PGBIN/pg_ctl" -D "$T/pg" -m immediate -w stop >/dev/null 2>&1
        fi
        rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
        "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
PGPORT=$(free_port); VA=$(free_port); VB=$(free_port); EB=$(free_port)
EBANK=http://127.0.0.1:$EB

# --- PostgreSQL -------------------------------------------------------------------------
mkdir -p "$T/pg" "$T/sock"
chown postgres: "$T/pg" "$T/sock"
runuser -u postgres -- "$PGBIN/initdb" --no-sync -A trust -U postgres -D "$T/pg" >"$T/initdb.log" 2>&1 ||
        { cat "$T/initdb.log"; echo "Bail out! initdb failed"; exit 1; }
pg_start() {
        runuser -u postgres -- "$PGBIN/pg_ctl" -D "$T/pg" -l "$T/sock/pg.log" -w -t 30 \
                -o "-p $PGPORT -k $T/sock -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
}
pg_stop() {
        runuser -u postgres -- "$PGBIN/pg_ctl" -D "$T/pg" -m fast -w stop >/dev/null
}
pg_start || { cat "$T/sock/pg.log"; echo "Bail out! postgres did not start"; exit 1; }
psql_su() { runuser -u postgres -- psql -h "$T/sock" -p "$PGPORT" -U postgres -X -q -v ON_ERROR_STOP=1 "$@"; }
q() { psql_su -d ebank -At -c "$1"; }
psql_su -d postgres -c "CREATE ROLE ebank LOGIN" -c "CREATE DATABASE ebank OWNER ebank"
psql_su -d ebank -U ebank -c "CREATE TABLE transactions(id text primary key, account text not null,
        amount numeric(12,2) not null, vendor text not null, site text not null,
        created_at timestamptz not null default now())"

# --- services ---------------------------------------------------------------------------
mkdir -p "$T/srv-a" "$T/srv-b" "$T/srv-primary"
"$PY" "$SVC/vendor.py" --listen 127.0.0.1:$VA --name vendor-a --srv "$T/srv-a" 2>"$T/vendor-a.log" &
PIDS+=($!)
VA_PID=$!
"$PY" "$SVC/vendor.py" --listen 127.0.0.1:$VB --name vendor-b --srv "$T/srv-b" 2>"$T/vendor-b.log" &
PIDS+=($!)
"$PY" "$SVC/ebank.py" --listen 127.0.0.1:$EB --site primary --srv "$T/srv-primary" \
        --dsn "host=127.0.0.1 port=$PGPORT dbname=ebank user=ebank connect_timeout=2" \
        --vendor-map "vendor-a=http://127.0.0.1:$VA,vendor-b=http://127.0.0.1:$VB" 2>"$T/ebank.log" &
PIDS+=($!)
EB_PID=$!

wait_http() { # URL
        local i
        for i in $(seq 100); do
                curl -s -o /dev/null -m 1 "$1" && return 0
                sleep 0.1
        done
        return 1
}
for u in http://127.0.0.1:$VA/health http://127.0.0.1:$VB/health $EBANK/health; do
        wait_http "$u" || { cat "$T"/*.log; echo "Bail out! $u never answered"; exit 1; }
done

# HTTP helpers: BODY and CODE of the last call
call() { # METHOD URL [JSON]
        local out
        if [ $# -ge 3 ]; then
                out=$(curl -s -m 10 -X "$1" -H 'Content-Type: application/json' -d "$3" -w '\n%{http_code}' "$2")
        else
                out=$(curl -s -m 10 -X "$1" -w '\n%{http_code}' "$2")
        fi
        CODE=${out##*$'\n'}
        BODY=${out%$'\n'*}
}
jf() { "$PY" -c 'import json,sys; v=json.loads(sys.argv[1]).get(sys.argv[2]); print("null" if v is None else v)' "$BODY" "$1"; }
uuid() { cat /proc/sys/kernel/random/uuid; }
transfer() { # ID [ACCOUNT] [AMOUNT]
        call POST "$EBANK/transfer" "{\"id\":\"$1\",\"account\":\"${2:-A1}\",\"amount\":${3:-10.5}}"
}
rows() { q "SELECT count(*) FROM transactions WHERE id = '$1'"; }
received() { call GET "http://127.0.0.1:$1/admin/received"; jf received; }
unauthorized() { call GET "http://127.0.0.1:$1/admin/received"; jf unauthorized; }

# --- health and a plain transfer -----------------------------------------------------------
call GET "$EBANK/health"
check "health: 200 ok on a writable primary" [ "$CODE" = 200 -a "$(jf status)" = ok -a "$(jf db)" = primary -a "$(jf vendor)" = vendor-a ]

ID=$(uuid)
transfer "$ID" A1 10.5
check "transfer: 200" [ "$CODE" = 200 ]
check "transfer: reply names id, vendor-a, site primary, balance 10.5" \
        [ "$(jf id)" = "$ID" -a "$(jf vendor)" = vendor-a -a "$(jf site)" = primary -a "$(jf balance)" = 10.5 ]
check "transfer: row committed with vendor and site" \
        [ "$(q "SELECT account||' '||amount||' '||vendor||' '||site FROM transactions WHERE id='$ID'")" = "A1 10.50 vendor-a primary" ]

RA=$(received $VA)
transfer "$ID" A1 10.5
check "duplicate id: 200 with the old row, flagged duplicate" [ "$CODE" = 200 -a "$(jf duplicate)" = True -a "$(jf id)" = "$ID" ]
check "duplicate id: the vendor is not paid again" [ "$(received $VA)" = "$RA" ]
check "duplicate id: still one row" [ "$(rows "$ID")" = 1 ]

transfer "$(uuid)" A1 -3
check "bad amount: 400" [ "$CODE" = 400 ]
call POST "$EBANK/transfer" '{"id":"x"'
check "bad JSON: 400" [ "$CODE" = 400 ]

call GET "$EBANK/balance?account=A1"
check "balance: 10.5 for A1" [ "$CODE" = 200 -a "$(jf balance)" = 10.5 ]

# --- vendor error rate ---------------------------------------------------------------------
call POST "http://127.0.0.1:$VA/admin/mode" '{"error_rate":0.3}'
check "vendor: error_rate 0.3 accepted" [ "$CODE" = 200 ]
n502=0; n200=0; other=0; absent=0; present=0
for i in $(seq 10); do
        ID=$(uuid)
        transfer "$ID" A2 1
        case $CODE in
        200) n200=$((n200 + 1)); [ "$(rows "$ID")" = 1 ] && present=$((present + 1)) ;;
        502) n502=$((n502 + 1)); [ "$(rows "$ID")" = 0 ] && absent=$((absent + 1)) ;;
        *) other=$((other + 1)) ;;
        esac
done
check "error_rate 0.3: exactly 3 of 10 transfers 502 (got $n502 502, $n200 200, $other other)" [ $n502 = 3 -a $n200 = 7 -a $other = 0 ]
check "error_rate 0.3: the 3 failed transfers left no row" [ $absent = 3 ]
check "error_rate 0.3: the 7 good ones are committed" [ $present = 7 ]
call GET "http://127.0.0.1:$VA/metrics"
check "vendor metrics: errors 3, success_rate below 1" [ "$(jf errors)" = 3 -a "$(jf success_rate)" != 1.0 ]
call POST "http://127.0.0.1:$VA/admin/mode" '{"error_rate":0}'

# mode survives a vendor restart
call POST "http://127.0.0.1:$VA/admin/mode" '{"error_rate":0.5}'
kill -TERM $VA_PID
wait $VA_PID
check "vendor: SIGTERM exits 0" [ $? = 0 ]
"$PY" "$SVC/vendor.py" --listen 127.0.0.1:$VA --name vendor-a --srv "$T/srv-a" 2>>"$T/vendor-a.log" &
PIDS+=($!)
VA_PID=$!
wait_http "http://127.0.0.1:$VA/health"
call GET "http://127.0.0.1:$VA/admin/mode"
check "vendor: mode persisted across a restart" [ "$(jf error_rate)" = 0.5 ]
call POST "http://127.0.0.1:$VA/admin/mode" '{"error_rate":0}'

# --- switching vendor ----------------------------------------------------------------------
RA=$(received $VA); RB=$(received $VB)
call POST "$EBANK/admin/vendor" '{"vendor":"vendor-b"}'
check "admin/vendor: switch to vendor-b" [ "$CODE" = 200 -a "$(jf vendor)" = vendor-b ]
call GET "$EBANK/admin/vendor"
check "admin/vendor: GET shows vendor-b and its URL" [ "$(jf vendor)" = vendor-b -a "$(jf url)" = "http://127.0.0.1:$VB" ]
check "admin/vendor: persisted in /srv/ebank/vendor" [ "$(cat "$T/srv-primary/ebank/vendor")" = vendor-b ]
ID=$(uuid)
transfer "$ID"
check "after the switch: transfer 200 through vendor-b" [ "$CODE" = 200 -a "$(jf vendor)" = vendor-b ]
check "after the switch: vendor-b received one more, vendor-a none" [ "$(received $VB)" = $((RB + 1)) -a "$(received $VA)" = "$RA" ]
check "after the switch: the row records vendor-b" [ "$(q "SELECT vendor FROM transactions WHERE id='$ID'")" = vendor-b ]
call POST "$EBANK/admin/vendor" '{"vendor":"vendor-z"}'
check "admin/vendor: unknown vendor 400" [ "$CODE" = 400 ]
echo vendor-a >"$T/srv-primary/ebank/vendor"
call GET "$EBANK/admin/vendor"
check "admin/vendor: the file is read per request (ssh path)" [ "$(jf vendor)" = vendor-a ]

# --- revoked key ---------------------------------------------------------------------------
call POST "http://127.0.0.1:$VA/admin/revoke" '{"key":"lab-key-1"}'
check "vendor: revoke 200" [ "$CODE" = 200 ]
UA=$(unauthorized $VA)
ID=$(uuid)
transfer "$ID"
check "revoked key: transfer 502" [ "$CODE" = 502 ]
check "revoked key: the vendor answered 401" [ "$(unauthorized $VA)" = $((UA + 1)) ]
check "revoked key: no row" [ "$(rows "$ID")" = 0 ]

# --- slow and refusing vendor (vendor-b) -----------------------------------------------------
echo vendor-b >"$T/srv-primary/ebank/vendor"
call POST "http://127.0.0.1:$VB/admin/mode" '{"breach":"slow","slow_ms":6000}'
ID=$(uuid)
s=$(date +%s%N)
transfer "$ID"
el=$((($(date +%s%N) - s) / 1000000))
check "slow vendor (6 s): transfer 502" [ "$CODE" = 502 ]
# the bound is the vendor's 6 s sleep, not a tight timing: the 2 s deadline must cut it short
check "slow vendor: answered before the vendor would have (${el} ms < 5000)" [ $el -lt 5000 ]
check "slow vendor: no row" [ "$(rows "$ID")" = 0 ]
call POST "http://127.0.0.1:$VB/admin/mode" '{"breach":"refuse"}'
ID=$(uuid)
transfer "$ID"
check "refusing vendor: transfer 502, no row" [ "$CODE" = 502 -a "$(rows "$ID")" = 0 ]
call POST "http://127.0.0.1:$VB/admin/mode" '{"breach":"none"}'
ID=$(uuid)
transfer "$ID"
check "breach none: transfers work again" [ "$CODE" = 200 -a "$(rows "$ID")" = 1 ]

# --- workload + report ---------------------------------------------------------------------
"$PY" "$SVC/workload.py" --gateway "$EBANK" --rate 10 --duration 3 --log "$T/wl.log" --account-prefix W \
        >"$T/wl.out" 2>"$T/wl.err"
check "workload: exits 0" [ $? = 0 ]
WL=$(cat "$T/wl.log" | wc -l)
check "workload: about 30 attempts logged (got $WL)" [ "$WL" -ge 20 -a "$WL" -le 31 ]
check "workload: every line has exactly t,id,ok,status,ms,site" "$PY" -c '
import json, sys
for l in open(sys.argv[1]):
    o = json.loads(l)
    assert sorted(o) == ["id", "ms", "ok", "site", "status", "t"], o
    assert isinstance(o["t"], float) and isinstance(o["ok"], bool) and isinstance(o["status"], int)
    assert o["ok"] == (o["status"] == 200) and isinstance(o["ms"], int)
    assert o["site"] in ("primary", None)
' "$T/wl.log"
check "workload: summary line matches the log" "$PY" -c '
import json, sys
s = json.loads(open(sys.argv[1]).read())
lines = [json.loads(l) for l in open(sys.argv[2])]
assert s == {"sent": len(lines), "ok": sum(o["ok"] for o in lines), "failed": sum(not o["ok"] for o in lines)}, s
' "$T/wl.out" "$T/wl.log"
"$PY" "$SVC/workload.py" report --log "$T/wl.log" --ids-out "$T/wl.ids" >"$T/report.json"
check "report: numbers consistent with the log" "$PY" -c '
import json, sys
r = json.load(open(sys.argv[1]))
lines = [json.loads(l) for l in open(sys.argv[2])]
ok = sum(o["ok"] for o in lines)
assert r["sent"] == len(lines) and r["ok"] == ok and r["failed"] == len(lines) - ok, r
assert r["committed_ids_file"] == sys.argv[3] and r["bad_lines"] == 0, r
if r["failed"] == 0:
    assert r["first_failure_t"] is None and r["outage_s"] is None, r
' "$T/report.json" "$T/wl.log" "$T/wl.ids"
q "SELECT id FROM transactions WHERE account LIKE 'W%' ORDER BY id" | LC_ALL=C sort >"$T/db.ids"
LC_ALL=C sort "$T/wl.ids" >"$T/wl.ids.sorted"
check "report: ids-out equals the committed rows exactly ($(wc -l <"$T/db.ids") rows)" \
        cmp -s "$T/db.ids" "$T/wl.ids.sorted"
check "report: ids file not empty" [ -s "$T/wl.ids" ]

# nobody listening: every attempt fails with status 0, and the run still ends on time
DEAD=$(free_port)
"$PY" "$SVC/workload.py" --gateway "http://127.0.0.1:$DEAD" --rate 10 --duration 1 --log "$T/dead.log" >"$T/dead.out"
check "workload against a dead gateway: only failures, status 0, site null" "$PY" -c '
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert lines and all(o["ok"] is False and o["status"] == 0 and o["site"] is None for o in lines), lines
assert json.load(open(sys.argv[2]))["failed"] == len(lines)
' "$T/dead.log" "$T/dead.out"

# SIGTERM ends a run without --duration and prints the summary
"$PY" "$SVC/workload.py" --gateway "$EBANK" --rate 5 --log "$T/term.log" --account-prefix X >"$T/term.out" &
WPID=$!
sleep 1
kill -TERM $WPID
wait $WPID
check "workload: SIGTERM ends it with exit 0 and a summary" \
        "$PY" -c 'import json,sys; s=json.load(open(sys.argv[1])); assert s["sent"] > 0 and s["sent"] == s["ok"] + s["failed"]' "$T/term.out"

# report arithmetic on a made-up log with an outage
cat >"$T/syn.log" <<'EOF'
{"t": 100.0, "id": "a", "ok": true, "status": 200, "ms": 5, "site": "primary"}
{"t": 101.0, "id": "b", "ok": false, "status": 503, "ms": 5, "site": "primary"}
{"t": 100.5, "id": "c", "ok": true, "status": 200, "ms": 5, "site": "primary"}
{"t": 102.0, "id": "d", "ok": false, "status": 0, "ms": 2000, "site": null}
{"t": 104.25, "id": "e", "ok": true, "status": 200, "ms": 5, "site": "backup"}
{"t": 105.0, "id": "f", "ok": false, "status": 502, "ms": 5, "site": "backup"}
{"sent": 6, "ok": 3, "failed": 3}
EOF
"$PY" "$SVC/workload.py" report --log "$T/syn.log" --ids-out "$T/syn.ids" >"$T/syn.json"
check "report (synthetic): outage from the first failure to the next ok" "$PY" -c '
import json, sys
r = json.load(open(sys.argv[1]))
want = {"sent": 6, "ok": 3, "failed": 3, "first_failure_t": 101.0, "first_ok_after_failure_t": 104.25,
        "outage_s": 3.25, "recovered": True, "bad_lines": 1}
assert all(r[k] == v for k, v in want.items()), r
' "$T/syn.json"
check "report (synthetic): ids of the ok attempts" [ "$(tr '\n' ' ' <"$T/syn.ids")" = "a c e " ]
"$PY" "$SVC/workload.py" report --log "$T/syn.log" --since 104.5 --ids-out "$T/syn.ids" >"$T/syn.json"
check "report (synthetic, --since): not recovered" "$PY" -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["sent"] == 1 and r["first_failure_t"] == 105.0 and r["outage_s"] is None and r["recovered"] is False, r
' "$T/syn.json"

# --- database read-only and down -------------------------------------------------------------
pg_stop
touch "$T/pg/standby.signal"
chown postgres: "$T/pg/standby.signal"
pg_start || nok "postgres restarted as a standby"
RB=$(received $VB)
call GET "$EBANK/health"
check "standby DB: /health 503 standby" [ "$CODE" = 503 -a "$(jf status)" = standby ]
ID=$(uuid)
transfer "$ID"
check "standby DB: transfer 503" [ "$CODE" = 503 ]
check "standby DB: the vendor was not paid" [ "$(received $VB)" = "$RB" ]
call GET "$EBANK/balance?account=A1"
BAL=$(q "SELECT sum(amount)::float8 FROM transactions WHERE account = 'A1'")
check "standby DB: balance still readable ($BAL)" [ "$CODE" = 200 -a "$(jf balance)" = "$BAL" ]

pg_stop
call GET "$EBANK/health"
check "DB stopped: /health 503 db-down" [ "$CODE" = 503 -a "$(jf status)" = db-down ]
transfer "$(uuid)"
check "DB stopped: transfer 503" [ "$CODE" = 503 ]
check "DB stopped: the vendor was not paid" [ "$(received $VB)" = "$RB" ]

rm -f "$T/pg/standby.signal"
pg_start || nok "postgres restarted as a primary"
call GET "$EBANK/health"
check "DB back: /health 200 again (fresh connections, nothing stuck)" [ "$CODE" = 200 ]

# --- a DB that accepts TCP and never answers (a hung primary): deadlines, not hangs ----------
SILENT=$(free_port); EB2=$(free_port)
"$PY" -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64)
held = []
while True:
    held.append(s.accept()[0])
' $SILENT 2>/dev/null &
PIDS+=($!)
mkdir -p "$T/srv-hung"
"$PY" "$SVC/ebank.py" --listen 127.0.0.1:$EB2 --site hung --srv "$T/srv-hung" \
        --dsn "host=127.0.0.1 port=$SILENT dbname=ebank user=ebank connect_timeout=2" \
        --vendor-map "vendor-a=http://127.0.0.1:$VA,vendor-b=http://127.0.0.1:$VB" 2>"$T/ebank-hung.log" &
PIDS+=($!)
wait_http "http://127.0.0.1:$EB2/admin/vendor"
s=$(date +%s%N)
call GET "http://127.0.0.1:$EB2/health"
el=$((($(date +%s%N) - s) / 1000000))
check "hung DB: /health 503 db-down, cut off by its deadline (${el} ms, curl allows 10 s)" [ "$CODE" = 503 -a "$(jf status)" = db-down ]
RA=$(received $VA)
call POST "http://127.0.0.1:$EB2/transfer" "{\"id\":\"$(uuid)\",\"account\":\"A1\",\"amount\":1}"
check "hung DB: transfer 503 and the vendor (vendor-a) was not paid" [ "$CODE" = 503 -a "$(received $VA)" = "$RA" ]

# --- shutdown and logs ---------------------------------------------------------------------
kill -TERM $EB_PID
wait $EB_PID
check "ebank: SIGTERM exits 0" [ $? = 0 ]
check "logs never contain the vendor key" bash -c "! grep -q lab-key-1 '$T'/*.log '$T'/wl.err"

echo "# $PASS passed, $FAIL failed"
[ $FAIL = 0 ]
