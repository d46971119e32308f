#!/usr/bin/env bash
# README's test command: installs what is missing, builds, and runs every test through
# ctest. Usage: scripts/test.sh [--sanitize]   (--sanitize: under ASan + UBSan)
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
dir=$(scripts/build.sh "$@")
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --test-dir "$dir" --output-on-failure -j "$(nproc)"
