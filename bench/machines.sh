#!/usr/bin/env bash
# A lab over M simulated machines of N namespaces each (issue 23's scale run): one network
# spanning all of them (10.64.0.0/16, its gateway on m1), a ring of [[link]]s from each
# machine's last namespace to the next one's first, and P expectations between namespaces
# of two different machines, picked at random (seed 7). The machines are those of
# tests/machines.sh, in one sandbox: M network and mount namespaces on an underlay bridge.
# Every machine applies its slice at the same moment, then tests, then destroys; each step's
# wall time (the slowest machine's), the kernel memory the lab takes (MemAvailable and Slab
# of /proc/meminfo, applied against before), and whether every machine is clean after.
# Usage: bench/machines.sh [M [N [P]]]    (default 10 1000 200; needs root)
set -euo pipefail
m=${1:-10} n=${2:-1000} p=${3:-200}
here=$(cd "$(dirname "$0")/.." && pwd)
topo=${TOPO:-$here/build/topo}
lab=$(mktemp /tmp/topo-machines-lab.XXXXXX.toml)
trap 'rm -f "$lab"' EXIT
python3 - "$m" "$n" "$p" > "$lab" << 'EOF_PY'
import random, sys
m, n, p = (int(a) for a in sys.argv[1:4])
print('lab = "wide"\n')
for i in range(1, m + 1):
    print(f'[[machine]]\nname = "m{i}"\naddress = "192.0.2.{i}"\n')
print('[[network]]\nname = "front"\nsubnets = ["10.64.0.0/16"]\n')
for i in range(1, m + 1):
    print(f'[[netns]]\nname = "n{i}x"\ncount = {n}\nmachine = "m{i}"\nnetworks = ["front"]\n')
for i in range(1, m + 1):
    print(f'[[link]]\nends = ["n{i}x{n}", "n{i % m + 1}x1"]\n')
rnd = random.Random(7)
for _ in range(p):
    i, j = rnd.sample(range(1, m + 1), 2)
    print(f'[[expect]]\nfrom = "n{i}x{rnd.randint(1, n)}"\nto = "n{j}x{rnd.randint(1, n)}"\nreach = true\n')
EOF_PY
# One kernel here does the work of all the machines: a broadcast on the network reaches every
# member of every machine at once, on one CPU's backlog (net.core.netdev_max_backlog, 1000
# by default, which drops the rest). Real machines have a backlog each; the simulation gets
# one large enough for all, the machine's own setting, put back at the end. (topo raises it
# itself for a large segment of one machine, [host] limits, but not from inside a sandbox.)
backlog=/proc/sys/net/core/netdev_max_backlog
old_backlog=$(cat "$backlog")
trap 'rm -f "$lab"; echo "$old_backlog" > "$backlog"' EXIT
[[ $old_backlog -ge $((4 * m * n)) ]] || echo $((4 * m * n)) > "$backlog"
export topo lab m
"$here/scripts/sandbox" bash -c '
  set -euo pipefail
  source "'"$here"'/tests/machines.sh"
  trap machines_down EXIT
  machines_up "$m" > /dev/null
  meminfo() { awk "/^$1:/ { print \$2 }" /proc/meminfo; }
  # Every machine at once; the time is the slowest one'"'"'s, the exit status each one'"'"'s.
  all() {
    local i pids=() t=$EPOCHREALTIME failed=0
    for ((i = 1; i <= m; i++)); do on_machine "$i" "$topo" "$@" "$lab" > "/tmp/topo-machines-$i.out" 2>&1 & pids+=($!); done
    for i in "${!pids[@]}"; do wait "${pids[i]}" || { echo "m$((i + 1)): topo $1 failed:"; tail -5 "/tmp/topo-machines-$((i + 1)).out"; failed=1; }; done
    awk -v a="$t" -v b="$EPOCHREALTIME" -v what="$1" "BEGIN { printf \"%-8s %6.2f s\n\", what, b - a }"
    return $failed
  }
  avail=$(meminfo MemAvailable) slab=$(meminfo Slab)
  echo "machines $m, namespaces $((m * '"$n"')), expectations '"$p"'"
  all apply -q
  echo "memory   $(( (avail - $(meminfo MemAvailable)) / 1024 )) MiB taken, slab $(( ($(meminfo Slab) - slab) / 1024 )) MiB"
  all plan --detailed-exitcode
  all test -j 2 || true
  cat /tmp/topo-machines-*.out | grep -h "expectations:" | awk "{ held += \$3; all += \$1 } END { print \"reach    \" held \" of \" all \" held\" }"
  all destroy -q
  left=0
  for ((i = 1; i <= m; i++)); do
    [[ -z $(on_machine "$i" ip netns list) ]] || left=1
    [[ $(on_machine "$i" ip -o link | wc -l) -eq 2 ]] || left=1
  done
  rm -f /tmp/topo-machines-*.out
  [[ $left -eq 0 ]] && echo "clean    every machine has lo and eth0 alone" || { echo "left behind"; exit 1; }
'
