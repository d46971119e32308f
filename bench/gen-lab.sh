#!/usr/bin/env bash
# Writes a benchmark lab of N namespaces to stdout, in one of three shapes:
#   star  one bridge (10.200.0.1/16) in the host namespace; each namespace ns<i> has a veth
#         to it (host end v<i>), one address and a default route via the bridge. The same lab
#         as ../shared/bench/floor and the tutorials' ip script build; [[expect]]: up to
#         100 namespaces reach the bridge, ns1 reaches ns<N>.
#   chain ns1 - ns2 - ... - nsN, each joined to the next by a veth (a /30 each), forwarding
#         on, a default route down the chain.
#   network  the star as one [[network]] of N members: topologies/star-1000.toml with its
#         count set to N (what the same lab costs written at the high level).
#   tree  bridges in a tree of namespaces: ns1 holds the root bridge; every namespace i > 1
#         joins the bridge of its parent (i/2)'s namespace; one /16, no routes needed.
#   routed  N routers in a random connected graph (a random tree and N/2 more links, the
#         same graph every run), each link a [[link]] with its /31 and /127 from the pools,
#         routing = "static": topo computes every route (both families, multipath where
#         paths tie); [[expect]]: r1 reaches the others' first addresses (at most 100).
# Usage: bench/gen-lab.sh SHAPE N
set -euo pipefail
shape=${1:?usage: gen-lab.sh star|network|chain|tree|routed N}
n=${2:?usage: gen-lab.sh star|network|chain|tree|routed N}
[[ $n =~ ^[1-9][0-9]*$ ]] || { echo "gen-lab.sh: N is a number of namespaces (1 or more), not '$n'" >&2; exit 2; }
addr() { echo "10.200.$(($1 / 250)).$(($1 % 250 + 2))"; }  # the address of namespace $1 in a /16

case "$shape" in
star)
  printf 'lab = "star"\n\n[[bridge]]\nname = "br0"\naddresses = ["10.200.0.1/16"]\n'
  for ((i = 1; i <= n; i++)); do
    printf '\n[[netns]]\nname = "ns%d"\n[[veth]]\na = { netns = "ns%d", name = "eth0", addresses = ["%s/16"] }\nb = { name = "v%d", master = "br0" }\n[[route]]\nnetns = "ns%d"\nto = "default"\nvia = "10.200.0.1"\n' \
      "$i" "$i" "$(addr "$i")" "$i" "$i"
  done
  # What `topo test` checks: namespaces reach the bridge, and the first the last. At most
  # 100 of them: the kernel's neighbour tables are shared by all namespaces and hold 1024
  # entries by default (net.ipv4.neigh.default.gc_thresh3, a machine-wide setting), and
  # every probe across the bridge costs two.
  step=$(((n + 99) / 100))
  for ((i = 1; i <= n; i += step)); do
    printf '\n[[expect]]\nfrom = "ns%d"\nto = "host"\nreach = true\n' "$i"
  done
  printf '\n[[expect]]\nfrom = "ns1"\nto = "ns%d"\nreach = true\n' "$n"
  ;;
network)
  sed -E "s/^count = 1000$/count = $n/; s/\"ns1000\"/\"ns$n\"/" "$(dirname "$0")/../topologies/star-1000.toml"
  ;;
chain)
  # Link i joins ns<i> (10.X.Y.4i+1) and ns<i+1> (.4i+2) in 10.128.0.0/9 /30s.
  ip_at() { local k=$((4 * $1 + $2)); echo "10.$((128 + k / 65536)).$((k / 256 % 256)).$((k % 256))"; }
  printf 'lab = "chain"\n'
  for ((i = 1; i <= n; i++)); do
    printf '\n[[netns]]\nname = "ns%d"\nsysctl = { "net.ipv4.ip_forward" = 1 }\n' "$i"
  done
  for ((i = 1; i < n; i++)); do
    printf '\n[[veth]]\na = { netns = "ns%d", name = "right", addresses = ["%s/30"] }\nb = { netns = "ns%d", name = "left", addresses = ["%s/30"] }\n' \
      "$i" "$(ip_at "$i" 1)" "$((i + 1))" "$(ip_at "$i" 2)"
  done
  # A default route down the chain (towards ns<N>) in each namespace but the last: what a
  # chain of routers costs to build (traffic finds ns<N> from anywhere; the way back is not
  # routed, which the benchmark does not need).
  for ((i = 1; i < n; i++)); do
    printf '\n[[route]]\nnetns = "ns%d"\nto = "default"\nvia = "%s"\n' "$i" "$(ip_at "$i" 2)"
  done
  ;;
tree)
  printf 'lab = "tree"\n'
  for ((i = 1; i <= n; i++)); do
    printf '\n[[netns]]\nname = "ns%d"\n[[bridge]]\nname = "br%d"\nnetns = "ns%d"\naddresses = ["%s/16"]\n' \
      "$i" "$i" "$i" "$(addr "$i")"
  done
  for ((i = 2; i <= n; i++)); do
    printf '\n[[veth]]\na = { netns = "ns%d", name = "up", master = "br%d" }\nb = { netns = "ns%d", name = "d%d", master = "br%d" }\n' \
      "$i" "$i" "$((i / 2))" "$i" "$((i / 2))"
  done
  ;;
routed)
  printf 'lab = "routed"\nrouting = "static"\n\n[[netns]]\nname = "r"\ncount = %d\n' "$n"
  x=21  # a linear congruential generator: the same graph on every machine (awk's rand is not)
  rnd() { x=$(((x * 1103515245 + 12345) % 2147483648)); r=$((x / 65536 % $1)); }
  for ((i = 2; i <= n; i++)); do
    rnd $((i - 1))
    printf '\n[[link]]\nends = ["r%d", "r%d"]\n' $((r + 1)) "$i"
  done
  for ((k = 0; k < n / 2; k++)); do
    rnd "$n"; a=$((r + 1))
    rnd "$n"; b=$((r + 1))
    [[ $a == "$b" ]] || printf '\n[[link]]\nends = ["r%d", "r%d"]\n' "$a" "$b"
  done
  step=$(((n + 99) / 100))
  for ((i = 2; i <= n; i += step)); do
    printf '\n[[expect]]\nfrom = "r1"\nto = "r%d"\nreach = true\n' "$i"
  done
  ;;
*)
  echo "gen-lab.sh: unknown shape '$shape' (star, network, chain, tree or routed)" >&2
  exit 2
  ;;
esac
