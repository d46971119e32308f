#!/usr/bin/env bash
# README's demo command: installs what is missing, builds topo, and runs its main job on
# the bundled demo lab (topologies/bridge.toml, Docker's bridge mode) inside a throwaway
# sandbox, so that the machine's own network is never touched: validate, plan, apply, look
# at the result with ip and nft, ping across it (web and db over the bridge, each to the
# host's bridge address, the host to a container), run the lab's own expectations with
# topo test, plan again (nothing to do), destroy.
# Only the lab's own addresses are pinged, inside the sandbox.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
# topo alone, not the test suite: a few minutes on 2 cores the first time, seconds after.
echo "building topo into build/ (a few minutes on 2 cores the first time; the compiler's output is in build/demo-build.log)..."
mkdir -p build
if ! dir=$(scripts/build.sh topo 2> build/demo-build.log); then
  tail -n 30 build/demo-build.log >&2
  echo "demo.sh: building topo failed; the whole log is build/demo-build.log" >&2
  exit 1
fi
echo "built $dir/topo. The demo runs in a throwaway network sandbox (scripts/sandbox)."
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
  if [[ $(basename "$lab") == bridge.toml ]]; then
    run ip netns exec web ping -c1 -W1 172.18.0.3   # web to db, across the bridge
    run ip netns exec db ping -c1 -W1 172.18.0.2    # db to web
    run ip netns exec web ping -c1 -W1 172.18.0.1   # web to its gateway, the host end of the bridge
    run ping -c1 -W1 172.18.0.3                     # the host to db, through its bridge
  fi
  run topo test "$lab"                              # the lab file'"'"'s own [[expect]] entries
  run topo plan "$lab"
  run topo destroy "$lab"
  run ip -br link
  run ip netns
  run nft list ruleset' demo "$topo" "$lab"
