# SPDX-License-Identifier: LGPL-2.1-or-later
# tests/integration/lib-dbus.sh — for the D-Bus API tests (180-dbus, 220-dbus-incident):
# test users and groups created for the test and removed on exit, a private system-type
# dbus-daemon that includes the real policy file, and droverctl run as a given user.
# Source it after lib.sh; it needs root.
POLICY="$DROVER_SOURCE_ROOT/units/org.drover1.conf"

if [ "$(id -u)" -ne 0 ]; then
        echo "not ok - $(basename "$0" .sh) needs root (it creates users and groups, as CI runs it)"
        exit 1
fi

# --- users and groups: created here, removed on exit (only what this test created) ------
# The users and groups are machine-wide: two D-Bus tests at once (two builds on one machine)
# would delete each other's. One at a time, under a machine-wide lock held until exit.
exec 9>/run/drover-dbus-test-users.lock
flock 9
CREATED_GROUPS=()
CREATED_USERS=()
cleanup_users() {
        local u g
        for u in "${CREATED_USERS[@]}"; do userdel "$u" 2>/dev/null || true; done
        for g in "${CREATED_GROUPS[@]}"; do groupdel "$g" 2>/dev/null || true; done
}
trap 'cleanup_users; lab_cleanup' EXIT
for g in drover drover-commanders; do
        if ! getent group "$g" >/dev/null; then
                groupadd --system "$g"
                CREATED_GROUPS+=("$g")
        fi
done
add_user() { # name [groups]
        userdel "$1" 2>/dev/null || true
        useradd --system --no-create-home --shell /usr/sbin/nologin ${2:+--groups "$2"} "$1"
        CREATED_USERS+=("$1")
}

# --- a private system-type bus with the real policy --------------------------------------
mkdir -p "$LAB/bus"
chmod 755 "$LAB/bus"
write_bus_conf() { # FILE [extra policy XML]
        cat >"$1" <<XML
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$LAB/bus/socket</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Properties"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
  </policy>
  <include>$POLICY</include>
  ${2:-}
</busconfig>
XML
}

start_bus() { # CONF
        local i
        rm -f "$LAB/bus/socket" "$LAB/bus/address"
        dbus-daemon --config-file="$1" --nofork --print-address=3 3>"$LAB/bus/address" \
                >>"$LAB/bus/log" 2>&1 &
        BUS_PID=$!
        LAB_PIDS+=("$BUS_PID")
        for i in $(seq 1 100); do
                [ -s "$LAB/bus/address" ] && break
                sleep 0.05
        done
        BUS=$(head -n1 "$LAB/bus/address")
        [ -n "$BUS" ] || { echo "# dbus-daemon did not start:" >&2; cat "$LAB/bus/log" >&2; return 1; }
        export DBUS_SYSTEM_BUS_ADDRESS="$BUS"
}

as() { # USER droverctl args…
        local u=$1
        shift
        runuser -u "$u" -- env DBUS_SYSTEM_BUS_ADDRESS="$BUS" NO_COLOR=1 "$DROVERCTL" "$@"
}
