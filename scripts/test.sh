#!/usr/bin/env bash
# The whole test suite: unit tests beside the code (src/**/*.test.ts) and tests against real
# components (test/**: the CLI on SQLite, a real etcd, several processes). Installs what it
# needs first (scripts/setup.sh). Ends with node:test's summary.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
mapfile -t files < <(find src test -name '*.test.ts' | sort)
echo "test: ${#files[@]} test files"
exec node --import tsx --test --test-concurrency=2 "${files[@]}"
