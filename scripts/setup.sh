#!/usr/bin/env bash
# Installs what tortie needs on a fresh Debian machine, and nothing twice:
# Debian packages (etcd for the datastore tests), npm dependencies with the native
# better-sqlite3 build (approved in package.json "allowScripts"), and the compiled dist/.
# Safe to repeat: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(etcd-server etcd-client)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "setup: installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
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
