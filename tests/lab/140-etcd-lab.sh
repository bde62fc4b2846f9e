#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tests/lab/140-etcd-lab.sh — the lab's cluster foundations: the 3-member etcd (primary,
# backup, witness) comes up healthy; `lab.sh etcd cut primary` takes primary off etcd
# (its member loses the majority, its namespace reaches no other member) while primary
# still reaches the sites, and `heal` undoes it; a member stopped and started rejoins;
# the gateway refuses a fencing token lower than the highest it has seen, over HTTP
# (X-Drover-Fencing-Token → 409) and over SSH (DROVER_FENCING_TOKEN → exit 3), accepts
# no token at all (single-node drover), and its action log counts what it received.
source "$(dirname "$0")/lab-test-lib.sh"
lab_fresh

etcd_in() { # NS ENDPOINT CMD... : etcdctl from inside a namespace
        local ns=$1 ep=$2
        shift 2
        ip netns exec "$ns" env ETCDCTL_API=3 etcdctl --endpoints "$ep" --dial-timeout=1s --command-timeout=2s "$@"
}
E_PRI=http://10.213.0.11:2379
E_BAK=http://10.213.0.12:2379
E_WIT=http://10.213.0.13:2379

out=$("$LABSH" etcd up 2>&1) && rc=0 || rc=$?
echo "$out" | sed 's/^/# /'
assert_eq "lab.sh etcd up" 0 "$rc"
members=$(etcd_in witness "$E_WIT" member list 2>&1 | awk -F', ' '{print $3}' | sort | tr '\n' ' ')
assert_eq "three members: backup, primary, witness" "backup primary witness " "$members"
check "a write through primary's member is read back through witness's" \
        sh -c "ip netns exec primary env ETCDCTL_API=3 etcdctl --endpoints $E_PRI put /lab/k v1 >/dev/null &&
               [ \"\$(ip netns exec witness env ETCDCTL_API=3 etcdctl --endpoints $E_WIT get --print-value-only /lab/k)\" = v1 ]"

cfg=$("$LABSH" etcd config backup 2>&1) && rc=0 || rc=$?
assert_eq "lab.sh etcd config backup" "0 /run/drover-lab/drover/cluster-backup.yaml" "$rc $cfg"
assert_contains "its cluster: names the node and the three members" "$(cat "$cfg" 2>/dev/null)" \
        "node: backup"
check "and droverctl validate accepts it" "$DROVERCTL" validate --config "$cfg"

# cut primary from etcd: no quorum there, the others keep theirs, the sites stay reachable
"$LABSH" etcd cut primary >/dev/null
check "cut: primary's own member cannot serve a linearizable read" \
        sh -c "! ip netns exec primary env ETCDCTL_API=3 etcdctl --endpoints $E_PRI --command-timeout=2s get /lab/k >/dev/null 2>&1"
check "cut: primary cannot reach the backup's member" \
        sh -c "! ip netns exec primary env ETCDCTL_API=3 etcdctl --endpoints $E_BAK --dial-timeout=1s --command-timeout=2s get /lab/k >/dev/null 2>&1"
check "cut: backup and witness still have a quorum" \
        sh -c "ip netns exec backup env ETCDCTL_API=3 etcdctl --endpoints $E_BAK,$E_WIT put /lab/k v2 >/dev/null"
check "cut: primary still reaches the gateway" \
        ip netns exec primary timeout 3 bash -c 'exec 3<>/dev/tcp/10.213.0.10/80'
check "cut: primary still reaches the backup site's sshd" \
        ip netns exec primary timeout 3 bash -c 'exec 3<>/dev/tcp/10.213.0.12/22'
assert_contains "status shows the cut" "$("$LABSH" etcd status 2>&1)" "cut from etcd"
"$LABSH" etcd heal primary >/dev/null
healed() { [ "$(ip netns exec primary env ETCDCTL_API=3 etcdctl --endpoints $E_PRI --command-timeout=2s get --print-value-only /lab/k 2>/dev/null)" = v2 ]; }
check "healed: primary's member serves the value written meanwhile" wait_until 100 healed

# one member stopped and started again rejoins
"$LABSH" etcd stop witness >/dev/null
check "witness stopped: primary and backup keep a quorum" \
        sh -c "ip netns exec primary env ETCDCTL_API=3 etcdctl --endpoints $E_PRI put /lab/k v3 >/dev/null"
"$LABSH" etcd start witness >/dev/null
rejoined() { [ "$(etcd_in witness "$E_WIT" get --print-value-only /lab/k 2>/dev/null)" = v3 ]; }
check "witness restarted: it rejoins and has the write" wait_until 100 rejoined

# fencing at the resource
post_active() { # SITE [TOKEN] -> HTTP status
        local h=()
        [ -n "${2:-}" ] && h=(-H "X-Drover-Fencing-Token: $2")
        curl -s -o "$LAB/post.out" -w '%{http_code}' -m 15 -X POST "${h[@]}" -H 'Content-Type: application/json' \
                -d "{\"site\":\"$1\"}" http://10.213.0.10:8081/active
}
# the gateway's /srv is /var/lib/drover-lab/srv/gateway
actions() { grep -c " $1 " /var/lib/drover-lab/srv/gateway/gateway/actions.log 2>/dev/null || true; }
assert_eq "HTTP switch with token 7 accepted" 200 "$(post_active primary 7)"
assert_eq "HTTP switch with token 5 (lower) refused with 409" 409 "$(post_active backup 5)"
assert_contains "the refusal says why" "$(cat "$LAB/post.out")" "lower than 7"
assert_eq "the refused switch did not act" primary "$(gateway_active)"
assert_eq "HTTP switch without a token (single-node drover) accepted" 200 "$(post_active primary)"
assert_eq "HTTP switch with the same token 7 accepted" 200 "$(post_active primary 7)"
out=$(ssh -q -i /run/drover-lab/drover/id_ed25519 -o UserKnownHostsFile=/run/drover-lab/drover/known_hosts \
        -o StrictHostKeyChecking=yes -o BatchMode=yes -o SendEnv=DROVER_FENCING_TOKEN root@10.213.0.10 \
        'gateway-active backup' 2>&1 </dev/null) && rc=0 || rc=$?
assert_eq "SSH switch without a token accepted" 0 "$rc"
out=$(DROVER_FENCING_TOKEN=6 ssh -q -i /run/drover-lab/drover/id_ed25519 -o UserKnownHostsFile=/run/drover-lab/drover/known_hosts \
        -o StrictHostKeyChecking=yes -o BatchMode=yes -o SendEnv=DROVER_FENCING_TOKEN root@10.213.0.10 \
        'gateway-active primary' 2>&1 </dev/null) && rc=0 || rc=$?
assert_eq "SSH switch with token 6 (lower than 7) refused, exit 3" 3 "$rc"
assert_contains "SSH refusal says why" "$out" "fencing token 6 is lower than 7"
assert_eq "the refused SSH switch did not act" backup "$(gateway_active)"
out=$(DROVER_FENCING_TOKEN=9 ssh -q -i /run/drover-lab/drover/id_ed25519 -o UserKnownHostsFile=/run/drover-lab/drover/known_hosts \
        -o StrictHostKeyChecking=yes -o BatchMode=yes -o SendEnv=DROVER_FENCING_TOKEN root@10.213.0.10 \
        'gateway-active primary' 2>&1 </dev/null) && rc=0 || rc=$?
assert_eq "SSH switch with token 9 (higher) accepted" 0 "$rc"
assert_eq "HTTP switch with token 7 now refused (9 was seen)" 409 "$(post_active backup 7)"
assert_eq "the gateway received 5 accepted switches" 5 "$(actions switch)"
assert_eq "and refused 3" 3 "$(actions refused)"

out=$("$LABSH" down 2>&1) && rc=0 || rc=$?
assert_eq "lab.sh down with etcd running" 0 "$rc"
left=$(ip netns list | awk '{print $1}' | grep -xE 'primary|backup|witness' || true)
assert_eq "no namespace left" "" "$left"
check "no lab etcd left" sh -c '! pgrep -f -- "--data-dir /var/lib/drover-la[b]/etcd" >/dev/null'
lab_done
