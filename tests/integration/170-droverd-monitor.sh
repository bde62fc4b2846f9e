#!/usr/bin/env bash
# droverd's monitor on loopback (no lab): an HTTP target that goes away and comes back,
# a notify sink, a local "switchover" playbook. Through test-droverd-control (the Manager
# with a command channel): manual override → the automatic playbook is only proposed;
# maintenance → nothing at all (no incident, decision "silenced"); neither → the playbook
# runs automatically and the other site becomes the active one; the old primary failing
# again then changes nothing ("not the active site"); a reload keeps that incident open,
# nobody verifies it and its verify deadline is missed (escalated, the role notified
# again). Roles are notified by JSON POST.
source "$(dirname "$0")/lib.sh"
DCONTROL="$DROVER_BUILD_ROOT/tests/test-droverd-control"
WEB_PORT=$(lab_free_port)
SINK_PORT=$(lab_free_port)
mkdir -p "$LAB/web" "$LAB/sink" "$LAB/playbooks"
start_web() {
        python3 "$DROVER_SOURCE_ROOT/tests/integration/http-server.py" --port "$WEB_PORT" --state-dir "$LAB/web" \
                >>"$LAB/web/log" 2>&1 &
        WEB_PID=$!
        lab_wait_port 127.0.0.1 "$WEB_PORT"
}
stop_web() {
        kill "$WEB_PID"
        wait "$WEB_PID" 2>/dev/null || true
}
python3 "$DROVER_SOURCE_ROOT/tests/integration/http-server.py" --port "$SINK_PORT" --state-dir "$LAB/sink" \
        >>"$LAB/sink/log" 2>&1 &
LAB_PIDS+=($!)
lab_wait_port 127.0.0.1 "$SINK_PORT"
start_web

cat >"$LAB/playbooks/switch.yaml" <<YAML
name: switch
kind: switchover
params:
  reason: {type: string, required: true}
steps:
  - name: switch
    local: {argv: [/bin/sh, -c, "echo switched >> $LAB/trace"]}
YAML
cat >"$LAB/drover.yaml" <<YAML
journal: $LAB/drover.db
playbook_dir: $LAB/playbooks
sites: {primary: {role: primary}, backup: {role: backup}}
endpoints:
  web: {site: primary, url: "http://127.0.0.1:$WEB_PORT"}
  sink: {url: "http://127.0.0.1:$SINK_PORT"}
monitor:
  defaults: {interval: 300ms, timeout: 200ms, jitter: 50ms, fall: 2, rise: 1}
  probes:
    app: {kind: http, endpoint: web, path: /health, critical: true}
levels:
  - {name: primary-down, level: red, condition: site-down, subject: primary}
roles:
  duty: {endpoint: sink, path: /record/duty}
responses:
  red: {notify: [duty], playbook: switch, params: {reason: "automatic: primary down"}, auto: true}
failover: {cooldown: 30m, active_site: primary}
YAML
# Nobody verifies the incidents here: the last one lives long enough to miss this.
echo "deadlines: {verify: 3s}" >>"$LAB/drover.yaml"

answers_more_than() { test "$(grep -c '"cmd"' "$LAB/control.out")" -gt "$1"; }
dctl() {
        local n
        n=$(grep -c '"cmd"' "$LAB/control.out" 2>/dev/null || true)
        echo "$*" >&7
        wait_until 200 answers_more_than "${n:-0}"
        grep '"cmd"' "$LAB/control.out" | tail -1
}
r_of() { python3 -c "import json,sys; print(json.loads(sys.argv[1])['r'])" "$1"; }
app_health_changes() { # TO: how many times app was judged TO
        sql "select count(*) from events where kind = 'health-change' and data_json like '%\"to\":\"$1\"%'"
}
sink_count() {
        curl -s -m 2 "http://127.0.0.1:$SINK_PORT/count/duty" | python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])'
}
sink_has() { test "$(sink_count)" -ge "$1"; }
# sink_has_escalated ID: a notification of incident ID in state escalated (the body says which,
# so a notification still in flight from before does not count).
sink_has_escalated() {
        python3 - "$1" "$LAB"/sink/duty.*.json <<'PY'
import json, sys
want = int(sys.argv[1])
for f in sys.argv[2:]:
    try:
        b = json.loads(json.load(open(f))["body"])
    except (OSError, ValueError, KeyError):
        continue
    if b.get("incident") == want and b.get("state") == "escalated":
        sys.exit(0)
sys.exit(1)
PY
}
changes_more_than() { test "$(app_health_changes "$1")" -gt "$2"; }

mkfifo "$LAB/control.fifo"
exec 7<>"$LAB/control.fifo"
DROVER_WORKER="$DROVER_WORKER" "$DCONTROL" --config "$LAB/drover.yaml" <&7 >>"$LAB/control.out" 2>>"$LAB/droverd.log" &
DPID=$!
LAB_PIDS+=("$DPID")
wait_until 100 grep -q "started: watching" "$LAB/droverd.log" || { not_ok "did not start"; cat "$LAB/droverd.log"; exit 1; }
wait_until 100 sql_nonzero "select count(*) from events where kind = 'health-change' and data_json like '%\"to\":\"up\"%'" &&
        ok "app judged up" || not_ok "app never up"

# --- manual override: proposed, not run ------------------------------------------------------
assert_eq "override on: 0" 0 "$(r_of "$(dctl override primary on alice)")"
assert_eq "override on again: -EALREADY" -114 "$(r_of "$(dctl override primary on alice)")"
assert_eq "override of an unknown site: -ENOENT" -2 "$(r_of "$(dctl override nowhere on alice)")"
stop_web
wait_until 100 sql_nonzero "select count(*) from incident_log where kind = 'playbook-proposed'" &&
        ok "override: the playbook is proposed" || not_ok "override: no proposal"
assert_contains "override: the decision says why" "$(sql "select text from incident_log where kind = 'decision'")" \
        "manual override"
assert_eq "override: nothing ran" 0 "$(sql "select count(*) from runs")"
assert_eq "override: incident at level 1" "1|primary" "$(sql "select level, site from incidents")"
check "the duty role was notified (JSON POST)" wait_until 50 sink_has 1
check "the notification is JSON naming the incident, its site and level" python3 -c '
import json, sys
b = json.loads(json.load(open(sys.argv[1]))["body"])
assert (b["incident"], b["site"], b["level"], b["level_name"], b["role"]) == (1, "primary", 1, "red", "duty"), b
' "$LAB/sink/duty.1.json"
start_web
wait_until 100 sql_nonzero "select count(*) from incidents where state = 'resolved'" &&
        ok "the target back: the incident is resolved" || not_ok "incident not resolved"
assert_eq "override off: 0" 0 "$(r_of "$(dctl override primary off alice)")"

# --- maintenance: silenced ---------------------------------------------------------------------
assert_eq "maintenance on: 0" 0 "$(r_of "$(dctl maintenance primary on bob)")"
assert_contains "sites: primary in maintenance" "$(dctl sites)" '"maintenance":true,"name":"primary"'
downs=$(app_health_changes down)
stop_web
wait_until 100 changes_more_than down "$downs" && ok "maintenance: the target is judged down" ||
        not_ok "maintenance: target not judged down"
wait_until 100 sql_nonzero "select count(*) from events where kind = 'decision' and message like '%maintenance%'" &&
        ok "maintenance: the decision is journaled as silenced" || not_ok "maintenance: no silenced decision"
assert_eq "maintenance: no new incident" 1 "$(sql "select count(*) from incidents")"
assert_eq "maintenance: nothing ran" 0 "$(sql "select count(*) from runs")"
ups=$(app_health_changes up)
start_web
wait_until 100 changes_more_than up "$ups" || not_ok "app not up again"
assert_eq "maintenance off: 0" 0 "$(r_of "$(dctl maintenance primary off bob)")"

# --- neither: automatic ------------------------------------------------------------------------
stop_web
wait_until 200 sql_nonzero "select count(*) from runs where outcome = 'succeeded'" &&
        ok "the playbook ran automatically" || { not_ok "no automatic run"; tail -20 "$LAB/droverd.log"; }
assert_eq "…as policy, trigger auto, for incident 2" "switch|auto|policy" "$(sql "select playbook, trigger, actor from runs")"
assert_eq "…linked to the incident" "$(sql "select id from runs")" \
        "$(sql "select run_id from incident_log where incident_id = 2 and kind = 'playbook-started'")"
assert_eq "the playbook did its work once" switched "$(cat "$LAB/trace")"
wait_until 50 sql_nonzero "select count(*) from events where kind = 'active-site-changed'"
assert_contains "backup is now the active site" "$(dctl sites)" '"active":true,"health":"unknown","level":0,"maintenance":false,"name":"backup"'
start_web
wait_until 100 sql_nonzero "select count(*) from incidents where id = 2 and state = 'resolved'" ||
        not_ok "incident 2 not resolved"

# --- the old primary fails again: not the active site, nothing runs ---------------------------
stop_web
wait_until 100 sql_nonzero "select count(*) from incidents where id = 3" && ok "a new incident for the old primary" ||
        not_ok "no incident 3"
wait_until 50 sql_nonzero "select count(*) from incident_log where incident_id = 3 and kind = 'decision'"
assert_contains "no switchover for a site that is not active" \
        "$(sql "select text from incident_log where incident_id = 3 and kind = 'decision'")" "not the active site"
assert_eq "still one run" 1 "$(sql "select count(*) from runs")"

# --- a reload keeps the open incident, which then misses its verify deadline ---------------------
assert_eq "reload: 0" 0 "$(r_of "$(dctl reload alice)")"
check "reload journaled with its actor" sql_nonzero "select count(*) from events where kind = 'config-reload-requested' and message like '%alice%'"
wait_until 100 sql_nonzero "select count(*) from incident_log where incident_id = 3 and kind = 'deadline-missed'" &&
        ok "the verify deadline of the kept incident was missed (journaled)" || not_ok "no deadline-missed"
check "…and the incident went to the command centre (escalated)" \
        wait_until 50 sql_nonzero "select count(*) from incidents where id = 3 and state = 'escalated'"
check "…and the role was notified again, of the escalated incident" wait_until 50 sink_has_escalated 3
assert_eq "still one run after the reload" 1 "$(sql "select count(*) from runs")"
kill -TERM "$DPID"
wait "$DPID" && rc=0 || rc=$?
assert_eq "SIGTERM: exit 0" 0 "$rc"
start_web
kill "$WEB_PID"
lab_done
