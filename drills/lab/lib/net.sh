# SPDX-License-Identifier: LGPL-2.1-or-later
# drills/lab/lib/net.sh — the lab's network: guard route, bridge drlab0, one
# namespace per site with a veth (eth0 inside, v-<ns> on the bridge). Sourced by
# lab.sh. Does not start any process (see services.sh, sshd.sh, pg.sh).

ns_exists() { [ -e "/run/netns/$1" ]; }

net_up() {
        local ns
        # Guard route first: whatever happens to the bridge, lab traffic never
        # follows the default route off the machine.
        ip route replace unreachable "$GUARD_NET" metric 4000
        if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
                ip link add "$BRIDGE" type bridge
        fi
        ip addr replace "$BRIDGE_ADDR/24" dev "$BRIDGE"
        ip link set "$BRIDGE" up
        for ns in "${NSES[@]}"; do
                if ! ns_exists "$ns"; then
                        ip netns add "$ns"
                fi
                ip -n "$ns" link set lo up
                if ! ip -n "$ns" link show eth0 >/dev/null 2>&1; then
                        ip link del "v-$ns" 2>/dev/null || true
                        ip link add "v-$ns" type veth peer name eth0 netns "$ns"
                fi
                ip link set "v-$ns" master "$BRIDGE"
                ip link set "v-$ns" up
                ip -n "$ns" addr replace "${NS_ADDR[$ns]}/24" dev eth0
                ip -n "$ns" link set eth0 up
        done
}

net_down() {
        local ns
        for ns in "${NSES[@]}"; do
                if ns_exists "$ns"; then
                        ip netns del "$ns" 2>/dev/null || msg "could not delete namespace $ns"
                fi
                ip link del "v-$ns" 2>/dev/null || true
        done
        nft delete table inet drlab-root 2>/dev/null || true
        if ip link show "$BRIDGE" >/dev/null 2>&1; then
                ip link set "$BRIDGE" down 2>/dev/null || true
                ip link del "$BRIDGE" || msg "could not delete bridge $BRIDGE"
        fi
        # The guard route goes last, once nothing can route lab traffic any more.
        ip route del unreachable "$GUARD_NET" metric 4000 2>/dev/null || true
}

# Names of our namespaces that exist right now.
net_existing_ns() {
        local ns
        for ns in "${NSES[@]}"; do
                ns_exists "$ns" && echo "$ns"
        done
        return 0
}
