#!/usr/bin/env bash
# The main job: the seeds' configuration applied to tortie's embedded datastore, and the
# tables calicoctl users know printed back. Installs what it needs first.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >&2
exec node dist/cli/demo.js "$@"
