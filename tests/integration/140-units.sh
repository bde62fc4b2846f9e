#!/usr/bin/env bash
# The systemd side of droverd, checked without systemd as PID 1:
#  - `systemd-analyze verify` accepts droverd.service (and prints nothing: 252 only warns
#    about a bad setting and still exits 0, so any output is a failure here);
#  - `systemd-analyze security --offline=yes` puts its exposure at 2.5 or lower;
#  - the sysusers.d and tmpfiles.d files apply cleanly to a scratch root;
#  - `meson install --destdir` installs binaries, unit, sysusers, tmpfiles, the shipped
#    playbooks and the example inventory, and the example validates (with its
#    /etc/drover paths pointed at files that exist) together with the playbooks.
source "$(dirname "$0")/lib.sh"
SRC=$DROVER_SOURCE_ROOT
BUILD=$DROVER_BUILD_ROOT
DROVERD="$BUILD/src/daemon/droverd"

# --- verify --------------------------------------------------------------------------
# verify needs the ExecStart binary at its path, so check a copy of the unit whose
# ExecStart is the build's droverd. User=drover stays: systemd 252's verify does not
# resolve User= (it is looked up when the service starts), so no user is created.
# --man=no: Documentation=man:droverd(8) names a page that is installed, not on this
# machine's MANPATH while testing.
mkdir -p "$LAB/units"
sed "s|@sbindir@|$(dirname "$DROVERD")|" "$SRC/units/droverd.service" >"$LAB/units/droverd.service"
check "the unit's ExecStart is the build's droverd" \
        grep -qxF "ExecStart=$DROVERD --config /etc/drover/drover.yaml" "$LAB/units/droverd.service"
out=$(systemd-analyze verify --man=no "$LAB/units/droverd.service" 2>&1) && rc=0 || rc=$?
assert_eq "systemd-analyze verify: exit 0" 0 "$rc"
assert_eq "systemd-analyze verify: no warnings" "" "$out"
# The check itself can fail: a misspelt Type= must produce output.
sed 's/^Type=notify$/Type=notifyy/' "$LAB/units/droverd.service" >"$LAB/units/broken.service"
out=$(systemd-analyze verify --man=no "$LAB/units/broken.service" 2>&1) || true
assert_contains "verify catches a bad setting (the check can fail)" "$out" "Failed to parse service type"

# The installed unit (meson's configure_file output) has no @…@ left.
check "configured unit has no unsubstituted @…@" \
        bash -c '! grep -n "@[a-z]*@" "$1"' _ "$BUILD/units/droverd.service"
check "configured unit is Type=notify with a watchdog" \
        bash -c 'grep -qx "Type=notify" "$1" && grep -qx "WatchdogSec=30s" "$1"' _ "$BUILD/units/droverd.service"

# --- drover-drill@.service and .timer ---------------------------------------------------
# An instance of each, verified from the directory that holds the templates; ExecStart is
# the build's droverctl.
sed "s|@bindir@|$(dirname "$DROVERCTL")|" "$SRC/units/drover-drill@.service" >"$LAB/units/drover-drill@.service"
cp "$SRC/units/drover-drill@.timer" "$LAB/units/"
check "the drill service starts 'droverctl drill start --scheduled %i'" \
        grep -qxF "ExecStart=$DROVERCTL --config /etc/drover/drover.yaml drill start --scheduled %i" \
        "$LAB/units/drover-drill@.service"
out=$(cd "$LAB/units" && systemd-analyze verify --man=no ./drover-drill@site-switchover.service \
        ./drover-drill@site-switchover.timer 2>&1) && rc=0 || rc=$?
assert_eq "verify drover-drill@site-switchover.service and .timer: exit 0" 0 "$rc"
assert_eq "verify drover-drill@ units: no warnings" "" "$out"
mkdir -p "$LAB/units-broken"
sed 's/^Type=oneshot$/Type=oneshott/' "$LAB/units/drover-drill@.service" >"$LAB/units-broken/drover-drill@.service"
sed 's/^OnCalendar=yearly$/OnCalendar=every other tuesday/' "$LAB/units/drover-drill@.timer" \
        >"$LAB/units-broken/drover-drill@.timer"
out=$(cd "$LAB/units-broken" && systemd-analyze verify --man=no ./drover-drill@x.service ./drover-drill@x.timer 2>&1) || true
assert_contains "verify catches a bad drill service setting" "$out" "Failed to parse service type"
assert_contains "verify catches a bad drill calendar" "$out" "Failed to parse calendar specification"
check "configured drill unit has no unsubstituted @…@" \
        bash -c '! grep -n "@[a-z]*@" "$1" | grep -v "drover-drill@"' _ "$BUILD/units/drover-drill@.service"

# --- security --------------------------------------------------------------------------
# --threshold= compares systemd's internal exposure, which is the printed score × 10
# (0–100; the default threshold is 100): 25 means "fail above 2.5".
out=$(systemd-analyze security --offline=yes --threshold=25 "$LAB/units/droverd.service" 2>&1) && rc=0 || rc=$?
exposure=$(sed -n 's/.*Overall exposure level for droverd.service: \([0-9.]*\).*/\1/p' <<<"$out")
echo "# systemd-analyze security: exposure $exposure"
assert_eq "security --offline --threshold=25: exit 0" 0 "$rc"
check "exposure printed and at most 2.5" awk -v e="$exposure" 'BEGIN { exit !(e != "" && e + 0 <= 2.5) }'
# The threshold is live: one below the measured score fails.
below=$(awk -v e="$exposure" 'BEGIN { printf "%d", e * 10 - 1 }')
systemd-analyze security --offline=yes --threshold="$below" "$LAB/units/droverd.service" >/dev/null 2>&1 &&
        rc=0 || rc=$?
check "threshold just below the score ($below) fails" test "$rc" -ne 0
# And an unhardened copy of the unit scores far worse, so the score comes from the settings.
awk '/^# --- Hardening/ { skip = 1 } /^\[Install\]/ { skip = 0 } !skip' "$LAB/units/droverd.service" \
        >"$LAB/units/unhardened.service"
systemd-analyze security --offline=yes --threshold=25 "$LAB/units/unhardened.service" >/dev/null 2>&1 &&
        rc=0 || rc=$?
check "the unit without its hardening section fails the threshold" test "$rc" -ne 0

# --- sysusers.d and tmpfiles.d on a scratch root -----------------------------------------
ROOT="$LAB/root"
mkdir -p "$ROOT/etc"
for f in passwd group shadow gshadow; do
        [ -e "/etc/$f" ] && cp "/etc/$f" "$ROOT/etc/$f"
done
sed -i '/^drover[:-]/d' "$ROOT/etc/passwd" "$ROOT/etc/group" "$ROOT/etc/shadow" "$ROOT/etc/gshadow" 2>/dev/null || true
out=$(systemd-sysusers --root="$ROOT" "$SRC/units/drover-sysusers.conf" 2>&1) && rc=0 || rc=$?
assert_eq "sysusers applies" 0 "$rc"
check "user drover created with home /var/lib/drover" \
        grep -qE '^drover:x:[0-9]+:[0-9]+:drover failover orchestrator:/var/lib/drover:' "$ROOT/etc/passwd"
check "group drover-commanders created" grep -q '^drover-commanders:' "$ROOT/etc/group"
drover_uid=$(awk -F: '$1 == "drover" { print $3 }' "$ROOT/etc/passwd")
drover_gid=$(awk -F: '$1 == "drover" { print $3 }' "$ROOT/etc/group")
out=$(systemd-tmpfiles --root="$ROOT" --create "$SRC/units/drover-tmpfiles.conf" 2>&1) && rc=0 || rc=$?
assert_eq "tmpfiles applies" "0 " "$rc $out"
assert_eq "/var/lib/drover 0750 drover:drover" "750 $drover_uid:$drover_gid" \
        "$(stat -c '%a %u:%g' "$ROOT/var/lib/drover")"
assert_eq "/etc/drover 0750 root:drover" "750 0:$drover_gid" "$(stat -c '%a %u:%g' "$ROOT/etc/drover")"

# --- meson install --------------------------------------------------------------------
DEST="$LAB/dest"
out=$(meson install -C "$BUILD" --destdir "$DEST" --no-rebuild --quiet 2>&1) && rc=0 || rc=$?
assert_eq "meson install --destdir: exit 0" 0 "$rc"
opt() { # a meson option's value
        meson introspect "$BUILD" --buildoptions |
                python3 -c 'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == sys.argv[1]))' "$1"
}
prefix=$(opt prefix)
abs() { # a meson dir option made absolute under the prefix
        case "$1" in /*) echo "$1" ;; *) echo "$prefix/$1" ;; esac
}
sbindir=$(abs "$(opt sbindir)")
bindir=$(abs "$(opt bindir)")
datadir=$(abs "$(opt datadir)")
sysconfdir=$(abs "$(opt sysconfdir)")
check "droverd installed in sbindir" test -x "$DEST$sbindir/droverd"
check "droverctl installed in bindir" test -x "$DEST$bindir/droverctl"
check "unit installed" test -f "$DEST$prefix/lib/systemd/system/droverd.service"
mandir=$(abs "$(opt mandir)")
for m in man1/droverctl.1 man8/droverd.8 man5/drover.yaml.5 man5/drover-playbook.5 man5/drover-drill.5; do
        check "man page $m installed" test -s "$DEST$mandir/$m"
done
check "installed unit starts the installed droverd" \
        grep -qxF "ExecStart=$sbindir/droverd --config /etc/drover/drover.yaml" \
        "$DEST$prefix/lib/systemd/system/droverd.service"
check "drill service and timer installed" test -f "$DEST$prefix/lib/systemd/system/drover-drill@.service" -a \
        -f "$DEST$prefix/lib/systemd/system/drover-drill@.timer"
check "installed drill service starts the installed droverctl" \
        grep -qxF "ExecStart=$bindir/droverctl --config /etc/drover/drover.yaml drill start --scheduled %i" \
        "$DEST$prefix/lib/systemd/system/drover-drill@.service"
n_src=$(find "$SRC/drills" -maxdepth 1 -name '*.yaml' | wc -l)
n_inst=$(find "$DEST$datadir/drover/drills" -maxdepth 1 -name '*.yaml' 2>/dev/null | wc -l)
check "every shipped drill installed ($n_src)" test "$n_src" -gt 0 -a "$n_src" -eq "$n_inst"
check "sysusers.d/drover.conf installed" cmp -s "$SRC/units/drover-sysusers.conf" "$DEST$prefix/lib/sysusers.d/drover.conf"
check "tmpfiles.d/drover.conf installed" cmp -s "$SRC/units/drover-tmpfiles.conf" "$DEST$prefix/lib/tmpfiles.d/drover.conf"
check "example inventory installed" test -f "$DEST$sysconfdir/drover/drover.yaml.example"
n_src=$(find "$SRC/playbooks" -maxdepth 1 -name '*.yaml' | wc -l)
n_inst=$(find "$DEST$datadir/drover/playbooks" -maxdepth 1 -name '*.yaml' 2>/dev/null | wc -l)
check "every shipped playbook installed ($n_src)" test "$n_src" -gt 0 -a "$n_src" -eq "$n_inst"
check "no README or examples among installed playbooks" \
        test ! -e "$DEST$datadir/drover/playbooks/README.md" -a ! -e "$DEST$datadir/drover/playbooks/examples"
out=$("$DEST$sbindir/droverd" --version 2>&1) && rc=0 || rc=$?
assert_eq "installed droverd runs" "0 droverd" "$rc ${out% *}"

# --- the example inventory validates -----------------------------------------------------
# Its key, known_hosts and CA live under /etc/drover, which does not exist here: validate
# a copy whose /etc/drover/ paths point at empty files in the lab.
mkdir -p "$LAB/etc/ssh" "$LAB/etc/tls" "$LAB/etc/credentials"
touch "$LAB/etc/ssh/id_ed25519" "$LAB/etc/ssh/known_hosts" "$LAB/etc/tls/internal-ca.pem"
sed "s|/etc/drover/|$LAB/etc/|g" "$DEST$sysconfdir/drover/drover.yaml.example" >"$LAB/example.yaml"
out=$("$DROVERCTL" validate "$LAB/example.yaml" 2>&1) && rc=0 || rc=$?
assert_eq "example inventory validates" "0 OK" "$rc $out"
out=$("$DROVERD" --check-config --config "$LAB/example.yaml" 2>&1) && rc=0 || rc=$?
assert_eq "droverd --check-config accepts the example" 0 "$rc"
out=$("$DROVERCTL" validate --config "$LAB/example.yaml" "$DEST$datadir"/drover/playbooks/*.yaml 2>&1) && rc=0 || rc=$?
assert_eq "the shipped playbooks validate against the example inventory" "0 OK" "$rc $out"
# Unchanged, it is refused for exactly those missing files (so the check above is not vacuous).
out=$("$DROVERCTL" validate "$SRC/units/drover.yaml.example" 2>&1) && rc=0 || rc=$?
assert_eq "the unmodified example names /etc/drover files (absent here): 3 errors" "2 3" \
        "$rc $(grep -c ': error: .*/etc/drover/.*does not exist' <<<"$out")"

lab_done
