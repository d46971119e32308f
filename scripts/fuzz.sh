#!/usr/bin/env bash
# Builds the libFuzzer target (fuzz/fuzz_lab.cpp: parse, validate, plan and render on
# fixture kernels) with clang into build-fuzz/ and runs it for SECONDS (default 60), one
# job, from a working corpus seeded with topologies/ and tests/bad/. Exits non-zero on a
# crash, a sanitizer report, a broken invariant or a slow input; the input is kept in
# build-fuzz/findings/ (replay it: build-fuzz/fuzz/fuzz_lab FILE).
# Usage: scripts/fuzz.sh [SECONDS]    FUZZ_CORPUS=DIR keeps the working corpus in DIR.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
scripts/deps.sh
dir=build-fuzz
cmake -S . -B "$dir" -DCMAKE_CXX_COMPILER=clang++ -DTOPO_FUZZ=ON -DTOPO_WERROR=ON >&2
cmake --build "$dir" --target fuzz_lab -j "$(nproc)" >&2

corpus=${FUZZ_CORPUS:-}
if [[ -z "$corpus" ]]; then
  corpus=$(mktemp -d)
  trap 'rm -rf "$corpus"' EXIT
fi
mkdir -p "$corpus" "$dir/findings"
cp topologies/*.toml tests/bad/*.toml "$corpus"/

# -max_len: the largest example lab is 2 KiB; 64 KiB leaves room for deep nesting and long
# names while keeping each run fast (tests/huge_inputs_test.cpp covers the 8 MiB limit).
# -timeout: a lab of 64 KiB that takes 10 s is a finding too.
"$dir/fuzz/fuzz_lab" "$corpus" -dict=fuzz/lab.dict -max_len=65536 -timeout=10 \
  -rss_limit_mb=2048 -max_total_time="$seconds" -print_final_stats=1 \
  -artifact_prefix="$dir/findings/"
