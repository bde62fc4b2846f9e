#!/usr/bin/env bash
# droverd's notifications on loopback: roles are notified by a JSON POST made by the
# daemon's curl multi on its event loop (no fork). A role whose endpoint has a header
# with ${secrets.NAME} gets it expanded; a role whose endpoint answers 500 is journaled
# "notify-failed … the endpoint refused it"; a role whose endpoint does not answer within
# the endpoint's timeout is journaled "… no answer before the deadline". The secret is
# never in the journal or the log. droverd never has a child process for a
# notification (it starts no run here). After a reload, the kept incident's level settles
# and the site back resolves it.
source "$(dirname "$0")/lib.sh"
DCONTROL="$DROVER_BUILD_ROOT/tests/test-droverd-control"
WEB_PORT=$(lab_free_port)
SINK_PORT=$(lab_free_port)
mkdir -p "$LAB/web" "$LAB/sink"
SECRET="s3cr3t-$RANDOM-$RANDOM"
printf '%s' "$SECRET" >"$LAB/notify-token"
chmod 600 "$LAB/notify-token"
python3 "$DROVER_SOURCE_ROOT/tests/integration/http-server.py" --port "$SINK_PORT" --state-dir "$LAB/sink" \
        >>"$LAB/sink/log" 2>&1 &
LAB_PIDS+=($!)
lab_wait_port 127.0.0.1 "$SINK_PORT"
python3 "$DROVER_SOURCE_ROOT/tests/integration/http-server.py" --port "$WEB_PORT" --state-dir "$LAB/web" \
        >>"$LAB/web/log" 2>&1 &
WEB_PID=$!
lab_wait_port 127.0.0.1 "$WEB_PORT"

cat >"$LAB/drover.yaml" <<YAML
journal: $LAB/drover.db
sites: {primary: {role: primary}, backup: {role: backup}}
endpoints:
  web: {site: primary, url: "http://127.0.0.1:$WEB_PORT"}
  sink:
    url: "http://127.0.0.1:$SINK_PORT"
    headers: {X-Token: "\${secrets.notify_token}"}
  sink-slow: {url: "http://127.0.0.1:$SINK_PORT", timeout: 500ms}
secrets:
  notify_token: {file: $LAB/notify-token}
monitor:
  defaults: {interval: 300ms, timeout: 200ms, jitter: 50ms, fall: 2, rise: 1}
  probes:
    app: {kind: http, endpoint: web, path: /health, critical: true}
levels:
  - {name: primary-down, level: red, condition: site-down, subject: primary}
roles:
  duty: {endpoint: sink, path: /record/duty}
  refuses: {endpoint: sink, path: /status/500}
  sleeps: {endpoint: sink-slow, path: "/slow?ms=3000"}
responses:
  red: {notify: [duty, refuses, sleeps]}
failover: {active_site: primary}
YAML

mkfifo "$LAB/control.fifo"
exec 7<>"$LAB/control.fifo"
DROVER_WORKER="$DROVER_WORKER" "$DCONTROL" --config "$LAB/drover.yaml" <&7 >>"$LAB/control.out" 2>>"$LAB/droverd.log" &
DPID=$!
LAB_PIDS+=("$DPID")
wait_until 100 grep -q "started: watching" "$LAB/droverd.log" || { not_ok "did not start"; cat "$LAB/droverd.log"; exit 1; }
wait_until 100 sql_nonzero "select count(*) from events where kind = 'health-change' and data_json like '%\"to\":\"up\"%'" &&
        ok "app judged up" || not_ok "app never up"

kill "$WEB_PID"
wait "$WEB_PID" 2>/dev/null || true
wait_until 100 sql_nonzero "select count(*) from incidents" && ok "primary down: an incident" || not_ok "no incident"
children() { { ps -o pid= --ppid "$DPID" || true; } | wc -l; }
slept_out() {
        sql_nonzero "select count(*) from incident_log where kind = 'notify-failed' and text like '%role sleeps%'"
}
# Sampled until the slow notification (500 ms deadline) has failed: a sender process
# would be alive all that time.
n_children=0
for _ in $(seq 80); do
        n_children=$((n_children + $(children)))
        slept_out && break
        sleep 0.05
done
assert_eq "droverd has no child process while notifying" 0 "$n_children"

check "the duty role was notified (JSON POST)" wait_until 50 test -f "$LAB/sink/duty.1.json"
check "the POST carries the endpoint's header with the secret expanded, and JSON" python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
h = {k.lower(): v for k, v in r["headers"].items()}
assert r["method"] == "POST", r["method"]
assert h["x-token"] == sys.argv[2], "header"
assert h["content-type"] == "application/json", h["content-type"]
b = json.loads(r["body"])
assert (b["source"], b["role"], b["site"], b["level_name"]) == ("droverd", "duty", "primary", "red"), b
' "$LAB/sink/duty.1.json" "$SECRET"
check "a refused notification is journaled" wait_until 50 sql_nonzero \
        "select count(*) from incident_log where kind = 'notify-failed' and text like '%role refuses%the endpoint refused it%'"
check "a notification without an answer by the deadline is journaled" wait_until 80 sql_nonzero \
        "select count(*) from incident_log where kind = 'notify-failed' and text like '%role sleeps%no answer before the deadline%'"
assert_eq "the duty notification did not fail" 0 \
        "$(sql "select count(*) from incident_log where kind = 'notify-failed' and text like '%role duty%'")"
check "the incident says who was notified" sql_nonzero \
        "select count(*) from incident_log where kind = 'notify' and text like 'notified duty, refuses, sleeps%'"

# A reload keeps the incident open and settles it: the site back, the lower level is held
# for the settle window ((fall + 2) × (interval + timeout) + 1 s here), then applied.
answers_more_than() { test "$(grep -c '"cmd"' "$LAB/control.out")" -gt "$1"; }
n=$(grep -c '"cmd"' "$LAB/control.out" 2>/dev/null || true)
echo "reload alice" >&7
wait_until 200 answers_more_than "${n:-0}"
assert_contains "reload: 0" "$(grep '"cmd"' "$LAB/control.out" | tail -1)" '"r":0'
python3 "$DROVER_SOURCE_ROOT/tests/integration/http-server.py" --port "$WEB_PORT" --state-dir "$LAB/web" \
        >>"$LAB/web/log" 2>&1 &
WEB_PID=$!
LAB_PIDS+=("$WEB_PID")
lab_wait_port 127.0.0.1 "$WEB_PORT"
check "after the settle window the incident is resolved" wait_until 150 sql_nonzero \
        "select count(*) from incidents where state = 'resolved'"

kill -TERM "$DPID"
wait "$DPID" && rc=0 || rc=$?
assert_eq "SIGTERM: exit 0" 0 "$rc"
check "the secret is not in the journal" eval '! sqlite3 "$LAB/drover.db" .dump | grep -qF "$SECRET"'
check "the secret is not in the log" eval '! grep -qF "$SECRET" "$LAB/droverd.log"'
lab_done
