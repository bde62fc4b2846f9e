# SPDX-License-Identifier: LGPL-2.1-or-later
# tests/systemd/lib.sh — one booted Debian 12 with a real systemd (sdlab.sh) per test,
# drover installed into it from a build of its own: the default prefix /usr/local (the
# D-Bus policy must still land where the bus reads it) and -Dtest_hooks=true (the
# watchdog test's hang trigger), never the build the other suites test. The assertion
# helpers are the integration tests' (tests/integration/lib.sh). On exit: the container
# is powered off, what is left of it killed, its cgroups and copy removed.
# Source it; do not run it. Needs root, systemd-container and mmdebstrap.
: "${DROVER_SOURCE_ROOT:?run through meson test (or set DROVER_SOURCE_ROOT and DROVER_BUILD_ROOT)}"
source "$DROVER_SOURCE_ROOT/tests/integration/lib.sh"
source "$DROVER_SOURCE_ROOT/tests/systemd/sdlab.sh"

[ "$(id -u)" = 0 ] || { echo "# tests/systemd need root" >&2; exit 1; }
for p in systemd-nspawn mmdebstrap nsenter; do
        command -v "$p" >/dev/null || { echo "# $p is missing (apt-get install systemd-container mmdebstrap)" >&2; exit 1; }
done

SD_NAME=$(basename "$0" .sh)
SD_BUILD=${SDLAB_BUILD:-$DROVER_BUILD_ROOT/sdlab-build}

sd_cleanup() {
        local rc=$?
        if [ "${LAB_KEEP:-0}" = 1 ]; then
                echo "# container kept: tests/systemd/sdlab.sh exec $SD_NAME …, then down $SD_NAME"
        else
                sdlab_down "$SD_NAME"
        fi
        lab_cleanup
        exit $rc
}
trap sd_cleanup EXIT
# meson's timeout (SIGTERM) and Ctrl-C must also power the container off.
trap 'exit 143' TERM
trap 'exit 130' INT

# The build that goes into the container: configured once, rebuilt incrementally (locked:
# tests of this suite never run in parallel, but a developer may run one by hand).
sd_build() {
        mkdir -p "$(dirname "$SD_BUILD")"
        (
                flock 9
                if [ ! -f "$SD_BUILD/build.ninja" ]; then
                        meson setup "$SD_BUILD" "$DROVER_SOURCE_ROOT" -Dtest_hooks=true -Dtests=false \
                                >"$SD_BUILD.setup.log" 2>&1 || { cat "$SD_BUILD.setup.log" >&2; exit 1; }
                fi
                ninja -C "$SD_BUILD" >"$SD_BUILD.ninja.log" 2>&1 || { tail -30 "$SD_BUILD.ninja.log" >&2; exit 1; }
        ) 9>/run/drover-sdlab-build.lock
}

# Boots the container with drover installed; SD_ROOT is its root directory on this host
# (the journal can be read from here with sqlite3).
sd_up() {
        sd_build
        sdlab_up "$SD_NAME" "$SD_BUILD"
        SD_ROOT=$(sdlab_dir "$SD_NAME")/root
}

sd() { sdlab_exec "$SD_NAME" "$@"; }
sd_prop() { sd systemctl show -P "$2" "$1"; } # UNIT PROPERTY
# sd_write PATH: stdin to PATH inside the container (as root).
sd_write() { sd sh -c "cat >'$1'"; }
sd_sql() { sqlite3 -batch -noheader -cmd ".timeout 10000" "$SD_ROOT/var/lib/drover/drover.db" "$1"; }

# A small inventory for droverd inside the container: no monitoring unless given, a
# playbook directory of the test's own (/etc/drover/playbooks), the journal in the
# service's StateDirectory.
sd_config() { # [EXTRA YAML on stdin]
        sd mkdir -p /etc/drover/playbooks
        {
                echo "journal: /var/lib/drover/drover.db"
                echo "playbook_dir: /etc/drover/playbooks"
                echo "sites: {primary: {role: primary}, backup: {role: backup}}"
                cat
        } | sd_write /etc/drover/drover.yaml
        sd chgrp -R drover /etc/drover
        sd chmod -R g+rX /etc/drover
}

# sd_wait_active UNIT: until the unit is active/running (a deadline, not an assertion).
sd_wait_state() { # UNIT ACTIVESTATE SUBSTATE
        [ "$(sd_prop "$1" ActiveState)/$(sd_prop "$1" SubState)" = "$2/$3" ]
}

# The bus name is taken right after READY=1: wait for it before calling.
sd_wait_name() {
        wait_until 100 sd busctl --system status org.drover1 >/dev/null
}
sd_sql_is() { [ "$(sd_sql "$1" 2>/dev/null)" = "$2" ]; } # QUERY EXPECTED
