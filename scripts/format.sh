#!/usr/bin/env bash
# Formats every C++ file git tracks with clang-format and .clang-format.
# Usage: scripts/format.sh [--check]   --check changes nothing, lists what is not formatted,
# and exits 1 if anything is (CI runs it).
set -euo pipefail
cd "$(dirname "$0")/.."

# Tracked files and new ones git does not ignore: a file not yet added is checked too.
mapfile -t files < <(git ls-files --cached --others --exclude-standard '*.cpp' '*.h')
if [[ "${1:-}" == "--check" ]]; then
  bad=()
  for f in "${files[@]}"; do
    clang-format --dry-run --Werror "$f" 2> /dev/null || bad+=("$f")
  done
  if [[ ${#bad[@]} -gt 0 ]]; then
    echo "format.sh: not formatted as .clang-format says (run scripts/format.sh): ${bad[*]}" >&2
    exit 1
  fi
  echo "format.sh: all ${#files[@]} C++ files are formatted"
else
  clang-format -i "${files[@]}"
fi
