#!/usr/bin/env bash
# Installs what tortie needs on a fresh Debian machine, and nothing twice:
# Debian packages (etcd for the datastore tests; BIRD 2, FRR, GoBGP, ExaBGP, iproute2, tcpdump,
# ping for the BGP interop tests; nftables and procps (sysctl) for the agent; podman + runc, the
# reference CNI plugins, busybox-static (offline container rootfs), Go + Debian's libcni source for
# the CNI runtime tests), BIRD 1.6 unpacked beside BIRD 2 in /opt/bird16 (the "bird"
# and "bird2" packages conflict), npm dependencies with the native better-sqlite3 build
# (approved in package.json "allowScripts"), the compiled dist/, and the small libcni client of
# test/fixtures/cni/cniclient (node_modules/.cache/tortie/cni/).
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
# CNI runtime tests (test/helpers/cni-runtime.ts): podman 4.3 with its CNI backend needs runc here
# (crun fails on this cgroup v1/v2 hybrid); containernetworking-plugins = /usr/lib/cni reference
# plugins (portmap needs iptables); busybox-static is the offline container rootfs; golang-go and
# golang-github-appc-cni-dev build the libcni client offline (GOPATH mode, no module download).
PKGS+=(podman runc containernetworking-plugins iptables util-linux busybox-static golang-go golang-github-appc-cni-dev)
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

# tortie's native addons (native/, a linked "file:" dependency: TCP MD5 signatures and synchronous
# rtnetlink route requests): npm ci does not build them (npm 11 runs no gyp step for links), so build
# them here with npm's own node-gyp, offline (headers from npm's nodedir), in about a second, whenever
# one is missing or older than the sources.
native_stale=
for out in native/build/Release/tortie_tcp_md5.node native/build/Release/tortie_rtnl.node; do
  for src in native/tcp_md5.c native/rtnl.c native/common.h native/binding.gyp; do
    if [ ! -f "$out" ] || [ "$src" -nt "$out" ]; then native_stale=1; fi
  done
done
if [ -n "$native_stale" ]; then
  echo "setup: building the native addons"
  gyp=$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js
  nodedir=$(npm config get nodedir 2>/dev/null || true)
  if ! (cd native && node "$gyp" rebuild ${nodedir:+--nodedir="$nodedir"}) > native/build.log 2>&1 ||
    [ ! -f native/build/Release/tortie_tcp_md5.node ] || [ ! -f native/build/Release/tortie_rtnl.node ]; then
    cat native/build.log >&2
    echo "setup: the native addons did not build" >&2
    exit 1
  fi
fi

# The libcni client for the CNI runtime tests, rebuilt only when its source changes (the test
# helper builds it the same way when it is missing). Offline: GOPATH mode on Debian's gocode tree.
cni_cache=$PWD/node_modules/.cache/tortie/cni
cni_src=test/fixtures/cni/cniclient
cni_want=$(sha256sum "$cni_src/main.go" | cut -d' ' -f1)
if [ ! -x "$cni_cache/cniclient" ] || [ "$(cat "$cni_cache/cniclient.sha256" 2>/dev/null)" != "$cni_want" ]; then
  echo "setup: building the libcni client ($cni_cache/cniclient)"
  mkdir -p "$cni_cache"
  (cd "$cni_src" && GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE="$cni_cache/gocache" GOFLAGS= \
    CGO_ENABLED=0 go build -o "$cni_cache/cniclient.tmp" .)
  mv "$cni_cache/cniclient.tmp" "$cni_cache/cniclient"
  echo "$cni_want" > "$cni_cache/cniclient.sha256"
fi

echo "setup: building dist/"
npm run --silent build
