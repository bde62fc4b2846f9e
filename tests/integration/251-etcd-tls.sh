#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The cluster's etcd client over TLS with client certificates (drover.yaml cluster.tls:
# ca, cert, key) against a real etcd 3.4 that requires them: a node configured with
# them is elected; one whose CA does not match never gets past NO_QUORUM; one without
# a client certificate neither (etcd refuses the handshake).
source "$(dirname "$0")/lib.sh"
DRIVER="$DROVER_BUILD_ROOT/tests/test-etcd-election"
T=$LAB/tls
mkdir -p "$T"

cert() { # NAME CA_NAME EXT
        openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$T/$1.key" \
                -subj "/CN=$1" -out "$T/$1.csr" 2>/dev/null
        openssl x509 -req -in "$T/$1.csr" -CA "$T/$2.crt" -CAkey "$T/$2.key" -CAcreateserial -days 2 \
                -extfile <(printf '%s\n' "$3") -out "$T/$1.crt" 2>/dev/null
}
for ca in ca other-ca; do
        openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$T/$ca.key" \
                -subj "/CN=$ca" -days 2 -out "$T/$ca.crt" 2>/dev/null
done
# clientAuth too: etcd's JSON gateway dials etcd's own gRPC with the server certificate.
cert server ca "subjectAltName=IP:127.0.0.1
extendedKeyUsage=serverAuth,clientAuth"
cert client ca "extendedKeyUsage=clientAuth"
ok "test CA, server and client certificates"

CPORT=$(lab_free_port)
PPORT=$(lab_free_port)
etcd --name t1 --data-dir "$LAB/etcd" \
        --listen-client-urls "https://127.0.0.1:$CPORT" --advertise-client-urls "https://127.0.0.1:$CPORT" \
        --listen-peer-urls "http://127.0.0.1:$PPORT" --initial-advertise-peer-urls "http://127.0.0.1:$PPORT" \
        --initial-cluster "t1=http://127.0.0.1:$PPORT" \
        --cert-file "$T/server.crt" --key-file "$T/server.key" --trusted-ca-file "$T/ca.crt" --client-cert-auth \
        </dev/null >"$LAB/etcd.log" 2>&1 &
LAB_PIDS+=($!)
lab_wait_port 127.0.0.1 "$CPORT"

yaml() { # NODE TLS_BLOCK
        cat >"$LAB/$1.yaml" <<YAML
cluster:
  node: $1
  name: tls
  lease_ttl: 2s
  endpoints: [https://127.0.0.1:$CPORT]
  tls:
$2
YAML
}
yaml good "    ca: $T/ca.crt
    cert: $T/client.crt
    key: $T/client.key"
yaml wrongca "    ca: $T/other-ca.crt
    cert: $T/client.crt
    key: $T/client.key"
yaml nocert "    ca: $T/ca.crt"
declare -A PID
for n in good wrongca nocert; do
        "$DRIVER" elect-config "$LAB/$n.yaml" "$LAB/$n.status" 2>>"$LAB/$n.log" &
        PID[$n]=$!
        LAB_PIDS+=($!)
done
role_of() { cut -d' ' -f1 "$LAB/$1.status" 2>/dev/null || echo none; }
is_leader() { [ "$(role_of good)" = leader ]; }
check "with the CA and a client certificate: elected over TLS" wait_until 600 is_leader
failed_once() { grep -q "etcd not reached" "$LAB/$1.log"; }
check "with another CA: etcd not reached" wait_until 600 failed_once wrongca
check "without a client certificate: etcd not reached" wait_until 600 failed_once nocert
assert_eq "with another CA: NO_QUORUM" no-quorum "$(role_of wrongca)"
assert_eq "without a client certificate: NO_QUORUM" no-quorum "$(role_of nocert)"
assert_eq "still one leader: good" leader "$(role_of good)"
for n in good wrongca nocert; do
        kill -TERM "${PID[$n]}"
        wait "${PID[$n]}" && rc=0 || rc=$?
        assert_eq "$n stops cleanly on SIGTERM" 0 "$rc"
done
lab_done
