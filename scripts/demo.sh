#!/usr/bin/env bash
# README's demo command: installs what is missing, builds topo, and runs its main job on
# the bundled demo lab (topologies/bridge.toml, Docker's bridge mode) inside a throwaway
# sandbox, so that the machine's own network is never touched.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
dir=$(scripts/build.sh)
lab=${1:-topologies/bridge.toml}
topo="$PWD/$dir/topo"

scripts/sandbox bash -c '
  set -euo pipefail
  echo "\$ topo validate $2"
  "$1" validate "$2"
  echo
  echo "\$ topo graph $2"
  "$1" graph "$2"' demo "$topo" "$lab"
