#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tools/demo.sh — drover's main job on its built-in lab. Installs what is missing, builds,
# brings up the two-site e-bank lab (drills/lab: network namespaces, PostgreSQL primary and
# synchronous standby, HAProxy gateway, payment vendors), keeps customers making transfers,
# takes the primary site down, and runs the site-switchover playbook with live progress.
# Then it prints the RTO and RPO it measured and leaves the lab up to explore.
# Run as root on Debian 12. Tear down with: drills/lab/lab.sh down
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

if [ -z "${DROVER_BUILD_ROOT:-}" ]; then
        tools/install-deps.sh
        [ -f build/build.ninja ] || meson setup build >/dev/null
        ninja -C build >/dev/null
        export DROVER_BUILD_ROOT="$here/build"
fi
LABSH=drills/lab/lab.sh
CFG=/run/drover-lab/drover/drover.yaml
ctl() { "$DROVER_BUILD_ROOT/src/ctl/droverctl" --config "$CFG" "$@"; }
hr() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

hr "1. The lab: primary and backup sites, gateway, two payment vendors"
"$LABSH" down >/dev/null 2>&1 || true
"$LABSH" up

hr "2. Customers: 20 transfers a second through the gateway"
"$LABSH" workload start 20
sleep 3
"$LABSH" workload report | tail -1

hr "3. Disaster: the primary site goes off the network"
t0=$(date +%s.%N)
"$LABSH" fault site-down primary

hr "4. droverctl run site-switchover"
ctl run site-switchover -p reason="demo: primary site lost" -p fault_at="$t0" && rc=0 || rc=$?
sleep 2
"$LABSH" workload stop >/dev/null

hr "5. What it cost"
report=$("$LABSH" workload report --since "$t0" | tail -1)
ids=/run/drover-lab/workload/workload.log.ok-ids
ip netns exec backup runuser -u postgres -- psql -X -A -t -q -h /run/drover-lab/backup/pg -d ebank \
        -c "select id from transactions" | LC_ALL=C sort >/tmp/drover-demo-db-ids
lost=$(LC_ALL=C comm -23 <(LC_ALL=C sort "$ids") /tmp/drover-demo-db-ids | wc -l)
acked=$(wc -l <"$ids")
rm -f /tmp/drover-demo-db-ids
jdb=/run/drover-lab/drover/drover.db
run=$(sqlite3 "$jdb" "select max(id) from runs")
rto=$(sqlite3 "$jdb" "select trim(stdout_text, char(10)) from step_attempts where run_id=$run and step_name='measured-rto'")
lag=$(sqlite3 "$jdb" "select trim(stdout_text, char(10)) from step_attempts where run_id=$run and step_name='standby-lag'")
python3 - "$report" "$rto" "$lost" "$acked" "$lag" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
rto, lost, acked, lag = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
print(f"  RTO  {float(rto):.2f} s   fault -> first successful customer transfer, journaled by the run (objective 5 s)")
if r.get("outage_s") is not None:
    print(f"       {r['outage_s']:.2f} s   the same, as the customers' workload saw it")
print(f"  RPO  {'0 s' if lost == 0 else 'NOT ZERO'}     {acked - lost} of {acked} acknowledged transfers are in the backup database"
      f" ({lost} lost); standby lag at the switch: {lag} bytes")
print(f"  customers: {r['sent']} transfers since the fault, {r['ok']} ok, {r['failed']} failed during the outage")
PY

hr "6. Explore"
cat <<EOT
  The lab is still up, now serving from the backup site.
    drills/lab/lab.sh status                          # sites, databases, gateway, vendors
    $DROVER_BUILD_ROOT/src/ctl/droverctl --config $CFG show $run     # the run, step by step
    $DROVER_BUILD_ROOT/src/ctl/droverctl --config $CFG runs
    echo yes | $DROVER_BUILD_ROOT/src/ctl/droverctl --config $CFG run site-failback -p reason=back
    drills/lab/lab.sh fault clear                     # bring the primary site's network back
  Tear it all down:
    drills/lab/lab.sh down
EOT
exit $rc
