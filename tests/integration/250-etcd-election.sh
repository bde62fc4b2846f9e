#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Leader election, fencing and the shared run record (src/cluster) against a real
# 3-member etcd 3.4 on loopback, with real participant processes
# (tests/integration/test-etcd-election.c): exactly one leader among three; kill -9 of
# the leader → another leads (who, not how fast); the deposed leader's fenced write is
# refused; the run record round-trips with secrets masked; every etcd member down →
# every participant NO_QUORUM. No timed assertions: waits are bounded, never measured.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib-etcd.sh"
DRIVER="$DROVER_BUILD_ROOT/tests/test-etcd-election"
PREFIX=/drover/test230
TTL=2
declare -A PART

cleanup_230() {
        local n
        for n in "${!PART[@]}"; do kill -KILL "${PART[$n]}" 2>/dev/null || true; wait "${PART[$n]}" 2>/dev/null || true; done
        etcd_cleanup
        lab_cleanup
}
trap cleanup_230 EXIT

etcd_cluster_start "$LAB/etcd"
ok "3-member etcd cluster healthy"

start_part() { # NODE
        "$DRIVER" elect "$1" "$PREFIX" "$TTL" "$LAB/$1.status" "${ETCD_ENDPOINTS[@]}" 2>>"$LAB/$1.log" &
        PART[$1]=$!
}
role_of() { cut -d' ' -f1 "$LAB/$1.status" 2>/dev/null || echo none; }
leader_seen_by() { cut -d' ' -f2 "$LAB/$1.status" 2>/dev/null || echo none; }
epoch_seen_by() { cut -d' ' -f3 "$LAB/$1.status" 2>/dev/null || echo 0; }
count_role() { # ROLE NODES...
        local r=$1 n c=0; shift
        for n in "$@"; do [ "$(role_of "$n")" = "$r" ] && c=$((c + 1)); done
        echo $c
}
one_leader_agreed() { # NODES...: one leader, the others follow it in the same epoch
        local n leader="" epoch=""
        [ "$(count_role leader "$@")" = 1 ] || return 1
        [ "$(count_role follower "$@")" = $(($# - 1)) ] || return 1
        for n in "$@"; do [ "$(role_of "$n")" = leader ] && leader=$n && epoch=$(epoch_seen_by "$n"); done
        for n in "$@"; do
                [ "$(leader_seen_by "$n")" = "$leader" ] || return 1
                [ "$(epoch_seen_by "$n")" = "$epoch" ] || return 1
        done
}
leader_of() { local n; for n in "$@"; do [ "$(role_of "$n")" = leader ] && echo "$n"; done; return 0; }

for n in alpha beta gamma; do start_part "$n"; done
check "one leader among alpha, beta, gamma, followed by the two others" wait_until 600 one_leader_agreed alpha beta gamma
L1=$(leader_of alpha beta gamma)
E1=$(epoch_seen_by "$L1")
echo "# leader $L1 epoch $E1"
assert_eq "etcd's leader key names the leader" "$L1" \
        "$(ETCDCTL_API=3 etcdctl --endpoints "${ETCD_ENDPOINTS[0]}" get --print-value-only "$PREFIX/leader")"
members=$(ETCDCTL_API=3 etcdctl --endpoints "${ETCD_ENDPOINTS[0]}" get --keys-only --prefix "$PREFIX/members/" | grep -c . || true)
assert_eq "three presence keys" 3 "$members"

# A participant whose first endpoint accepts and never answers (a hung etcd member):
# each call gives up on it at its deadline and moves on to the next endpoint.
lab_start_blackhole
"$DRIVER" elect delta "$PREFIX" "$TTL" "$LAB/delta.status" "http://127.0.0.1:$BLACKHOLE_PORT" "${ETCD_ENDPOINTS[@]}" \
        2>>"$LAB/delta.log" &
PART[delta]=$!
delta_follows() { [ "$(role_of delta)" = follower ] && [ "$(leader_seen_by delta)" = "$L1" ]; }
check "a participant whose first etcd endpoint hangs follows $L1 through the next endpoint" wait_until 600 delta_follows
kill -TERM "${PART[delta]}"; wait "${PART[delta]}" 2>/dev/null || true; unset "PART[delta]"

out=$("$DRIVER" fence "$L1" "$E1" "$PREFIX" "${ETCD_ENDPOINTS[@]}") && rc=0 || rc=$?
assert_eq "the leader's fenced write is accepted" "0 written" "$rc $out"
FOLLOWER=$(for n in alpha beta gamma; do [ "$n" != "$L1" ] && echo "$n"; done | head -1; true)
out=$("$DRIVER" fence "$FOLLOWER" "$E1" "$PREFIX" "${ETCD_ENDPOINTS[@]}") && rc=0 || rc=$?
assert_eq "a follower's fenced write with the leader's epoch is refused" 3 "$rc"
assert_contains "the refusal names the leader" "$out" "leader is $L1 epoch $E1"

out=$("$DRIVER" runrec "$L1" "$E1" "$PREFIX" "${ETCD_ENDPOINTS[@]}" 2>&1) && rc=0 || rc=$?
echo "$out" | sed 's/^/# /'
assert_eq "run record round trip" 0 "$rc"
assert_contains "the unfinished run is listed" "$out" "unfinished $E1-$L1-9"
assert_contains "steps come back in order, with their node" "$out" "step 0.1 fence-old-primary ok by $L1"
assert_contains "the in-flight step comes back as running" "$out" "step 1.1 promote-db running by $L1"
assert_contains "a non-idempotent in-flight step asks a commander" "$out" "resume ask at 1 attempt 2"
assert_contains "params are stored with the secret masked" "$out" '"password":"***"'
assert_not_contains "the secret's value is not in etcd" \
        "$(ETCDCTL_API=3 etcdctl --endpoints "${ETCD_ENDPOINTS[0]}" get --prefix "$PREFIX/")" "s3cr3t-value"
assert_contains "a finished run is no longer unfinished" "$out" "unfinished after finish: 0"
ETCDCTL_API=3 etcdctl --endpoints "${ETCD_ENDPOINTS[0]}" put "$PREFIX/active/7-old-3" "" >/dev/null
out=$("$DRIVER" list-async "$PREFIX" "${ETCD_ENDPOINTS[@]}") && rc=0 || rc=$?
assert_eq "unfinished runs listed on an sd-event loop" "0 7-old-3" "$rc $out"

# kill -9 of the leader: one of the two others leads, in a newer epoch.
kill -KILL "${PART[$L1]}"
wait "${PART[$L1]}" 2>/dev/null || true
unset "PART[$L1]"
REST=()
for n in alpha beta gamma; do [ "$n" != "$L1" ] && REST+=("$n"); done
new_leader() { one_leader_agreed "${REST[@]}" && [ "$(epoch_seen_by "${REST[0]}")" -gt "$E1" ]; }
check "after kill -9 of $L1, one of ${REST[*]} leads in a newer epoch" wait_until 600 new_leader
L2=$(leader_of "${REST[@]}")
E2=$(epoch_seen_by "$L2")
echo "# new leader $L2 epoch $E2"
check "the new leader is not the killed one" test "$L2" != "$L1"

out=$("$DRIVER" fence "$L1" "$E1" "$PREFIX" "${ETCD_ENDPOINTS[@]}") && rc=0 || rc=$?
assert_eq "the deposed leader's late fenced write is refused" 3 "$rc"
assert_contains "the refusal names the new leader" "$out" "leader is $L2 epoch $E2"
out=$("$DRIVER" fence "$L2" "$E2" "$PREFIX" "${ETCD_ENDPOINTS[@]}") && rc=0 || rc=$?
assert_eq "the new leader's fenced write is accepted" 0 "$rc"

# A graceful stop resigns (revokes the lease): the last one leads.
kill -TERM "${PART[$L2]}"
wait "${PART[$L2]}" 2>/dev/null || true
unset "PART[$L2]"
LAST=$(for n in "${REST[@]}"; do [ "$n" != "$L2" ] && echo "$n"; done; true)
last_leads() { [ "$(role_of "$LAST")" = leader ] && [ "$(epoch_seen_by "$LAST")" -gt "$E2" ]; }
check "after $L2 resigns, $LAST leads" wait_until 600 last_leads

# All etcd members down: nobody may act. The killed node comes back as droverd will run it,
# from a drover.yaml's cluster: section.
cat >"$LAB/$L1.yaml" <<YAML
cluster:
  node: $L1
  name: test230
  lease_ttl: ${TTL}s
  endpoints: [$(IFS=,; echo "${ETCD_ENDPOINTS[*]}")]
YAML
"$DRIVER" elect-config "$LAB/$L1.yaml" "$LAB/$L1.status" 2>>"$LAB/$L1.log" &
PART[$L1]=$!
check "$L1 rejoins as a follower of $LAST" wait_until 600 one_leader_agreed "$L1" "$LAST"
etcd_cleanup
no_quorum_everywhere() { [ "$(count_role no-quorum "$L1" "$LAST")" = 2 ]; }
check "etcd down: every participant is NO_QUORUM" wait_until 600 no_quorum_everywhere
out=$("$DRIVER" fence "$LAST" "$E2" "$PREFIX" "${ETCD_ENDPOINTS[@]}") && rc=0 || rc=$?
assert_eq "etcd down: a fenced write fails (not acted)" 4 "$rc"
for n in "${!PART[@]}"; do
        kill -TERM "${PART[$n]}"
        wait "${PART[$n]}" && rc=0 || rc=$?
        assert_eq "$n stops cleanly on SIGTERM with etcd down (resign gives up at its deadline)" 0 "$rc"
        unset "PART[$n]"
done
lab_done
