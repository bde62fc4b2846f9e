#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tests/systemd/sdlab.sh — a real systemd for drover's units: a minimal Debian 12 booted
# with systemd-nspawn, drover installed into it with `meson install --destdir`.
#
#   sdlab.sh base                   build (once per machine) and print the cached rootfs
#   sdlab.sh up NAME [BUILDDIR]     copy the rootfs, install BUILDDIR into it, boot it
#   sdlab.sh exec NAME CMD...       run CMD inside (systemctl, busctl, …), as root
#   sdlab.sh down NAME              power it off, kill what is left, remove cgroups and copy
#
# Sourced by tests/systemd/*.sh for the same functions (sdlab_up/sdlab_exec/sdlab_down).
#
# The base rootfs: `mmdebstrap --variant=minbase` from this machine's apt sources (none
# are left in the image), cached in $SDLAB_CACHE/base-HASH where HASH covers the package
# list, so the ~55 s build happens once. procps is left out on purpose: /bin/kill does
# not exist, as on minimal images (the unit's ExecReload must not need it).
# A boot: an overlay on the base (or a `cp -a` of it) under $SDLAB_RUN/NAME, systemd-nspawn from a cgroup of its
# own (PID 1 of this machine is not systemd: no machined, so --register=no --keep-unit),
# --private-network (the container sees only its own loopback). Commands enter nspawn's
# child (the container's PID 1) with nsenter. Lab notes: shared/docs/lab-notes.md.

SDLAB_CACHE=${SDLAB_CACHE:-/var/cache/drover-sdlab}
SDLAB_RUN=${SDLAB_RUN:-/var/tmp/drover-sdlab}
SDLAB_SUITE=${SDLAB_SUITE:-bookworm}
SDLAB_SOURCES=${SDLAB_SOURCES:-/etc/apt/sources.list.d/debian.sources}
# The runtime libraries of droverd and droverctl (ldd), systemd with its busctl, dbus.
SDLAB_PACKAGES=(systemd systemd-sysv dbus libsystemd0 libssh2-1 libcurl4 libsqlite3-0 libyaml-0-2
        libjansson4)
SDLAB_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
SDLAB_CGROUP_ROOTS=(/sys/fs/cgroup/unified /sys/fs/cgroup/systemd)

sdlab_die() {
        echo "sdlab: $*" >&2
        exit 1
}

# Prints the path of the cached base rootfs, building it first if needed.
sdlab_base() {
        local key base log
        key=$( (printf '%s\n' "$SDLAB_SUITE" minbase "${SDLAB_PACKAGES[@]}"; cat "$SDLAB_SOURCES") |
                sha256sum | cut -c1-16)
        base=$SDLAB_CACHE/base-$key
        if [ -f "$base/.sdlab-complete" ]; then
                echo "$base"
                return 0
        fi
        mkdir -p "$SDLAB_CACHE"
        (
                flock 9
                [ -f "$base/.sdlab-complete" ] && exit 0
                rm -rf "$base.tmp"
                log=$SDLAB_CACHE/base-$key.log
                echo "# sdlab: building the Debian $SDLAB_SUITE rootfs (once, about a minute)" >&2
                local incl
                incl=$(IFS=,; echo "${SDLAB_PACKAGES[*]}")
                if ! mmdebstrap --variant=minbase --include="$incl" "$SDLAB_SUITE" "$base.tmp" \
                        "$SDLAB_SOURCES" >"$log" 2>&1; then
                        tail -20 "$log" >&2
                        rm -rf "$base.tmp"
                        exit 1
                fi
                # No apt sources left in the image: it never downloads anything.
                rm -f "$base.tmp/etc/apt/sources.list" "$base.tmp"/etc/apt/sources.list.d/*
                rm -rf "$base.tmp"/var/lib/apt/lists/* "$base.tmp"/var/cache/apt/*.bin
                # A fresh machine-id per boot (systemd generates it when the file is empty).
                : >"$base.tmp/etc/machine-id"
                touch "$base.tmp/.sdlab-complete"
                mv "$base.tmp" "$base"
        ) 9>"$SDLAB_CACHE/lock" || sdlab_die "cannot build the base rootfs"
        echo "$base"
}

sdlab_dir() { echo "$SDLAB_RUN/$1"; }

# The container's PID 1 (nspawn's child), or nothing.
sdlab_leader() {
        local dir
        dir=$(sdlab_dir "$1")
        [ -f "$dir/leader.pid" ] && cat "$dir/leader.pid"
}

sdlab_exec() {
        local name=$1 leader
        shift
        leader=$(sdlab_leader "$name")
        [ -n "$leader" ] || sdlab_die "$name is not up"
        nsenter -t "$leader" -m -u -i -n -p -- /usr/bin/env -i PATH="$SDLAB_PATH" LANG=C.UTF-8 "$@"
}

# sdlab_up NAME BUILDDIR: boot a throw-away copy with BUILDDIR installed; returns when
# the container's systemd has finished booting (`is-system-running --wait`).
sdlab_up() {
        local name=$1 build=$2 base dir root cg i leader="" state
        [ -f "$build/build.ninja" ] || sdlab_die "$build is not a meson build directory"
        base=$(sdlab_base) || exit 1
        dir=$(sdlab_dir "$name")
        root=$dir/root
        [ ! -e "$dir" ] || sdlab_down "$name"
        mkdir -p "$dir/upper" "$dir/work" "$root"
        # An overlay on the cached base (its changes go to upper/); cp -a where overlayfs is
        # missing (about 0.6 s idle, 10 s on a loaded machine).
        if mount -t overlay sdlab -o "lowerdir=$base,upperdir=$dir/upper,workdir=$dir/work" "$root" 2>/dev/null; then
                touch "$dir/overlay"
        else
                rmdir "$root"
                cp -a "$base" "$root"
        fi
        meson install -C "$build" --no-rebuild --quiet --destdir "$root" >"$dir/install.log" 2>&1 ||
                { cat "$dir/install.log" >&2; sdlab_die "meson install --destdir failed"; }
        for cg in "${SDLAB_CGROUP_ROOTS[@]}"; do
                [ -d "$cg" ] && mkdir -p "$cg/drover-sdlab-$name"
        done
        (
                for cg in "${SDLAB_CGROUP_ROOTS[@]}"; do
                        [ -d "$cg/drover-sdlab-$name" ] && echo "$BASHPID" >"$cg/drover-sdlab-$name/cgroup.procs"
                done
                exec systemd-nspawn -q -D "$root" -M "sdlab-$name" --register=no --keep-unit \
                        --private-network -b --console=pipe
        ) </dev/null >"$dir/console.log" 2>&1 &
        echo $! >"$dir/nspawn.pid"
        for i in $(seq 1 300); do
                leader=$(cat "/proc/$(cat "$dir/nspawn.pid")/task/$(cat "$dir/nspawn.pid")/children" 2>/dev/null |
                        awk '{print $1}')
                if [ -n "$leader" ] && [ "$(cat "/proc/$leader/comm" 2>/dev/null)" = systemd ]; then
                        break
                fi
                leader=""
                kill -0 "$(cat "$dir/nspawn.pid")" 2>/dev/null || break
                sleep 0.1
        done
        if [ -z "$leader" ]; then
                cat "$dir/console.log" >&2
                sdlab_down "$name"
                sdlab_die "$name did not boot"
        fi
        echo "$leader" >"$dir/leader.pid"
        # A deadline, not an assertion: a boot that never settles is a failure.
        for i in $(seq 1 600); do
                state=$(sdlab_exec "$name" systemctl is-system-running 2>/dev/null) || true
                case "$state" in
                running | degraded) break ;;
                esac
                sleep 0.1
        done
        case "$state" in
        running | degraded) ;;
        *)
                cat "$dir/console.log" >&2
                sdlab_down "$name"
                sdlab_die "$name did not finish booting (state '$state')"
                ;;
        esac
        echo "# sdlab: $name is up (PID 1 is $leader on the host, $state)" >&2
}

# Kills every process left in our cgroups (deepest first) and removes them.
sdlab_cgroup_clean() {
        local name=$1 cg d pid i
        for cg in "${SDLAB_CGROUP_ROOTS[@]}"; do
                d=$cg/drover-sdlab-$name
                [ -d "$d" ] || continue
                for i in $(seq 1 50); do
                        pids=$(find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null)
                        [ -n "$pids" ] || break
                        for pid in $pids; do kill -9 "$pid" 2>/dev/null || true; done
                        sleep 0.1
                done
                find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || true
        done
}

sdlab_down() {
        local name=$1 dir nspawn i
        dir=$(sdlab_dir "$name")
        [ -d "$dir" ] || return 0
        nspawn=$(cat "$dir/nspawn.pid" 2>/dev/null || true)
        if [ -n "$nspawn" ] && kill -0 "$nspawn" 2>/dev/null; then
                sdlab_exec "$name" systemctl poweroff --no-block >/dev/null 2>&1 || true
                for i in $(seq 1 200); do
                        # Gone, or a zombie of ours not reaped yet.
                        [ -d "/proc/$nspawn" ] || break
                        [ "$(awk '{print $3}' "/proc/$nspawn/stat" 2>/dev/null)" = Z ] && break
                        sleep 0.1
                done
                kill -9 "$nspawn" 2>/dev/null || true
                wait "$nspawn" 2>/dev/null || true
        fi
        sdlab_cgroup_clean "$name"
        if [ -f "$dir/overlay" ]; then
                umount "$dir/root" 2>/dev/null || umount -l "$dir/root" 2>/dev/null || true
        fi
        # Never delete through a mount that is still there (it would empty the cached base).
        if mountpoint -q "$dir/root" 2>/dev/null; then
                echo "sdlab: $dir/root is still mounted; left in place" >&2
                return 1
        fi
        rm -rf "$dir"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
        set -euo pipefail
        [ "$(id -u)" = 0 ] || sdlab_die "needs root"
        cmd=${1:-}
        case "$cmd" in
        base) sdlab_base ;;
        up)
                [ $# -ge 2 ] || sdlab_die "usage: sdlab.sh up NAME [BUILDDIR]"
                sdlab_up "$2" "${3:-$(dirname "$0")/../../build}"
                ;;
        exec)
                [ $# -ge 3 ] || sdlab_die "usage: sdlab.sh exec NAME CMD..."
                name=$2
                shift 2
                sdlab_exec "$name" "$@"
                ;;
        down)
                [ $# -ge 2 ] || sdlab_die "usage: sdlab.sh down NAME"
                sdlab_down "$2"
                ;;
        *) sdlab_die "usage: sdlab.sh base | up NAME [BUILDDIR] | exec NAME CMD... | down NAME" ;;
        esac
fi
