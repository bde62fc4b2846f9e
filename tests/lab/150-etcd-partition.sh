#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tests/lab/150-etcd-partition.sh — the election and fencing (src/cluster) across the lab's
# real network: one election participant (tests/test-etcd-election, the module droverd
# will run) inside each of primary, backup and witness against the lab's 3-member etcd.
# The leader's node is cut from etcd only (`lab.sh etcd cut`): it steps down by itself
# (NO_QUORUM), one of the two others leads in a newer epoch, the cut node's fenced write
# does not go through, and at the gateway the new leader's switch (its epoch as
# X-Drover-Fencing-Token) is accepted while the deposed leader's late switch with the old
# token is refused: exactly one node acted. Healed, the old leader follows the new one.
source "$(dirname "$0")/lab-test-lib.sh"
DRIVER="$DROVER_BUILD_ROOT/tests/test-etcd-election"
PREFIX=/drover/lab150
TTL=3
NODES=(primary backup witness)
declare -A PID
lab_fresh
"$LABSH" etcd up >/dev/null
EPS=$("$LABSH" etcd endpoints | tr ',' ' ')

cleanup_150() {
        local n
        for n in "${!PID[@]}"; do kill -KILL "${PID[$n]}" 2>/dev/null || true; wait "${PID[$n]}" 2>/dev/null || true; done
        lab_e2e_cleanup
}
trap cleanup_150 EXIT

for n in "${NODES[@]}"; do
        # shellcheck disable=SC2086
        ip netns exec "$n" "$DRIVER" elect "$n" "$PREFIX" "$TTL" "$LAB/$n.status" $EPS 2>>"$LAB/$n.log" &
        PID[$n]=$!
done
role_of() { cut -d' ' -f1 "$LAB/$1.status" 2>/dev/null || echo none; }
leader_seen_by() { cut -d' ' -f2 "$LAB/$1.status" 2>/dev/null || echo none; }
epoch_of() { cut -d' ' -f3 "$LAB/$1.status" 2>/dev/null || echo 0; }
agreed() { # NODES...: one leader, the others follow it in its epoch
        local n l="" c=0
        for n in "$@"; do [ "$(role_of "$n")" = leader ] && { l=$n; c=$((c + 1)); }; done
        [ "$c" = 1 ] || return 1
        for n in "$@"; do
                [ "$(leader_seen_by "$n")" = "$l" ] && [ "$(epoch_of "$n")" = "$(epoch_of "$l")" ] || return 1
        done
}
leader_of() { local n; for n in "$@"; do [ "$(role_of "$n")" = leader ] && echo "$n"; done; return 0; }

check "one leader among primary, backup, witness" wait_until 300 agreed "${NODES[@]}"
L1=$(leader_of "${NODES[@]}")
E1=$(epoch_of "$L1")
echo "# leader $L1 epoch $E1"
REST=()
for n in "${NODES[@]}"; do [ "$n" != "$L1" ] && REST+=("$n"); done

"$LABSH" etcd cut "$L1" >/dev/null
stepped_down() { [ "$(role_of "$L1")" = no-quorum ]; }
check "$L1 cut from etcd steps down by itself (NO_QUORUM)" wait_until 300 stepped_down
newer() { agreed "${REST[@]}" && [ "$(epoch_of "${REST[0]}")" -gt "$E1" ]; }
check "one of ${REST[*]} leads in a newer epoch" wait_until 300 newer
L2=$(leader_of "${REST[@]}")
E2=$(epoch_of "$L2")
echo "# new leader $L2 epoch $E2"
assert_eq "$L1 still does not lead" no-quorum "$(role_of "$L1")"
# No overlap: the old leader had stopped before the new one was elected (one clock: one kernel).
T_DOWN=$(awk '/ leader \(/ { led = 1 } led && / no-quorum \(/ { print $1; exit }' "$LAB/$L1.log")
T_UP=$(awk '/ leader \(/ { print $1; exit }' "$LAB/$L2.log")
echo "# $L1 stepped down at $T_DOWN, $L2 elected at $T_UP"
check "$L1 stepped down before $L2 was elected (never two leaders)" test -n "$T_DOWN" -a -n "$T_UP" -a "${T_DOWN:-0}" -lt "${T_UP:-0}"

# shellcheck disable=SC2086
out=$(ip netns exec "$L1" "$DRIVER" fence "$L1" "$E1" "$PREFIX" $EPS 2>&1) && rc=0 || rc=$?
check "the cut node's fenced step write does not go through (exit $rc)" test "$rc" != 0
# shellcheck disable=SC2086
out=$(ip netns exec "$L2" "$DRIVER" fence "$L2" "$E2" "$PREFIX" $EPS 2>&1) && rc=0 || rc=$?
assert_eq "the new leader's fenced step write goes through" "0 written" "$rc $out"

switch() { # NS SITE TOKEN -> HTTP status, from inside NS (the cut node still reaches the gateway)
        ip netns exec "$1" curl -s -o "$LAB/switch.out" -w '%{http_code}' -m 15 -X POST \
                -H "X-Drover-Fencing-Token: $3" -H 'Content-Type: application/json' -d "{\"site\":\"$2\"}" \
                http://10.213.0.10:8081/active
}
actions() { grep -c " $1 " /var/lib/drover-lab/srv/gateway/gateway/actions.log 2>/dev/null || true; }
assert_eq "the new leader's switch (token $E2) is accepted by the gateway" 200 "$(switch "$L2" backup "$E2")"
assert_eq "the deposed leader's late switch (token $E1) is refused by the gateway" 409 "$(switch "$L1" primary "$E1")"
assert_eq "the gateway stays where the new leader put it" backup "$(gateway_active)"
assert_eq "exactly one switch acted" 1 "$(actions switch)"
assert_eq "and one was refused" 1 "$(actions refused)"

"$LABSH" etcd heal "$L1" >/dev/null
follows() { [ "$(role_of "$L1")" = follower ] && [ "$(leader_seen_by "$L1")" = "$L2" ]; }
check "healed, $L1 follows $L2" wait_until 300 follows
# The healed member rejoins with the raft terms it ran up alone, which can force a raft
# election; etcd then renews every lease, but the leader's keepalives may miss their
# deadline meanwhile and, safely, it steps down. Either way: one leader, in the highest epoch.
one_leader() {
        local n l=() e
        for n in "${NODES[@]}"; do [ "$(role_of "$n")" = leader ] && l+=("$n"); done
        [ ${#l[@]} = 1 ] || return 1
        e=$(epoch_of "${l[0]}")
        for n in "${NODES[@]}"; do
                [ "$n" = "${l[0]}" ] && continue
                [ "$(role_of "$n")" = follower ] && [ "$(leader_seen_by "$n")" = "${l[0]}" ] || return 1
        done
        [ "$e" -ge "$E2" ]
}
check "after the heal exactly one node leads, in epoch $E2 or newer, the others follow it" wait_until 300 one_leader
if [ "$(role_of "$L2")" = leader ] && [ "$(epoch_of "$L2")" = "$E2" ]; then
        echo "# $L2 still leads in epoch $E2"
else
        echo "# the raft election after the heal cost $L2 its lease: a newer epoch leads"
fi
lab_done
