#!/usr/bin/env bash
# topo against the ip script and the kernel's floor, in the same run. For each shape and
# size, in a fresh sandbox each (scripts/sandbox: nothing reaches the machine's network):
#   topo apply, topo plan on the applied lab (nothing to do), topo test (labs with
#   [[expect]]: the star), topo destroy, topo's max RSS;
#   the ip script (`topo plan --format shell` of the lab, run by bash) and its teardown
#   (ip netns del for each namespace, ip link del for each host link);
#   for the star, the floor: ../shared/bench/floor/floor.c, raw rtnetlink, built here.
# Between runs it waits for the CPUs to go idle: the kernel frees namespaces later, in the
# background, and that must not be billed to the next run.
# Usage: bench/run.sh [-s SHAPES] [-o CSV] [N...]      (default: -s star 10 100 1000)
#   FLOOR_DIR=dir  where floor.c is (default ../shared/bench/floor beside the clone)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
shapes=star
csv=bench/results.csv
while getopts "s:o:" opt; do
  case $opt in
  s) shapes=${OPTARG//,/ } ;;
  o) csv=$OPTARG ;;
  *) exit 2 ;;
  esac
done
shift $((OPTIND - 1))
sizes=("$@")
[[ ${#sizes[@]} -gt 0 ]] || sizes=(10 100 1000)

scripts/deps.sh >&2
dir=$(scripts/build.sh)
topo=$root/$dir/topo
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
settle() {  # until the CPUs are under 10% busy for 0.3 s (at most 20 s)
  local q=0 t=0 a b c d
  read -r b a < <(busy)
  while ((q < 3 && t < 200)); do
    sleep 0.1
    t=$((t + 1))
    read -r d c < <(busy)
    if (((d - b) * 10 < c - a)); then q=$((q + 1)); else q=0; fi
    a=$c b=$d
  done
}

export -f busy settle  # the sandboxes settle too: after a build, before timing its teardown

# One sandbox per measurement; prints "name seconds" lines.
measure_topo() {  # LAB
  scripts/sandbox bash -c '
    set -uo pipefail
    topo=$1 lab=$2
    t() {  # seconds "$@" takes; "fail" (and why, on stderr) when it fails
      local t0=$EPOCHREALTIME out
      if ! out=$("$@" 2>&1); then echo "bench: $* failed: ${out:0:2000}" >&2; echo fail; return; fi
      awk -v a="$t0" -v b="$EPOCHREALTIME" "BEGIN { printf \"%.3f\", b - a }"
    }
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
    t() {  # seconds "$@" takes; "fail" (and why, on stderr) when it fails
      local t0=$EPOCHREALTIME out
      if ! out=$("$@" 2>&1); then echo "bench: $* failed: ${out:0:2000}" >&2; echo fail; return; fi
      awk -v a="$t0" -v b="$EPOCHREALTIME" "BEGIN { printf \"%.3f\", b - a }"
    }
    echo "ip_build $(t bash "$1")"
    settle
    echo "ip_teardown $(t bash "$2")"
  ' bench "$1" "$2"
}

measure_floor() {  # N
  scripts/sandbox bash -c '
    set -uo pipefail
    t() {  # seconds "$@" takes; "fail" (and why, on stderr) when it fails
      local t0=$EPOCHREALTIME out
      if ! out=$("$@" 2>&1); then echo "bench: $* failed: ${out:0:2000}" >&2; echo fail; return; fi
      awk -v a="$t0" -v b="$EPOCHREALTIME" "BEGIN { printf \"%.3f\", b - a }"
    }
    echo "floor_build $(t "$1" "$2")"
    settle
    echo "floor_teardown $(t "$1" -d -t group "$2")"
  ' bench "$1" "$2"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a !~ /^[0-9.]+$/ || b !~ /^[0-9.]+$/ || b == 0) print "-"; else printf "%.2f", a / b }'; }

echo "shape,n,topo_apply_s,ip_build_s,floor_build_s,topo_plan_s,topo_test_s,topo_destroy_s,ip_teardown_s,floor_teardown_s,topo_rss_kib" > "$csv"
printf '%-6s %5s | %8s %8s %6s %8s %6s | %7s %7s | %8s %8s %6s %8s %6s | %7s\n' shape N \
  apply ip ratio floor ratio plan test destroy ip-down ratio floor ratio "RSS MiB"
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
    declare -A r=([apply]=- [plan]=- [test]=- [destroy]=- [rss_kib]=0 [ip_build]=- [ip_teardown]=-)
    settle
    while read -r k v; do r[$k]=$v; done < <(measure_topo "$lab")
    settle
    while read -r k v; do r[$k]=$v; done < <(measure_ip "$work/ip.sh" "$work/ip-down.sh")
    if [[ $shape == star && -n $floor ]]; then
      settle
      while read -r k v; do r[$k]=$v; done < <(measure_floor "$floor" "$n")
    fi
    echo "$shape,$n,${r[apply]},${r[ip_build]},${r[floor_build]:-},${r[plan]},${r[test]},${r[destroy]},${r[ip_teardown]},${r[floor_teardown]:-},${r[rss_kib]}" >> "$csv"
    printf '%-6s %5s | %8s %8s %6s %8s %6s | %7s %7s | %8s %8s %6s %8s %6s | %7s\n' "$shape" "$n" \
      "${r[apply]}" "${r[ip_build]}" "$(ratio "${r[apply]}" "${r[ip_build]}")" \
      "${r[floor_build]:--}" "$(ratio "${r[apply]}" "${r[floor_build]:-}")" "${r[plan]}" "${r[test]}" \
      "${r[destroy]}" "${r[ip_teardown]}" "$(ratio "${r[destroy]}" "${r[ip_teardown]}")" \
      "${r[floor_teardown]:--}" "$(ratio "${r[destroy]}" "${r[floor_teardown]:-}")" \
      "$(awk -v k="${r[rss_kib]}" 'BEGIN { printf "%.1f", k / 1024 }')"
    unset r
  done
done
echo "(seconds; ratio = topo / other, under 1 means topo is faster; CSV in $csv)"
