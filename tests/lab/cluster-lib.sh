# SPDX-License-Identifier: LGPL-2.1-or-later
# tests/lab/cluster-lib.sh — for the lab tests of droverd in a cluster (tests/lab/16x-*.sh):
# a droverd per etcd node (`lab.sh droverd up`: primary, backup, witness, each in its
# namespace with its own journal and bus), and helpers to ask each one: its D-Bus
# properties, droverctl on its bus, SQL on its journal, the nodes that lead. Source it after
# lab-test-lib.sh.
NODES=(primary backup witness)

cluster_up() {
        "$LABSH" etcd up >"$LAB/etcd-up.log" 2>&1 || { cat "$LAB/etcd-up.log"; echo "not ok - etcd did not come up"; exit 1; }
        "$LABSH" droverd up >"$LAB/droverd-up.log" 2>&1 ||
                { cat "$LAB/droverd-up.log"; echo "not ok - the droverds did not come up"; exit 1; }
}
node_bus() { echo "unix:path=/run/drover-lab/$1/bus.sock"; }
prop() { # NODE PROPERTY
        busctl --address="$(node_bus "$1")" get-property org.drover1 /org/drover1 org.drover1.Manager "$2" 2>/dev/null |
                sed -E 's/^[a-z]+ //; s/"//g'
}
ctl_on() { # NODE droverctl args…
        local n=$1
        shift
        DBUS_SYSTEM_BUS_ADDRESS="$(node_bus "$n")" NO_COLOR=1 "$DROVERCTL" "$@"
}
nsql() { sqlite3 -batch -noheader -cmd ".timeout 10000" "/run/drover-lab/drover/$1.db" "$2" 2>/dev/null; }
# leaders NODES…: the nodes whose droverd says it leads.
leaders() { local n; for n in "$@"; do [ "$(prop "$n" ClusterRole)" = leader ] && echo "$n"; done; return 0; }
# agreed NODES…: exactly one leads, the others follow it in its epoch.
agreed() {
        local n l
        l=$(leaders "$@")
        [ -n "$l" ] && [ "$(echo "$l" | wc -l)" = 1 ] || return 1
        for n in "$@"; do
                [ "$n" = "$l" ] && continue
                [ "$(prop "$n" ClusterRole)" = follower ] && [ "$(prop "$n" ClusterLeader)" = "$l" ] &&
                        [ "$(prop "$n" ClusterEpoch)" = "$(prop "$l" ClusterEpoch)" ] || return 1
        done
}
node_leads() { [ "$(prop "$1" ClusterRole)" = leader ]; }
# cluster_up_led_by NODE: etcd, then NODE's droverd alone until it leads, then the others'
# droverds, until they follow it.
cluster_up_led_by() {
        local first=$1 n rest=()
        for n in "${NODES[@]}"; do [ "$n" != "$first" ] && rest+=("$n"); done
        "$LABSH" etcd up >/dev/null
        "$LABSH" droverd up "$first" >/dev/null
        check "the $first node's droverd leads" wait_until 300 node_leads "$first"
        "$LABSH" droverd up "${rest[@]}" >/dev/null
        check "${rest[0]} and ${rest[1]} follow it" wait_until 300 agreed "${NODES[@]}"
}
# sql_nonzero_node NODE SQL: the query on NODE's journal answers a number other than 0.
sql_nonzero_node() { local v; v=$(nsql "$1" "$2"); [ -n "$v" ] && [ "$v" != 0 ]; }
total_runs() { local n c=0 v; for n in "${NODES[@]}"; do v=$(nsql "$n" "select count(*) from runs"); c=$((c + ${v:-0})); done; echo $c; }
cluster_show_logs() { local n; for n in "${NODES[@]}"; do echo "# --- $n"; tail -15 "/run/drover-lab/$n/droverd.log" | sed 's/^/#   /'; done; }
