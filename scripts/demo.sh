#!/usr/bin/env bash
# README's demo command: installs what is missing, builds topo, and runs its main job on
# the bundled demo lab (topologies/bridge.toml, Docker's bridge mode) inside a throwaway
# sandbox, so that the machine's own network is never touched: validate, plan, apply, look
# at the result with ip and nft, plan again (nothing to do), destroy.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
dir=$(scripts/build.sh)
lab=${1:-topologies/bridge.toml}
topo="$PWD/$dir/topo"

scripts/sandbox bash -c '
  set -euo pipefail
  bin=$1 lab=$2
  topo() { "$bin" "$@"; }
  run() { echo; echo "\$ $*"; "$@"; }
  run topo validate "$lab"
  run topo plan "$lab"
  run topo apply "$lab"
  run ip -br link
  run ip netns
  for ns in $(ip netns | cut -d" " -f1); do run ip -n "$ns" -br addr; run ip -n "$ns" route; done
  run nft list ruleset
  run topo plan "$lab"
  run topo destroy "$lab"
  run ip -br link
  run ip netns
  run nft list ruleset' demo "$topo" "$lab"
