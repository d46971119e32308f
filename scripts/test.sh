#!/usr/bin/env bash
# README's test command: installs what is missing, builds, and runs every test through
# ctest. Usage: scripts/test.sh [--sanitize]   (--sanitize: under ASan + UBSan)
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
dir=$(scripts/build.sh "$@")
# evolve (random labs and edits, ~1 min plain) runs in the plain pass only: under the
# sanitizers it takes several minutes, and CI runs both passes.
skip=()
if [[ "${1:-}" == "--sanitize" ]]; then skip=(-E '^evolve$'); fi
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
log=$(mktemp)
trap 'rm -f "$log"' EXIT
ctest --test-dir "$dir" --output-on-failure -j "$(nproc)" "${skip[@]}" | tee "$log"

# Every test case the binary has must have run, each as one ctest test: a name that ctest's
# discovery splits (a ';' in it) runs nothing and passes. --list-test-names-only exits with
# the number of names, so its status says nothing.
# The tests that are not topo_tests' cases (evolve) are labelled "script".
listed=$({ "$dir/tests/topo_tests" --list-test-names-only || true; } | grep -c .)
others=$(ctest --test-dir "$dir" -N -L '^script$' "${skip[@]}" | sed -n 's/^Total Tests: //p')
ran=$(sed -n 's/.* tests failed out of \([0-9]*\)$/\1/p' "$log")
ran=$((${ran:-0} - ${others:-0}))
if [[ "$listed" -eq 0 || "$ran" != "$listed" ]]; then
  echo "test.sh: topo_tests lists $listed test cases but ctest ran $ran of them: a test name does not reach ctest whole" >&2
  exit 1
fi
echo "test.sh: ctest ran all $listed test cases of topo_tests"

# The unit tier needs no root: it must pass as a user who has none (nobody), as a
# contributor without root runs it (ctest -L unit). Run here through the binary, whose
# build directory that user can read but not write.
if ! runuser -u nobody -- test -x "$PWD/$dir/tests/topo_tests" 2> /dev/null; then
  echo "test.sh: the unit tier was not run as nobody: $PWD is not open to that user"
else
  runuser -u nobody -- "$PWD/$dir/tests/topo_tests" "~[kernel]" > "$log" 2>&1 || { cat "$log" >&2; exit 1; }
  echo "test.sh: the unit tier passes as nobody: $(grep -E "^All tests passed" "$log" | tail -n 1)"
fi
