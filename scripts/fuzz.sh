#!/usr/bin/env bash
# Builds the libFuzzer targets with clang into build-fuzz/ and runs each, one job, for its
# share of SECONDS (default 60): fuzz_lab (fuzz/fuzz_lab.cpp: any bytes as a lab file, parsed,
# validated, planned on fixture kernels) for half, from a working corpus seeded with
# topologies/ and tests/bad/; then fuzz_state (fuzz/fuzz_state.cpp: any bytes as the
# kernel's netlink answers to the state reader, and as nftables rules) for the rest, from
# the corpus fuzz_state_seeds writes. Both run whatever the first finds; the exit is
# non-zero if either found a crash, a sanitizer report, a broken invariant or a slow input,
# which is kept in build-fuzz/findings/ (replay it: build-fuzz/fuzz/TARGET FILE).
# Usage: scripts/fuzz.sh [SECONDS]    FUZZ_CORPUS=DIR keeps the working corpora in DIR/lab
# and DIR/state.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
scripts/deps.sh
dir=build-fuzz
cmake -S . -B "$dir" -DCMAKE_CXX_COMPILER=clang++ -DTOPO_FUZZ=ON -DTOPO_WERROR=ON >&2
cmake --build "$dir" --target fuzz_lab fuzz_state fuzz_state_seeds -j "$(nproc)" >&2

corpus=${FUZZ_CORPUS:-}
if [[ -z "$corpus" ]]; then
  corpus=$(mktemp -d)
  trap 'rm -rf "$corpus"' EXIT
fi
mkdir -p "$corpus/lab" "$corpus/state" "$dir/findings"
cp topologies/*.toml tests/bad/*.toml "$corpus/lab"/
"$dir/fuzz/fuzz_state_seeds" "$corpus/state"

lab_seconds=$(((seconds + 1) / 2))
state_seconds=$((seconds - lab_seconds))
(( state_seconds > 0 )) || state_seconds=1
failed=0
# A run that outlives its time by two minutes is killed, and fails: libFuzzer's handler for
# a slow input can deadlock in the sanitizer's allocator when the input is allocating (as
# libnl's endless multipath walk was), and would otherwise hang CI.
limit() { timeout -k 10 $(($1 + 120)) "${@:2}"; }

# -max_len: the largest example lab is 2 KiB; 64 KiB leaves room for deep nesting and long
# names while keeping each run fast (tests/huge_inputs_test.cpp covers the 8 MiB limit).
# -timeout: a lab of 64 KiB that takes 10 s is a finding too.
limit "$lab_seconds" "$dir/fuzz/fuzz_lab" "$corpus/lab" -dict=fuzz/lab.dict -max_len=65536 -timeout=10 \
  -rss_limit_mb=2048 -max_total_time="$lab_seconds" -print_final_stats=1 \
  -artifact_prefix="$dir/findings/" || failed=1

# -max_len: a whole seed answer is under 2 KiB; a kernel's read is at most 32 KiB.
limit "$state_seconds" "$dir/fuzz/fuzz_state" "$corpus/state" -max_len=32768 -timeout=10 \
  -rss_limit_mb=2048 -max_total_time="$state_seconds" -print_final_stats=1 \
  -artifact_prefix="$dir/findings/" || failed=1

exit "$failed"
