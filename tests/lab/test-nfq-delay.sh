#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# test-nfq-delay.sh — drills/lab/nfq-delay for real, in two throwaway network namespaces
# (drl2-a 10.213.99.1 <veth> drl2-b 10.213.99.2; no routes anywhere else, away from the
# lab's 10.213.0.0/24). An iptables NFQUEUE rule in drl2-b queues TCP to port 7777 to queue 5; the
# client in drl2-a measures TCP connect and echo round trips. Root only; deletes the
# namespaces (and with them the veth pair and the rule) on exit.
#
#   tests/lab/test-nfq-delay.sh [PATH/TO/nfq-delay]      (default: $NFQ_DELAY, then build*/drills/lab/nfq-delay)
#
# No ping on these machines (iputils-ping is not installed), hence TCP; the assertions
# are lower bounds (the delay must be there) plus "answered well before a huge delay"
# where a packet must NOT be held — never a tight upper bound on a shared machine.
set -u

REPO=$(cd "$(dirname "$0")/../.." && pwd)
PY=/usr/bin/python3
NA=drl2-a
NB=drl2-b
PORT=7777
QNUM=5

BIN=${1:-${NFQ_DELAY:-}}
if [ -z "$BIN" ]; then
        for b in "$REPO"/build*/drills/lab/nfq-delay; do
                [ -x "$b" ] && { BIN=$b; break; }
        done
fi
[ "$(id -u)" = 0 ] || { echo "Bail out! needs root (namespaces, nft)"; exit 1; }
[ -n "$BIN" ] && [ -x "$BIN" ] || { echo "Bail out! nfq-delay not built (pass its path)"; exit 1; }

PASS=0
FAIL=0
ok() { PASS=$((PASS + 1)); echo "ok - $*"; }
nok() { FAIL=$((FAIL + 1)); echo "not ok - $*"; }
num() { [[ $1 =~ ^[0-9]+$ ]]; }
ge() { num "$1" && [ "$1" -ge "$2" ]; }   # ge VALUE MIN: a measurement, and at least MIN
lt() { num "$1" && [ "$1" -lt "$2" ]; }
check() {
        local d=$1
        shift
        if "$@"; then ok "$d"; else nok "$d"; fi
}

T=$(mktemp -d /tmp/drover-nfq.XXXXXX)
PIDS=()
cleanup() {
        local p
        for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
        for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
        ip netns del $NA 2>/dev/null
        ip netns del $NB 2>/dev/null
        rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# leftovers of an interrupted earlier run are ours by name
ip netns del $NA 2>/dev/null
ip netns del $NB 2>/dev/null
ip netns add $NA && ip netns add $NB || { echo "Bail out! cannot create namespaces"; exit 1; }
ip link add drl2-va netns $NA type veth peer name drl2-vb netns $NB || { echo "Bail out! veth"; exit 1; }
ip -n $NA addr add 10.213.99.1/24 dev drl2-va
ip -n $NB addr add 10.213.99.2/24 dev drl2-vb
for ns in $NA $NB; do ip -n $ns link set lo up; done
ip -n $NA link set drl2-va up
ip -n $NB link set drl2-vb up

# echo server in drl2-b
cat >"$T/server.py" <<'EOF'
import socket, socketserver, sys
class H(socketserver.BaseRequestHandler):
    def handle(self):
        while True:
            b = self.request.recv(64)
            if not b:
                return
            self.request.sendall(b)
socketserver.ThreadingTCPServer.allow_reuse_address = True
socketserver.ThreadingTCPServer.daemon_threads = True
socketserver.ThreadingTCPServer(("10.213.99.2", int(sys.argv[1])), H).serve_forever()
EOF
# client in drl2-a: prints "connect_ms echo_ms" (echo = median of 3 round trips), or "fail"
cat >"$T/client.py" <<'EOF'
import socket, sys, time
port, timeout, connect_only = int(sys.argv[1]), float(sys.argv[2]), len(sys.argv) > 3
try:
    t = time.monotonic()
    s = socket.create_connection(("10.213.99.2", port), timeout=timeout)
    c = (time.monotonic() - t) * 1000
    if connect_only:
        print("%.0f 0" % c)
        sys.exit(0)
    rtts = []
    for _ in range(3):
        t = time.monotonic()
        s.sendall(b"x")
        if s.recv(1) != b"x":
            raise OSError("bad echo")
        rtts.append((time.monotonic() - t) * 1000)
    print("%.0f %.0f" % (c, sorted(rtts)[1]))
except OSError as e:
    print("fail", e)
EOF
ip netns exec $NB "$PY" "$T/server.py" $PORT >"$T/server.log" 2>&1 &
PIDS+=($!)
client() { ip netns exec $NA "$PY" "$T/client.py" $PORT "$@"; }
for i in $(seq 50); do
        case $(client 1 c) in fail*) sleep 0.1 ;; *) break ;; esac
done

read -r C0 E0 <<<"$(client 5)"
check "baseline: echo works without the rule (connect ${C0} ms, echo ${E0} ms)" [ "$C0" != fail ]

# The native nft "queue" expression is missing from this kernel (no nft_queue, no module
# loading); iptables' NFQUEUE target (xt, via nft_compat) works.
ip netns exec $NB iptables -A INPUT -p tcp --dport $PORT -j NFQUEUE --queue-num $QNUM ||
        { echo "Bail out! cannot add the NFQUEUE rule"; exit 1; }

# 1. 300 ms: every client->server packet is held, so connect (SYN) and each echo gain >= 300 ms
ip netns exec $NB "$BIN" --queue $QNUM --delay-ms 300 2>"$T/nfq1.log" &
NFQ=$!
PIDS+=($NFQ)
sleep 0.5
read -r C1 E1 <<<"$(client 10)"
check "delay 300: connect succeeds through the queue" [ "$C1" != fail ]
check "delay 300: connect took >= 300 ms (${C1} ms)" ge "$C1" 300
check "delay 300: echo round trip >= 300 ms (${E1} ms)" ge "$E1" 300
kill -TERM $NFQ
wait $NFQ
check "delay 300: SIGTERM exits 0" [ $? = 0 ]
check "delay 300: reports the packets it delayed" grep -Eq 'exiting, [1-9][0-9]* delayed' "$T/nfq1.log"

# 2. --max-held 0: nothing is held even with a 20 s delay
ip netns exec $NB "$BIN" --queue $QNUM --delay-ms 20000 --max-held 0 2>"$T/nfq2.log" &
NFQ=$!
PIDS+=($NFQ)
sleep 0.5
read -r C2 E2 <<<"$(client 10)"
check "max-held 0: packets pass at once despite a 20 s delay (connect ${C2} ms, echo ${E2} ms)" \
        eval 'lt "$C2" 10000 && lt "$E2" 10000'
kill -TERM $NFQ
wait $NFQ
check "max-held 0: exits 0" [ $? = 0 ]
check "max-held 0: everything counted as accepted at once" grep -Eq ' 0 delayed, [1-9][0-9]* accepted at once' "$T/nfq2.log"

# 3. SIGTERM releases held packets: a SYN held for 30 s gets through when we stop the program
ip netns exec $NB "$BIN" --queue $QNUM --delay-ms 30000 2>"$T/nfq3.log" &
NFQ=$!
PIDS+=($NFQ)
sleep 0.5
client 20 c >"$T/c3.out" &
CL=$!
sleep 1
kill -TERM $NFQ
wait $NFQ
check "held packets: SIGTERM exits 0" [ $? = 0 ]
wait $CL
read -r C3 _ <"$T/c3.out"
check "held packets: released on exit, connect completed well before 30 s (${C3} ms)" \
        lt "$C3" 20000

# 4. bad arguments
check "rejects --queue 70000" bash -c "! '$BIN' --queue 70000 --delay-ms 1 2>/dev/null"
check "requires --delay-ms" bash -c "! '$BIN' --queue 1 2>/dev/null"

echo "# $PASS passed, $FAIL failed"
[ $FAIL = 0 ]
