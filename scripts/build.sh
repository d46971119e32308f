#!/usr/bin/env bash
# Configures and builds topo and its tests. Usage: scripts/build.sh [--sanitize]
# Plain builds go to build/, sanitizer builds (AddressSanitizer + UBSan) to build-asan/.
set -euo pipefail
cd "$(dirname "$0")/.."

dir=build
flags=(-DTOPO_WERROR=ON)
if [[ "${1:-}" == "--sanitize" ]]; then
  dir=build-asan
  flags+=(-DTOPO_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug)
fi
cmake -S . -B "$dir" "${flags[@]}" >&2
cmake --build "$dir" -j "$(nproc)" >&2
echo "$dir"
