#!/usr/bin/env bash
# HTTP steps for real: retries with backoff until a flaky endpoint recovers (each
# attempt journaled), wait_for polling until healthy, expect on JSON fields failing
# cleanly, redirects limited, and TLS verified by default.
source "$(dirname "$0")/lib.sh"
lab_start_http
lab_keys
: >"$LAB/known_hosts"
lab_config
cat >"$LAB/http.yaml" <<'YAML'
name: http-steps
kind: custom
targets:
  api: {endpoint: api}
steps:
  - name: flaky
    http: {target: api, url: "/flaky/a?fail=2"}
    retries: 3
    retry_delay: 100ms
    backoff: 2
  - name: wait-ready
    wait_for:
      http: {target: api, url: "/flaky/b?fail=3"}
      expect: {status: 200}
      interval: 100ms
    timeout: 20s
  - name: redirected
    http: {target: api, url: "/redirect?n=3"}
    expect: {json: {redirected: "true"}}
YAML
out=$("$DROVERCTL" run --config "$LAB/drover.yaml" "$LAB/http.yaml" 2>&1) && rc=0 || rc=$?
echo "$out"
assert_eq "http playbook exits 0" 0 "$rc"
assert_eq "three attempts journaled for the flaky step" "failed failed ok" \
        "$(sql "select group_concat(outcome, ' ') from (select outcome from step_attempts where step_name='flaky' order by attempt)")"
assert_eq "attempt statuses journaled" "503 503 200" \
        "$(sql "select group_concat(http_status, ' ') from (select http_status from step_attempts where step_name='flaky' order by attempt)")"
assert_eq "wait_for passed" ok "$(sql "select outcome from step_attempts where step_name='wait-ready'")"
n_checks=$(python3 -c 'import json,sys,urllib.request; print(json.load(urllib.request.urlopen(sys.argv[1]))["count"])' "http://127.0.0.1:$HTTP_PORT/count/flaky-b")
assert_eq "wait_for checked until the 4th answer was healthy" 4 "$n_checks"

cat >"$LAB/http-bad.yaml" <<'YAML'
name: http-bad
kind: custom
targets:
  api: {endpoint: api}
steps:
  - name: wrong-field
    http: {target: api, url: /json}
    expect: {json: {data.state: broken}}
  - name: not-reached
    http: {target: api, url: /record/never}
YAML
out=$("$DROVERCTL" run --config "$LAB/drover.yaml" "$LAB/http-bad.yaml" 2>&1) && rc=0 || rc=$?
echo "$out"
assert_eq "json expectation mismatch: exit 1" 1 "$rc"
assert_contains "mismatch explained" "$(sql "select error from step_attempts where step_name='wrong-field'")" "data.state"
check "later step not run" test ! -e "$LAB/http/never.1.json"

cat >"$LAB/redir.yaml" <<'YAML'
name: redirect-loop
kind: custom
targets:
  api: {endpoint: api}
steps:
  - name: too-many
    http: {target: api, url: "/redirect?n=20"}
YAML
"$DROVERCTL" run --config "$LAB/drover.yaml" "$LAB/redir.yaml" >/dev/null 2>&1 && rc=0 || rc=$?
assert_eq "redirect chain past the limit fails" 1 "$rc"

# TLS: a real HTTPS server with a self-signed certificate is refused by default and
# accepted with the CA configured.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
        -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
        -keyout "$LAB/tls.key" -out "$LAB/tls.crt" 2>/dev/null
TLS_PORT=$(lab_free_port)
python3 - "$TLS_PORT" "$LAB/tls.crt" "$LAB/tls.key" >/dev/null 2>&1 <<'PY' &
import http.server, ssl, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.send_header("Content-Length", "2"); self.end_headers(); self.wfile.write(b"ok")
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain(sys.argv[2], sys.argv[3])
s.socket = ctx.wrap_socket(s.socket, server_side=True)
s.serve_forever()
PY
LAB_PIDS+=($!)
lab_wait_port 127.0.0.1 "$TLS_PORT"
python3 - "$LAB/drover.yaml" "$TLS_PORT" "$LAB/tls.crt" <<'PY'
import sys
p, port, ca = sys.argv[1:]
s = open(p).read()
s = s.replace("endpoints:\n", "endpoints:\n  tls-noca: {url: https://127.0.0.1:%s}\n  tls-ca: {url: https://127.0.0.1:%s, ca: %s}\n" % (port, port, ca))
open(p, "w").write(s)
PY
for t in noca ca; do
cat >"$LAB/tls-$t.yaml" <<YAML
name: tls-$t
kind: custom
targets:
  s: {endpoint: tls-$t}
steps:
  - name: get
    http: {target: s, url: /}
    expect: {contains: ok}
YAML
done
out=$("$DROVERCTL" run --config "$LAB/drover.yaml" "$LAB/tls-noca.yaml" 2>&1) && rc=0 || rc=$?
assert_eq "self-signed certificate refused by default" 1 "$rc"
out=$("$DROVERCTL" run --config "$LAB/drover.yaml" "$LAB/tls-ca.yaml" 2>&1) && rc=0 || rc=$?
echo "$out"
assert_eq "accepted with its CA configured" 0 "$rc"

# Mutual TLS: a server that demands a client certificate refuses drover without one and
# accepts it with client_cert/client_key configured.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
        -subj /CN=drover-client -keyout "$LAB/client.key" -out "$LAB/client.crt" 2>/dev/null
MTLS_PORT=$(lab_free_port)
python3 - "$MTLS_PORT" "$LAB/tls.crt" "$LAB/tls.key" "$LAB/client.crt" >/dev/null 2>&1 <<'PY' &
import http.server, ssl, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        cn = dict(x[0] for x in self.connection.getpeercert()["subject"])["commonName"]
        body = ("hello " + cn).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain(sys.argv[2], sys.argv[3])
ctx.verify_mode = ssl.CERT_REQUIRED; ctx.load_verify_locations(sys.argv[4])
s.socket = ctx.wrap_socket(s.socket, server_side=True)
s.serve_forever()
PY
LAB_PIDS+=($!)
lab_wait_port 127.0.0.1 "$MTLS_PORT"
python3 - "$LAB/drover.yaml" "$MTLS_PORT" "$LAB" <<'PY'
import sys
p, port, lab = sys.argv[1:]
s = open(p).read()
s = s.replace("endpoints:\n", "endpoints:\n  mtls-nocert: {url: https://127.0.0.1:%s, ca: %s/tls.crt}\n"
              "  mtls-cert: {url: https://127.0.0.1:%s, ca: %s/tls.crt, client_cert: %s/client.crt, client_key: %s/client.key}\n"
              % (port, lab, port, lab, lab, lab))
open(p, "w").write(s)
PY
for t in nocert cert; do
cat >"$LAB/mtls-$t.yaml" <<YAML
name: mtls-$t
kind: custom
targets:
  s: {endpoint: mtls-$t}
steps:
  - name: get
    http: {target: s, url: /}
    expect: {contains: hello drover-client}
YAML
done
out=$("$DROVERCTL" run --config "$LAB/drover.yaml" "$LAB/mtls-nocert.yaml" 2>&1) && rc=0 || rc=$?
assert_eq "mutual TLS without a client certificate fails" 1 "$rc"
out=$("$DROVERCTL" run --config "$LAB/drover.yaml" "$LAB/mtls-cert.yaml" 2>&1) && rc=0 || rc=$?
echo "$out"
assert_eq "mutual TLS with the client certificate succeeds" 0 "$rc"
lab_done
