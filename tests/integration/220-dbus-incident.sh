#!/usr/bin/env bash
# An incident over droverd's D-Bus API, on a PRIVATE system-type dbus-daemon that enforces
# the real policy file (units/org.drover1.conf), droverctl run as real users (runuser):
# an HTTP target on loopback goes away, the `levels` rule makes the site red, an incident
# opens at level 1 and the `responses` playbook (auto: false) is only PROPOSED. A reader
# sees the incident and is refused its approval; a commander approves it
# (`approve incident ID`), which starts the proposed run (trigger "approved", the
# commander as actor) and it succeeds; a commander's ack (exit 0 although the run already
# met the verify milestone; a second ack is "nothing to do") and note land in the
# incident's log. A bus monitor (root) records every signal; droverd's LevelChanged,
# IncidentChanged and ApprovalRequested are asserted with their arguments.
# Waits are bounded polls; nothing asserts how long anything took.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib-dbus.sh"
DROVERD="$DROVER_BUILD_ROOT/src/daemon/droverd"

add_user drvi-reader drover
add_user drvi-cmd1 drover,drover-commanders
add_user drvi-cmd2 drover,drover-commanders

# --- the target (goes away and comes back), a notify sink, the proposed playbook ----------
WEB_PORT=$(lab_free_port)
SINK_PORT=$(lab_free_port)
mkdir -p "$LAB/web" "$LAB/sink" "$LAB/playbooks"
start_web() {
        python3 "$DROVER_SOURCE_ROOT/tests/integration/http-server.py" --port "$WEB_PORT" --state-dir "$LAB/web" \
                >>"$LAB/web/log" 2>&1 &
        WEB_PID=$!
        LAB_PIDS+=("$WEB_PID")
        lab_wait_port 127.0.0.1 "$WEB_PORT"
}
stop_web() {
        kill "$WEB_PID" 2>/dev/null || true
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
  red: {notify: [duty], playbook: switch, params: {reason: "proposed: primary down"}, auto: false}
failover: {cooldown: 30m, active_site: primary}
YAML
chmod 755 "$LAB" "$LAB/playbooks" # the test users reach the bus socket through it
chmod 644 "$LAB"/drover.yaml "$LAB"/playbooks/*.yaml

# --- a private system-type bus with the real policy; the signal recorder (busctl monitor
# as root) may become a monitor --------------------------------------------------------------
write_bus_conf "$LAB/bus/strict.conf" '<policy user="root"><allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Monitoring"/></policy>'
start_bus "$LAB/bus/strict.conf" || exit 1


# --- the signal recorder: a bus monitor as root, before droverd takes its name ------------
# (matching on the sender's unique name is impossible before droverd exists, so record every
# signal on the bus and keep droverd's afterwards).
busctl --address="$BUS" monitor --match="type='signal'" >"$LAB/signals.out" 2>"$LAB/signals.err" &
MON_PID=$!
LAB_PIDS+=("$MON_PID")
monitor_ready() { # a marker signal, sent until the monitor has recorded one
        busctl --address="$BUS" emit /org/drover1/test org.drover1.Test MonitorReady >/dev/null 2>&1 || true
        grep -q "Member=MonitorReady" "$LAB/signals.out"
}
wait_until 100 monitor_ready && ok "a bus monitor records the signals" ||
        { not_ok "the bus monitor did not start"; sed 's/^/# monitor: /' "$LAB/signals.err"; }

# --- droverd ------------------------------------------------------------------------------
DROVER_WORKER="$DROVER_WORKER" "$DROVERD" --config "$LAB/drover.yaml" >>"$LAB/droverd.log" 2>&1 &
DPID=$!
LAB_PIDS+=("$DPID")
on_bus() { busctl --address="$BUS" status org.drover1 >/dev/null 2>&1; }
if wait_until 200 on_bus; then
        ok "droverd owns org.drover1 on the private system bus"
else
        not_ok "droverd is not on the bus"
        sed 's/^/# droverd: /' "$LAB/droverd.log"
        exit 1
fi
wait_until 100 sql_nonzero "select count(*) from events where kind = 'health-change' and data_json like '%\"to\":\"up\"%'" &&
        ok "the target is judged up" || not_ok "the target never judged up"

# --- the target goes away: an incident at level 1, the playbook proposed -----------------
stop_web
wait_until 200 sql_nonzero "select count(*) from incident_log where kind = 'playbook-proposed'" &&
        ok "the playbook is proposed for the incident" || { not_ok "no proposal"; tail -20 "$LAB/droverd.log" | sed 's/^/# /'; }
INC=$(sql "select max(id) from incidents")
assert_eq "one incident, level 1, site primary" "1|primary" "$(sql "select level, site from incidents where id = ${INC:-0}")"
assert_eq "auto: false — nothing ran by itself" 0 "$(sql "select count(*) from runs")"

out=$(as drvi-reader incidents --json 2>&1) && rc=0 || rc=$?
echo "$out" | sed 's/^/# incidents: /'
assert_eq "reader: incidents --json exits 0" 0 "$rc"
check "reader: incidents --json shows the open incident at level 1 on primary" python3 -c '
import json, sys
incs = json.loads(sys.argv[1])
assert any(i["id"] == int(sys.argv[2]) and i["level"] == 1 and i["site"] == "primary" for i in incs), incs' \
        "$out" "${INC:-0}"

# --- a reader may not approve it ------------------------------------------------------------
out=$(as drvi-reader approve incident "$INC" -m "not mine" 2>&1) && rc=0 || rc=$?
echo "$out" | sed 's/^/# /'
assert_eq "reader: approve incident refused (exit 4)" 4 "$rc"
assert_contains "reader: AccessDenied" "$out" "AccessDenied"
assert_eq "reader's refusal: still nothing ran" 0 "$(sql "select count(*) from runs")"
assert_eq "reader's refusal: no approval in the incident's log" 0 \
        "$(sql "select count(*) from incident_log where incident_id = $INC and kind = 'playbook-approved'")"

# --- a commander approves it: the proposed run starts and succeeds -------------------------
out=$(as drvi-cmd1 approve incident "$INC" -m ok 2>&1) && rc=0 || rc=$?
echo "$out" | sed 's/^/# /'
assert_eq "commander: approve incident exits 0" 0 "$rc"
wait_until 300 sql_nonzero "select count(*) from runs where outcome = 'succeeded'" &&
        ok "the approved run succeeded" || { not_ok "no succeeded run"; tail -20 "$LAB/droverd.log" | sed 's/^/# /'; }
assert_eq "the run: switch, trigger approved, actor the commander" "switch|approved|drvi-cmd1" \
        "$(sql "select playbook, trigger, actor from runs")"
RUN=$(sql "select max(id) from runs")
assert_eq "…linked to the incident" "${RUN:-none}" \
        "$(sql "select run_id from incident_log where incident_id = $INC and kind = 'playbook-started'")"
assert_eq "the playbook did its work once" switched "$(cat "$LAB/trace" 2>/dev/null)"
out=$(as drvi-reader runs --json 2>&1) && rc=0 || rc=$?
assert_eq "reader: runs --json exits 0" 0 "$rc"
check "runs --json: the run, approved by drvi-cmd1, succeeded" python3 -c '
import json, sys
runs = json.loads(sys.argv[1])
assert any(r["id"] == int(sys.argv[2]) and r["trigger"] == "approved" and r["actor"] == "drvi-cmd1"
           and r["outcome"] == "succeeded" for r in runs), runs' "$out" "${RUN:-0}"
out=$(as drvi-cmd2 approve incident "$INC" 2>&1) && rc=0 || rc=$?
echo "$out" | sed 's/^/# /'
assert_eq "approving it again: nothing pending (exit 6)" 6 "$rc"

# --- ack and note by a commander, in the incident's log -------------------------------------
out=$(as drvi-cmd2 ack "$INC" 2>&1) && rc=0 || rc=$?
echo "$out" | sed 's/^/# /'
assert_eq "commander: ack exits 0 (the approved run met the verify milestone; the ack is still new)" 0 "$rc"
out=$(as drvi-cmd1 ack "$INC" 2>&1) && rc=0 || rc=$?
echo "$out" | sed 's/^/# /'
assert_eq "a second ack: already acknowledged (exit 6)" 6 "$rc"
assert_eq "…and logged once" 1 \
        "$(sql "select count(*) from incident_log where incident_id = $INC and kind = 'acknowledged'")"
out=$(as drvi-cmd2 note "$INC" "checked the primary's load balancer" 2>&1) && rc=0 || rc=$?
echo "$out" | sed 's/^/# /'
assert_eq "commander: note exits 0" 0 "$rc"
out=$(as drvi-reader incident "$INC" --json 2>&1) && rc=0 || rc=$?
assert_eq "reader: incident ID --json exits 0" 0 "$rc"
echo "$out" | python3 -c 'import json,sys; [print("# log:", e["kind"], e["actor"], e["text"]) for e in json.load(sys.stdin)["log"]]' || true
check "the log: the approval by drvi-cmd1 with its comment" python3 -c '
import json, sys
log = json.loads(sys.argv[1])["log"]
assert any(e["kind"] == "playbook-approved" and e["actor"] == "drvi-cmd1" and e["text"].endswith(": ok") for e in log)' "$out"
check "the log: the acknowledgement by drvi-cmd2" python3 -c '
import json, sys
log = json.loads(sys.argv[1])["log"]
assert any(e["kind"] == "acknowledged" and e["actor"] == "drvi-cmd2" for e in log)' "$out"
check "the log: the note by drvi-cmd2 with its text" python3 -c '
import json, sys
log = json.loads(sys.argv[1])["log"]
assert any(e["kind"] == "note" and e["actor"] == "drvi-cmd2" and e["text"] == "checked the primary'"'"'s load balancer" for e in log)' "$out"

# --- the target comes back; then the signals ----------------------------------------------
start_web
wait_until 200 sql_nonzero "select count(*) from incidents where id = $INC and state = 'resolved'" &&
        ok "the target back: the incident is resolved" || not_ok "incident not resolved"
# droverd's Manager signals as recorded: one line each, "Member arg arg…" (strings unquoted).
DROVERD_NAME=$(busctl --address="$BUS" call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
        GetNameOwner s org.drover1 2>/dev/null | sed -E 's/^s "(.*)"$/\1/')
manager_signals() {
        python3 - "$LAB/signals.out" "$DROVERD_NAME" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
for block in text.split("\u2023 ")[1:]:
    m = re.search(r"Type=signal .*\n\s+Sender=(\S+)\s+Path=(\S+)\s+Interface=(\S+)\s+Member=(\S+)", block)
    if not m or m.group(1) != sys.argv[2] or m.group(2) != "/org/drover1" or m.group(3) != "org.drover1.Manager":
        continue
    args = re.findall(r"^\s+(?:STRING|INT32|INT64|UINT32|BOOLEAN) (.*);$", block, re.M)
    print(" ".join([m.group(4)] + [a[1:-1] if a.startswith('"') else a for a in args]))
PY
}
saw_signal() { manager_signals | grep -qE "^$1( |\$)"; } # PREFIX: whole words
for s in "LevelChanged primary 1 down" "IncidentChanged $INC detected 1" "ApprovalRequested incident $INC" \
        "IncidentChanged $INC mitigating" "IncidentChanged $INC resolved" "LevelChanged primary 0 up"; do
        wait_until 100 saw_signal "$s" && ok "signal: $s" || not_ok "signal never seen: $s"
done
manager_signals | sed 's/^/# signal: /'

# --- the end ---------------------------------------------------------------------------------
kill -TERM "$DPID"
wait "$DPID" && rc=0 || rc=$?
assert_eq "droverd stops cleanly on SIGTERM (exit 0)" 0 "$rc"
[ "$rc" = 0 ] || tail -n 40 "$LAB/droverd.log" | sed 's/^/# droverd: /'
kill "$MON_PID" 2>/dev/null || true
wait "$MON_PID" 2>/dev/null || true
lab_done
