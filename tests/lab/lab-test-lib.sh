# SPDX-License-Identifier: LGPL-2.1-or-later
# tests/lab/lab-test-lib.sh — for the end-to-end tests on the two-site lab: brings a fresh
# lab up (drills/lab/lab.sh), tears it down when the test exits, and adds helpers on top of
# tests/integration/lib.sh (assertions, $DROVERCTL). Source it; do not run it.
source "$DROVER_SOURCE_ROOT/tests/integration/lib.sh"
# The lab's names are global to the machine (namespaces, the bridge, /run/drover-lab): one
# user at a time, across build trees too. Held until this test exits.
exec 8>/run/drover-lab.lock
flock 8
LABSH="$DROVER_SOURCE_ROOT/drills/lab/lab.sh"
CFG=/run/drover-lab/drover/drover.yaml
JDB=/run/drover-lab/drover/drover.db

lab_e2e_cleanup() {
        "$LABSH" workload stop >/dev/null 2>&1 || true
        if [ "${LAB_KEEP:-0}" != 1 ]; then
                "$LABSH" down >/dev/null 2>&1 || true
        fi
        lab_cleanup
}
trap lab_e2e_cleanup EXIT

lab_fresh() {
        "$LABSH" down >/dev/null 2>&1 || true
        "$LABSH" up >"$LAB/up.log" 2>&1 || { cat "$LAB/up.log"; echo "not ok - lab did not come up"; exit 1; }
}

ctl() { "$DROVERCTL" --config "$CFG" "$@"; }
jsql() { sqlite3 -batch -noheader -cmd ".timeout 10000" "$JDB" "$1"; }

# pg SITE SQL: run SQL on that site's own cluster.
pg() {
        ip netns exec "$1" runuser -u postgres -- psql -X -A -t -q -h "/run/drover-lab/$1/pg" -d ebank -c "$2"
}

# lost_transfers SITE: how many transfers the workload saw acknowledged (HTTP 200) are not
# in SITE's database. Must be 0: an acknowledged transfer is a committed one.
lost_transfers() {
        local ids=/run/drover-lab/workload/workload.log.ok-ids
        "$LABSH" workload report >/dev/null
        pg "$1" "select id from transactions" | LC_ALL=C sort >"$LAB/db-ids"
        LC_ALL=C sort "$ids" >"$LAB/ok-ids"
        LC_ALL=C comm -23 "$LAB/ok-ids" "$LAB/db-ids" | wc -l
}

acked_transfers() {
        "$LABSH" workload report >/dev/null
        wc -l </run/drover-lab/workload/workload.log.ok-ids
}

# lab_ssh ADDR CMD: run CMD in a lab namespace the way drover does (key, strict host keys).
lab_ssh() {
        ssh -q -i /run/drover-lab/drover/id_ed25519 -o UserKnownHostsFile=/run/drover-lab/drover/known_hosts \
                -o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=3 "root@$1" "$2"
}

gateway_active() { lab_ssh 10.213.0.10 gateway-active 2>&1 || true; }

# transfer ID: one customer transfer through the gateway; prints the JSON answer.
transfer() {
        python3 - "$1" <<'PY'
import json, sys, urllib.request, urllib.error
req = urllib.request.Request("http://10.213.0.10/transfer", headers={"Content-Type": "application/json"},
                             data=json.dumps({"id": sys.argv[1], "account": "A9", "amount": 1}).encode())
try:
    print(urllib.request.urlopen(req, timeout=3).read().decode())
except urllib.error.HTTPError as e:
    print(json.dumps({"http_status": e.code}))
PY
}

# report_field FIELD [--since T]: a field of the workload report.
report_field() {
        local f=$1
        shift
        "$LABSH" workload report "$@" | tail -1 | python3 -c "import json,sys; print(json.load(sys.stdin)[sys.argv[1]])" "$f"
}
