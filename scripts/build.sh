#!/usr/bin/env bash
# Configures and builds topo and its tests. Usage: scripts/build.sh [--sanitize] [TARGET...]
# Plain builds go to build/, sanitizer builds (AddressSanitizer + UBSan) to build-asan/.
# With TARGETs (topo, topo_tests), only those and what they need are built. Prints the
# build directory on stdout; CMake's and the compiler's output go to stderr.
set -euo pipefail
cd "$(dirname "$0")/.."

dir=build
flags=(-DTOPO_WERROR=ON -DTOPO_TEST_HOOKS=ON)  # the test suite's build: release builds leave the hooks out
if [[ "${1:-}" == "--sanitize" ]]; then
  dir=build-asan
  flags+=(-DTOPO_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug)
  shift
fi
targets=()
for t in "$@"; do targets+=(--target "$t"); done
cmake -S . -B "$dir" "${flags[@]}" >&2
cmake --build "$dir" -j "$(nproc)" "${targets[@]}" >&2
echo "$dir"
