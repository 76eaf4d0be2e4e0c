#!/usr/bin/env bash
# Installs what tortie needs on a fresh Debian machine, and nothing twice:
# Debian packages (etcd for the datastore tests; BIRD 2, FRR, GoBGP, ExaBGP, iproute2, tcpdump,
# ping for the BGP interop tests; nftables and procps (sysctl) for the agent), BIRD 1.6 unpacked beside BIRD 2 in /opt/bird16 (the "bird"
# and "bird2" packages conflict), npm dependencies with the native better-sqlite3 build
# (approved in package.json "allowScripts"), and the compiled dist/.
# Safe to repeat: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
apt_updated=""
apt_update() {
  [ -n "$apt_updated" ] || { $SUDO apt-get update -qq; apt_updated=1; }
}

PKGS=(etcd-server etcd-client bird2 frr gobgpd exabgp iproute2 tcpdump iputils-ping nftables procps)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  apt_update
  # The daemons are only ever started by the tests, inside their own network namespaces: keep
  # the packages' services from starting in the root namespace during the install (policy-rc.d
  # "101 = action forbidden"), unless the machine already has a policy of its own.
  policy=/usr/sbin/policy-rc.d
  own_policy=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
    $SUDO chmod 755 "$policy"
    own_policy=1
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null || {
    [ -z "$own_policy" ] || $SUDO rm -f "$policy"
    exit 1
  }
  [ -z "$own_policy" ] || $SUDO rm -f "$policy"
fi

# BIRD 1.6 (Debian package "bird") conflicts with bird2: unpack it with dpkg -x instead of
# installing it; its libraries are already there through bird2.
if [ ! -x /opt/bird16/usr/sbin/bird ] || [ ! -x /opt/bird16/usr/sbin/bird6 ]; then
  echo "setup: unpacking BIRD 1.6 into /opt/bird16"
  apt_update
  tmp=$(mktemp -d)
  # Sandbox user root: apt's _apt user cannot write into a private mktemp dir (warning otherwise).
  (cd "$tmp" && apt-get download -qq -o APT::Sandbox::User=root bird >/dev/null)
  $SUDO dpkg -x "$tmp"/bird_*.deb /opt/bird16
  rm -rf "$tmp"
  /opt/bird16/usr/sbin/bird --version 2>&1 | grep -q 'BIRD version 1\.' || { echo "setup: /opt/bird16 bird is not BIRD 1.x" >&2; exit 1; }
fi

# npm ci only when the lockfile changed since the last install (it rebuilds better-sqlite3,
# about a minute).
stamp=node_modules/.tortie-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi

echo "setup: building dist/"
npm run --silent build
