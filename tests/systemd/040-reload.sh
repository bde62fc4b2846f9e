#!/usr/bin/env bash
# `systemctl reload droverd` under a real systemd: an incident opened by the monitor
# (a critical HTTP probe of the primary that nothing answers, inside the container's own
# loopback) stays open across a good reload, with the same main process; a bad file on
# reload is refused (path:line:col in the log, the refusal journaled, STATUS= says so),
# the old inventory stays in force (same process, the incident still there, monitoring
# unchanged), and a fixed file reloads again.
source "$(dirname "$0")/lib.sh"
sd_up
config() { # EXTRA
        sd_config <<YAML
endpoints:
  app: {site: primary, url: "http://127.0.0.1:9/"}
monitor:
  defaults: {interval: 300ms, timeout: 200ms, jitter: 50ms, fall: 2, rise: 1}
  probes:
    app: {kind: http, endpoint: app, path: /health, critical: true}
levels:
  - {name: primary-down, level: red, condition: site-down, subject: primary}
$1
YAML
}
config ""
out=$(sd droverd --check-config --config /etc/drover/drover.yaml 2>&1) && rc=0 || rc=$?
assert_eq "the inventory is valid" 0 "$rc"
check "systemctl start droverd" sd systemctl start droverd
check "org.drover1 is owned" sd_wait_name
pid=$(sd_prop droverd MainPID)

open_incidents() { sd droverctl incidents --json 2>/dev/null | python3 -c 'import json,sys; print(" ".join(str(i["id"]) for i in json.load(sys.stdin)))'; }
has_incident() { [ -n "$(open_incidents)" ]; }
wait_until 300 has_incident || true
before=$(open_incidents)
check "the monitor opened an incident (ids: $before)" test -n "$before"

# --- a good reload keeps the incident ------------------------------------------------------
config "deadlines: {verify: 1h}"
check "systemctl reload droverd" sd systemctl reload droverd
wait_until 300 sd_sql_is "select count(*) from events where kind = 'config-reloaded'" 1 || true
assert_eq "the reload was applied (config-reloaded journaled)" 1 \
        "$(sd_sql "select count(*) from events where kind = 'config-reloaded'")"
assert_eq "same main process" "$pid" "$(sd_prop droverd MainPID)"
assert_eq "the incident is still open after the reload" "$before" "$(open_incidents)"
assert_eq "active/running" active/running "$(sd_prop droverd ActiveState)/$(sd_prop droverd SubState)"

# --- a bad file is refused, the old one kept -------------------------------------------------
config "monitr: {}"
out=$(sd droverd --check-config --config /etc/drover/drover.yaml 2>&1) && rc=0 || rc=$?
assert_eq "control: the new file is invalid (exit 2)" 2 "$rc"
check "systemctl reload droverd (bad file)" sd systemctl reload droverd
wait_until 300 sd_sql_is "select count(*) from events where kind = 'config-reload-refused'" 1 || true
assert_eq "the refusal is journaled" 1 "$(sd_sql "select count(*) from events where kind = 'config-reload-refused'")"
log=$(sd journalctl -u droverd -o cat --no-pager)
echo "$log" | grep -n "monitr" | sed 's/^/# log: /'
check "the log names the bad key with path:line:col" \
        bash -c 'grep -qE "/etc/drover/drover.yaml:[0-9]+:[0-9]+: .*monitr" <<<"$1"' _ "$log"
assert_contains "… and says the reload was refused" "$log" "config reload refused"
assert_contains "STATUS= says the reload was refused" "$(sd_prop droverd StatusText)" "refused"
assert_eq "same main process" "$pid" "$(sd_prop droverd MainPID)"
assert_eq "still active/running" active/running "$(sd_prop droverd ActiveState)/$(sd_prop droverd SubState)"
assert_eq "the incident is still open" "$before" "$(open_incidents)"
out=$(sd droverctl sites --json 2>&1)
assert_contains "the old inventory is in force (its sites)" "$out" '"primary"'
assert_eq "no second config-reloaded" 1 "$(sd_sql "select count(*) from events where kind = 'config-reloaded'")"

# --- fixed: reloads again ---------------------------------------------------------------------
config ""
check "systemctl reload droverd (fixed file)" sd systemctl reload droverd
wait_until 300 sd_sql_is "select count(*) from events where kind = 'config-reloaded'" 2 || true
assert_eq "the fixed file is applied" 2 "$(sd_sql "select count(*) from events where kind = 'config-reloaded'")"
assert_eq "the incident is still open" "$before" "$(open_incidents)"
lab_done
