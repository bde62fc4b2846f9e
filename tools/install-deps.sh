#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tools/install-deps.sh [--bench] [--fuzz] — install the Debian 12 packages drover needs to
# build, test and run its lab. Installs only what is missing; needs root.
set -euo pipefail

pkgs=(meson ninja-build pkg-config gcc libssh2-1-dev libcurl4-openssl-dev libsqlite3-dev libyaml-dev
      libsystemd-dev libjansson-dev libcmocka-dev openssh-server openssh-client sqlite3 python3 iproute2
      procps ca-certificates openssl jq
      # the system-type dbus-daemon of the D-Bus API tests (tests/integration/180-dbus)
      dbus
      # curl on a remote vantage point runs the prober's http checks (the tests use loopback)
      curl
      # systemd-analyze (verify, security --offline) for droverd.service; not in a bare Debian 12 image
      systemd
      # headless rendering check of the HTML reports (tests/integration/210-report.sh)
      chromium
      # the two-site lab (drills/lab) and its end-to-end tests
      postgresql haproxy socat nftables iptables python3-psycopg2 libnetfilter-queue-dev
      # the cluster (issue 9): a real 3-member etcd 3.4 and its etcdctl (tests/integration/25*, lab)
      etcd-server etcd-client
      # drover's units under a booted Debian 12 (tests/systemd): systemd-nspawn and its rootfs
      systemd-container mmdebstrap)
for a in "$@"; do
        case "$a" in
        --bench) pkgs+=(ansible-core prometheus-blackbox-exporter) ;;
        --fuzz) pkgs+=(clang libclang-rt-14-dev) ;;
        *) echo "usage: $0 [--bench] [--fuzz]" >&2; exit 2 ;;
        esac
done

missing=()
for p in "${pkgs[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
        echo "install-deps: missing packages: ${missing[*]} (run as root)" >&2
        exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
