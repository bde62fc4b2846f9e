#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# droverd with a `cluster:` section (issue 9): two real droverd processes, alpha and beta,
# each on its own private system-type dbus-daemon (the real policy file) and with its own
# journal, against a real 3-member etcd 3.4 on loopback. One leads, the other follows;
# both show it on D-Bus (ClusterRole/Leader/Epoch/Members) and in `droverctl status`; the
# follower refuses acting calls with NotLeader naming the leader and answers read calls;
# the leader runs a playbook. A clean stop of the leader resigns: the other one is elected.
# With every etcd member down the survivor has no quorum: a run is refused (NoQuorum)
# unless `--override-no-quorum`, which runs it and journals a cluster-override event.
# Waits are bounded polls; nothing asserts how long anything took.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib-dbus.sh"
source "$(dirname "$0")/lib-etcd.sh"
DROVERD="$DROVER_BUILD_ROOT/src/daemon/droverd"
NODES=(alpha beta)
declare -A DPID BUSADDR

cleanup_252() {
        local n
        for n in "${!DPID[@]}"; do kill -KILL "${DPID[$n]}" 2>/dev/null || true; wait "${DPID[$n]}" 2>/dev/null || true; done
        etcd_cleanup
        cleanup_users
        lab_cleanup
}
trap cleanup_252 EXIT

etcd_cluster_start "$LAB/etcd"
ok "3-member etcd cluster healthy"
EPS=$(IFS=,; echo "${ETCD_ENDPOINTS[*]}" | sed 's/,/, /g')

cat >"$LAB/true.yaml" <<'YAML'
name: harmless
description: one local step that acts on nothing
kind: custom
steps:
  - name: noop
    local: {argv: [/bin/true]}
YAML

for n in "${NODES[@]}"; do
        cat >"$LAB/$n.yaml" <<YAML
journal: $LAB/$n.db
sites:
  primary: {role: primary}
  backup: {role: backup}
cluster:
  node: $n
  name: t252
  lease_ttl: 2s
  endpoints: [$EPS]
YAML
        "$DROVERCTL" validate --config "$LAB/$n.yaml" >/dev/null || not_ok "$n.yaml is refused"
        # A bus of its own: both droverds own org.drover1, each on its own bus.
        mkdir -p "$LAB/bus-$n"
        # root may monitor (to see the signals); everything else is the real policy.
        write_bus_conf "$LAB/bus-$n.conf" '<policy user="root"><allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Monitoring"/></policy>'

        sed -i "s|unix:path=$LAB/bus/socket|unix:path=$LAB/bus-$n/socket|" "$LAB/bus-$n.conf"
        dbus-daemon --config-file="$LAB/bus-$n.conf" --nofork --print-address=3 3>"$LAB/bus-$n/address" \
                >>"$LAB/bus-$n/log" 2>&1 &
        LAB_PIDS+=($!)
        wait_until 100 test -s "$LAB/bus-$n/address"
        BUSADDR[$n]=$(head -n1 "$LAB/bus-$n/address")
done

start_node() { # NODE
        DBUS_SYSTEM_BUS_ADDRESS="${BUSADDR[$1]}" DROVER_WORKER="$DROVER_WORKER" \
                "$DROVERD" --config "$LAB/$1.yaml" </dev/null >>"$LAB/$1.log" 2>&1 &
        DPID[$1]=$!
        wait_until 200 busctl --address="${BUSADDR[$1]}" status org.drover1 >/dev/null ||
                { echo "# droverd $1 not on its bus:"; sed 's/^/#   /' "$LAB/$1.log"; }
}
prop() { # NODE PROPERTY -> value (strings unquoted)
        busctl --address="${BUSADDR[$1]}" get-property org.drover1 /org/drover1 org.drover1.Manager "$2" 2>/dev/null |
                sed -E 's/^[a-z]+ //; s/"//g'
}
ctl_on() { # NODE droverctl args…
        local n=$1
        shift
        DBUS_SYSTEM_BUS_ADDRESS="${BUSADDR[$n]}" NO_COLOR=1 "$DROVERCTL" "$@"
}
jq_node() { sqlite3 -batch -noheader -cmd ".timeout 10000" "$LAB/$1.db" "$2"; }
agreed() { # one leader, the other follows it in the same epoch
        local a b
        a=$(prop alpha ClusterRole)
        b=$(prop beta ClusterRole)
        if [ "$a" = leader ] && [ "$b" = follower ]; then L=alpha F=beta
        elif [ "$b" = leader ] && [ "$a" = follower ]; then L=beta F=alpha
        else return 1; fi
        [ "$(prop "$F" ClusterLeader)" = "$L" ] && [ "$(prop "$F" ClusterEpoch)" = "$(prop "$L" ClusterEpoch)" ]
}

for n in "${NODES[@]}"; do start_node "$n"; done
L="" F=""
check "one droverd leads, the other follows it in the same epoch (D-Bus ClusterRole/Leader/Epoch)" wait_until 300 agreed
E=$(prop "$L" ClusterEpoch)
echo "# leader $L, follower $F, epoch $E"
check "the epoch is a real etcd revision (> 0)" test "${E:-0}" -gt 0
assert_eq "ClusterNode names the node" "$F" "$(prop "$F" ClusterNode)"
both_members() { [ "$(prop "$F" ClusterMembers)" = "2 alpha beta" ] && [ "$(prop "$L" ClusterMembers)" = "2 alpha beta" ]; }
check "ClusterMembers lists both nodes, on both" wait_until 100 both_members

out=$(ctl_on "$F" status 2>&1) && rc=0 || rc=$?
assert_eq "follower: droverctl status exits 0" 0 "$rc"
assert_contains "follower: status shows its role" "$out" "role     follower"
assert_contains "follower: status names the leader" "$out" "leader   $L"
assert_contains "follower: status shows the epoch" "$out" "epoch    $E"
assert_contains "follower: status lists the members" "$out" "members  alpha, beta"
out=$(ctl_on "$L" --json status 2>&1) && rc=0 || rc=$?
check "leader: status --json has the cluster object" python3 -c '
import json, sys
o = json.loads(sys.argv[1]); c = o["cluster"]
assert c["role"] == "leader" and c["node"] == sys.argv[2] and c["leader"] == sys.argv[2], c
assert c["epoch"] == int(sys.argv[3]) and sorted(c["members"]) == ["alpha", "beta"], c' "$out" "$L" "$E"

# Acting calls on the follower: refused, naming the leader; nothing runs there.
out=$(ctl_on "$F" run "$LAB/true.yaml" 2>&1) && rc=0 || rc=$?
assert_eq "follower: run refused (exit 4)" 4 "$rc"
assert_contains "follower: NotLeader" "$out" "org.drover1.Error.NotLeader"
assert_contains "follower: the refusal names the leader" "$out" "this node follows; the leader is $L (epoch $E)"
out=$(ctl_on "$F" run --override-no-quorum "$LAB/true.yaml" 2>&1) && rc=0 || rc=$?
assert_eq "follower: the no-quorum override does not make a follower act (exit 4)" 4 "$rc"
out=$(ctl_on "$F" maintenance primary on 2>&1) && rc=0 || rc=$?
assert_eq "follower: maintenance refused (exit 4)" 4 "$rc"
assert_contains "follower: maintenance refusal names the leader" "$out" "the leader is $L"
out=$(ctl_on "$F" approve 1 2>&1) && rc=0 || rc=$?
assert_contains "follower: approve refused with NotLeader" "$out" "NotLeader"
assert_eq "follower: no run in its journal" 0 "$(jq_node "$F" "select count(*) from runs")"
out=$(ctl_on "$F" sites 2>&1) && rc=0 || rc=$?
assert_eq "follower: read calls answer (sites exits 0)" 0 "$rc"
out=$(ctl_on "$F" run --dry-run "$LAB/true.yaml" 2>&1) && rc=0 || rc=$?
assert_eq "follower: a dry run (acts on nothing) is answered" 0 "$rc"
check "follower: the refusals are journaled with the caller" test \
        "$(jq_node "$F" "select count(*) from events where kind = 'bus-call' and data_json like '%NotLeader%' and data_json like '%\"user\":\"root\"%'")" -ge 3

# The leader acts.
out=$(ctl_on "$L" run "$LAB/true.yaml" 2>&1) && rc=0 || rc=$?
assert_eq "leader: run succeeds" 0 "$rc"
assert_eq "leader: the run is in its journal" "succeeded" "$(jq_node "$L" "select outcome from runs order by id desc limit 1")"

assert_eq "leader's journal: cluster-elected with its epoch" "$L $E" \
        "$(jq_node "$L" "select json_extract(data_json, '\$.node') || ' ' || json_extract(data_json, '\$.epoch') from events where kind = 'cluster-elected' order by id desc limit 1")"
assert_eq "follower's journal: cluster-following names the leader" "$L" \
        "$(jq_node "$F" "select json_extract(data_json, '\$.leader') from events where kind = 'cluster-following' order by id desc limit 1")"
assert_contains "the leader logs that it leads, with its epoch" "$(cat "$LAB/$L.log")" "leads the cluster (epoch $E)"

# A clean stop of the leader resigns: the follower is elected without waiting for the TTL.
# The follower's bus carries the ClusterEvent signal and PropertiesChanged (a monitor
# sees them: this test's bus lets root monitor).
busctl --address="${BUSADDR[$F]}" monitor --json=short \
        --match "type='signal',path='/org/drover1'" >"$LAB/signals.json" 2>"$LAB/monitor.log" &
MONPID=$!
LAB_PIDS+=("$MONPID")
sleep 0.5 # the monitor's subscription is in place before the change it must see (not a timed assertion)
kill -TERM "${DPID[$L]}"
wait "${DPID[$L]}" && rc=0 || rc=$?
unset "DPID[$L]"
assert_eq "leader $L stops cleanly (exit 0)" 0 "$rc"
assert_eq "$L journaled its step-down (resigned)" "resigned" \
        "$(jq_node "$L" "select json_extract(data_json, '\$.reason') from events where kind = 'cluster-stepped-down' order by id desc limit 1")"
survivor_leads() { [ "$(prop "$F" ClusterRole)" = leader ]; }
check "$F leads after $L resigned" wait_until 300 survivor_leads
E2=$(prop "$F" ClusterEpoch)
check "in a newer epoch ($E2 > $E)" test "${E2:-0}" -gt "$E"
check "$F journaled cluster-elected" test "$(jq_node "$F" "select count(*) from events where kind = 'cluster-elected'")" -ge 1
signal_seen() { grep -q '"member":"ClusterEvent"' "$LAB/signals.json" && grep -q 'cluster-elected' "$LAB/signals.json"; }
check "$F emitted the ClusterEvent signal (cluster-elected)" wait_until 50 signal_seen
check "$F emitted PropertiesChanged with ClusterRole" grep -q 'ClusterRole' "$LAB/signals.json"
kill "$MONPID" 2>/dev/null || true

# etcd lost entirely: no quorum, nothing without an explicit override.
etcd_cleanup
no_quorum() { [ "$(prop "$F" ClusterRole)" = no-quorum ]; }
check "$F: every etcd member down → no-quorum" wait_until 300 no_quorum
check "$F journaled stepped-down" test "$(jq_node "$F" "select count(*) from events where kind = 'cluster-stepped-down'")" -ge 1
before=$(jq_node "$F" "select count(*) from runs")
out=$(ctl_on "$F" run "$LAB/true.yaml" 2>&1) && rc=0 || rc=$?
assert_eq "no quorum: run refused (exit 4)" 4 "$rc"
assert_contains "no quorum: NoQuorum, and how to override" "$out" "org.drover1.Error.NoQuorum"
assert_contains "no quorum: the message says how to override" "$out" "--override-no-quorum"
assert_eq "no quorum: nothing ran" "$before" "$(jq_node "$F" "select count(*) from runs")"
out=$(ctl_on "$F" run --override-no-quorum "$LAB/true.yaml" 2>&1) && rc=0 || rc=$?
assert_eq "no quorum: run --override-no-quorum succeeds" 0 "$rc"
assert_eq "the override run is journaled as a run by root" "root succeeded" \
        "$(jq_node "$F" "select actor || ' ' || outcome from runs order by id desc limit 1")"
assert_eq "and as a cluster-override event naming the actor and the playbook" "root $LAB/true.yaml" \
        "$(jq_node "$F" "select json_extract(data_json, '\$.actor') || ' ' || json_extract(data_json, '\$.playbook') from events where kind = 'cluster-override'")"
out=$(ctl_on "$F" status 2>&1) && rc=0 || rc=$?
assert_contains "no quorum: status says so" "$out" "role     no-quorum"

kill -TERM "${DPID[$F]}"
wait "${DPID[$F]}" && rc=0 || rc=$?
unset "DPID[$F]"
assert_eq "$F stops cleanly with etcd down (exit 0)" 0 "$rc"
lab_done
