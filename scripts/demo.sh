#!/usr/bin/env bash
# The main job: seed 000's story in the lab, on this machine. Three hosts running the tortie agent
# (two of them route reflectors, cluster id 224.0.0.1), a core switch (BIRD 2, iBGP AS 64512)
# peering with the reflectors, a VM on another subnet behind the switch, pods attached through the
# CNI plugin — all in network namespaces. The seed's YAML is applied, then what the seed shows:
# the BGP peers, `node status` on a reflector, the switch's routes (every pod block and the
# service range), and the VM reaching a pod. The lab stays up for exploring; the last lines say
# how to take it down. Installs what it needs first (scripts/setup.sh). Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >&2
LAB=${LAB:-seed-000}
DIR=/var/run/tortie/lab/$LAB
tortie() { node bin/tortie.js "$@"; }
step() { printf '\n$ tortie %s\n' "$*"; tortie "$@"; }

step lab up seed-000 --name "$LAB" --replace
export DATASTORE_TYPE=sqlite SQLITE_PATH=$DIR/tortie.db
step get bgppeer -o wide
step get node -o wide
step node status --run-dir "$DIR/k8s-test-master-1/run"
step lab status "$LAB"
step lab ping --name "$LAB" vm1 web-1
step lab ping --name "$LAB" vm1 dns-1
cat <<EOT

The lab is still up. Try:
  sudo node bin/tortie.js lab exec --name $LAB node1 -- ip route
  sudo node bin/tortie.js lab exec --name $LAB core-switch -- birdc -s $DIR/core-switch/bird.ctl show route
  sudo DATASTORE_TYPE=sqlite SQLITE_PATH=$DIR/tortie.db node bin/tortie.js ipam show --show-blocks
Take it down with:
  sudo node bin/tortie.js lab down $LAB
EOT
