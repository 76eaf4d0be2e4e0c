#!/usr/bin/env bash
# The whole test suite: unit tests beside the code (src/**/*.test.ts) and tests against real
# components (test/**: the CLI on SQLite, a real etcd, several processes). Installs what it
# needs first (scripts/setup.sh). Last comes test/zz-last/leftovers.check.ts: it waits for every
# other file, then fails on any namespace, process, interface or file the run left behind,
# compared with a baseline snapshot taken here just before the tests. Ends with node:test's summary.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
mapfile -t files < <(find src test -name '*.test.ts' | sort)
files+=(test/zz-last/leftovers.check.ts)
echo "test: ${#files[@]} test files"
# The baseline's path is also the run's marker: processes the tests start inherit it.
TORTIE_LEFTOVER_BASELINE=$(mktemp "${TMPDIR:-/tmp}/tortie-leftovers-XXXXXX.json")
export TORTIE_LEFTOVER_BASELINE
node --import tsx test/helpers/leftovers.ts snapshot "$TORTIE_LEFTOVER_BASELINE"
exec node --import tsx --test --test-concurrency=2 "${files[@]}"
