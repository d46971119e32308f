#!/usr/bin/env bash
# topo against the ip script and the kernel's floor, in the same run. For each shape and
# size, in a fresh sandbox each (scripts/sandbox: nothing reaches the machine's network):
#   topo apply, topo plan on the applied lab (nothing to do), topo test (labs with
#   [[expect]]: the star), topo destroy, topo's max RSS;
#   the ip script (`topo plan --format shell` of the lab, run by bash) and its teardown
#   (ip netns del for each namespace, ip link del for each host link);
#   for the star, the floor: ../shared/bench/floor/floor.c, raw rtnetlink, built here, run
#   until its lab forwards (measure_floor says how).
# Between runs it waits for the CPUs to go idle: the kernel frees namespaces later, in the
# background, and that must not be billed to the next run.
# Usage: bench/run.sh [-s SHAPES] [-o CSV] [-r RUNS] [N...]   (default: -s star -r 1 10 100 1000)
#   -r RUNS  measure each size RUNS times (fresh sandboxes each) and print the medians; the
#            CSV keeps every run. A 2-core VM varies by 20% run to run: use 3 or more when
#            comparing.
#   FLOOR_DIR=dir  where floor.c is (default ../shared/bench/floor beside the clone)
#   TOPO_BIN=path  time this topo; deps and build are left alone
#   BENCH_NO_SETTLE=1  do not wait for idle CPUs between figures (the suite's smoke test,
#                  which runs beside other tests: the figures are then not worth reading)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
shapes=star
csv=bench/results.csv
runs=1
while getopts "s:o:r:" opt; do
  case $opt in
  s) shapes=${OPTARG//,/ } ;;
  o) csv=$OPTARG ;;
  r) runs=$OPTARG ;;
  *) exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "bench: -r takes a number of runs (1 or more)" >&2; exit 2; }
sizes=("$@")
[[ ${#sizes[@]} -gt 0 ]] || sizes=(10 100 1000)
for n in "${sizes[@]}"; do  # options go before the sizes (getopts stops at the first size)
  [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "bench: '$n' is not a size (options go before the sizes)" >&2; exit 2; }
done

if [[ -n ${TOPO_BIN:-} ]]; then  # a topo already built (the suite's smoke test): no set-up
  topo=$(realpath "$TOPO_BIN")
else
  scripts/deps.sh >&2
  dir=$(scripts/build.sh)
  topo=$root/$dir/topo
fi
work=$(mktemp -d /tmp/topo-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT

floor_dir=${FLOOR_DIR:-$root/../shared/bench/floor}
floor=""
if [[ -f $floor_dir/floor.c ]]; then
  gcc -O2 -Wall -o "$work/floor" "$floor_dir/floor.c" -lmnl && floor=$work/floor
else
  echo "bench: no floor.c in $floor_dir: the floor column stays empty" >&2
fi

# Seconds the machine's CPUs are busy, summed, and in all: for settle().
busy() { local u n s i w x y z; read -r _ u n s i w x y z _ </proc/stat; echo $((u + n + s + x + y)) $((u + n + s + i + w + x + y + z)); }
# Until the CPUs are under 10% busy for 0.3 s, then until the kernel has no dead namespace
# left to reap (at most 20 s each). It reaps them (a teardown's, a sandbox's) on a worker of
# its "netns" workqueue, sleeping on RCU grace periods with its rtnl lock held: the CPUs look
# idle, and the next figure's first request waited seconds for it (after a 100-namespace
# tree, 1.8 s). While the worker runs, its name ends in "+netns".
settle() {
  [[ -n ${BENCH_NO_SETTLE:-} ]] && return
  local q=0 t=0 a b c d
  read -r b a < <(busy)
  while ((q < 3 && t < 200)); do
    sleep 0.1
    t=$((t + 1))
    read -r d c < <(busy)
    if (((d - b) * 10 < c - a)); then q=$((q + 1)); else q=0; fi
    a=$c b=$d
  done
  for ((t = 0; t < 200; t++)); do
    grep -qs -- '+netns' /proc/[0-9]*/comm || break
    sleep 0.1
  done
}

# Seconds "$@" takes; "fail" (and why, on stderr) when it fails.
t() {
  local t0=$EPOCHREALTIME out
  if ! out=$("$@" 2>&1); then echo "bench: $* failed: ${out:0:2000}" >&2; echo fail; return; fi
  awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }'
}

export -f busy settle t  # the sandboxes time and settle too: after a build, before its teardown

# One sandbox per measurement; prints "name seconds" lines.
measure_topo() {  # LAB
  scripts/sandbox bash -c '
    set -uo pipefail
    topo=$1 lab=$2
    echo "apply $(t "$topo" apply -q "$lab")"
    settle
    echo "plan $(t "$topo" plan --detailed-exitcode "$lab")"
    if grep -q "^\[\[expect\]\]" "$lab"; then settle; echo "test $(t "$topo" test "$lab")"; fi
    /usr/bin/time -o /run/rss -f "%M" "$topo" plan "$lab" > /dev/null || true
    rss=$(cat /run/rss)
    settle
    echo "destroy $(t "$topo" destroy -q "$lab")"
    echo "rss_kib $rss"
  ' bench "$topo" "$1"
}

measure_ip() {  # SCRIPT TEARDOWN
  scripts/sandbox bash -c '
    set -uo pipefail
    echo "ip_build $(t bash "$1")"
    settle
    echo "ip_teardown $(t bash "$2")"
  ' bench "$1" "$2"
}

# The floor runs with -o: each namespace's eth0 comes up before its bridge port, so that a
# port forwards the moment it is up, as topo's do when apply returns. In its default order
# the ports get carrier later, through the kernel's linkwatch (100 links a run, a run a
# second), and the floor's process waits seconds for them to forward: not a cost of building.
measure_floor() {  # N
  scripts/sandbox bash -c '
    set -uo pipefail
    echo "floor_build $(t "$1" -o "$2")"
    settle
    echo "floor_teardown $(t "$1" -d -t group "$2")"
  ' bench "$1" "$2"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a !~ /^[0-9.]+$/ || b !~ /^[0-9.]+$/ || b == 0) print "-"; else printf "%.2f", a / b }'; }
# The median of the numbers among the arguments ("-" when none: every run failed).
# (grep finds nothing for a figure a shape has not, such as the floor of a chain: not a failure.)
median() { printf '%s\n' "$@" | { grep -E '^[0-9.]+$' || true; } | sort -g | awk '{ v[NR] = $1 } END { if (!NR) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

keys=(apply ip_build floor_build plan test destroy ip_teardown floor_teardown rss_kib)
echo "shape,n,run,topo_apply_s,ip_build_s,floor_build_s,topo_plan_s,topo_test_s,topo_destroy_s,ip_teardown_s,floor_teardown_s,topo_rss_kib" > "$csv"
printf '%-6s %5s | %8s %8s %6s %8s %6s | %7s %7s | %8s %8s %6s %8s %6s | %7s\n' shape N \
  apply ip ratio floor ratio plan test destroy ip-down ratio floor ratio "RSS MiB"
declare -A med  # "shape n key" -> the median over the runs
for shape in $shapes; do
  for n in "${sizes[@]}"; do
    lab=$work/$shape-$n.toml
    bench/gen-lab.sh "$shape" "$n" > "$lab"
    # The ip script: what plan --format shell prints for an empty machine, and a teardown
    # that deletes each namespace, then each host link by name (as the tutorials do).
    scripts/sandbox "$topo" plan --format shell "$lab" > "$work/ip.sh"
    { echo "set -e"
      { grep -oE '^ip netns add \S+' "$work/ip.sh" || true; } | sed 's/ add / delete /'
      # A veth's host end may be gone with its namespace already.
      { grep -oE '^ip link add name \S+' "$work/ip.sh" || true; } | sed 's/ add name / del dev /; s/$/ 2> \/dev\/null || true/'
    } > "$work/ip-down.sh"
    declare -A all=()  # key -> the runs' figures
    for ((run = 1; run <= runs; run++)); do
      declare -A r=([apply]=- [plan]=- [test]=- [destroy]=- [rss_kib]=- [ip_build]=- [ip_teardown]=- [floor_build]=- [floor_teardown]=-)
      settle
      while read -r k v; do r[$k]=$v; done < <(measure_topo "$lab")
      settle
      while read -r k v; do r[$k]=$v; done < <(measure_ip "$work/ip.sh" "$work/ip-down.sh")
      if [[ $shape == star && -n $floor ]]; then
        settle
        while read -r k v; do r[$k]=$v; done < <(measure_floor "$floor" "$n")
      fi
      row="$shape,$n,$run"
      for k in "${keys[@]}"; do
        all[$k]+=" ${r[$k]}"
        row+=",${r[$k]/-/}"
      done
      echo "$row" >> "$csv"
      unset r
    done
    declare -A m=()
    for k in "${keys[@]}"; do
      # shellcheck disable=SC2086  # the runs' figures, one word each
      m[$k]=$(median ${all[$k]})
      med["$shape $n $k"]=${m[$k]}
    done
    printf '%-6s %5s | %8s %8s %6s %8s %6s | %7s %7s | %8s %8s %6s %8s %6s | %7s\n' "$shape" "$n" \
      "${m[apply]}" "${m[ip_build]}" "$(ratio "${m[apply]}" "${m[ip_build]}")" \
      "${m[floor_build]}" "$(ratio "${m[apply]}" "${m[floor_build]}")" "${m[plan]}" "${m[test]}" \
      "${m[destroy]}" "${m[ip_teardown]}" "$(ratio "${m[destroy]}" "${m[ip_teardown]}")" \
      "${m[floor_teardown]}" "$(ratio "${m[destroy]}" "${m[floor_teardown]}")" \
      "$(awk -v k="${m[rss_kib]}" 'BEGIN { if (k ~ /^[0-9.]+$/) printf "%.1f", k / 1024; else print "-" }')"
    unset all m
  done
done
echo "(seconds, the median of $runs run(s) each; ratio = topo / other, under 1 means topo is faster;"
echo " every run in $csv)"
# How the cost of one namespace grows with the lab: the build's seconds per namespace at
# each size over those at the size before (1 is linear; the target is at most 1.5).
if ((${#sizes[@]} > 1)); then
  echo
  echo "per-namespace build cost, each size against the one before (1.00 = linear):"
  for shape in $shapes; do
    for ((i = 1; i < ${#sizes[@]}; i++)); do
      a=${sizes[i - 1]} b=${sizes[i]}
      line=$(printf '%-6s N=%s vs N=%s:' "$shape" "$b" "$a")
      for k in apply ip_build floor_build; do
        x=${med["$shape $b $k"]} y=${med["$shape $a $k"]}
        [[ $x == - || $y == - ]] && continue
        line+=$(awk -v x="$x" -v y="$y" -v a="$a" -v b="$b" -v k="${k%_build}" \
          'BEGIN { printf "  %s %.2f", (k == "apply" ? "topo" : k), (x / b) / (y / a) }')
      done
      echo "$line"
    done
  done
fi
