#!/usr/bin/env bash
# README's test command: installs what is missing, builds, and runs every test through
# ctest. Usage: scripts/test.sh [--sanitize]   (--sanitize: under ASan + UBSan)
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
dir=$(scripts/build.sh "$@")
# Under the sanitizers, the tests that run topo as hundreds of processes, or time it, run in
# the plain pass only (CI runs both): evolve (random labs and edits), topo on every bad input
# (the parser and validator run under the sanitizers in-process, in the unit tier, and in the
# fuzzer), the 20 parallel rounds of two labs, the 20 kills, the bench. Under ASan they took
# 5.5 of its 8.3 minutes.
skip=()
slow='^(evolve|kernel: apply and destroy of every bad input|topo validate exits 1 on every bad input|'
slow+='kernel: two labs applied and destroyed in parallel 20 times|kernel: SIGKILL at 20 random steps|'
slow+='kernel: bench/run.sh measures)'
if [[ "${1:-}" == "--sanitize" ]]; then skip=(-E "$slow"); fi
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
log=$(mktemp)
trap 'rm -f "$log"' EXIT
ctest --test-dir "$dir" --output-on-failure -j "$(nproc)" "${skip[@]}" | tee "$log"

# Every test case the binary has must have run, each as one ctest test: a name that ctest's
# discovery splits (a ';' in it) runs nothing and passes. --list-test-names-only exits with
# the number of names, so its status says nothing.
# The tests that are not topo_tests' cases (evolve) are labelled "script".
# Those the sanitizer pass leaves to the plain one are counted apart.
listed=$({ "$dir/tests/topo_tests" --list-test-names-only || true; } | grep -c .)
others=$(ctest --test-dir "$dir" -N -L '^script$' "${skip[@]}" | sed -n 's/^Total Tests: //p')
left=0
if [[ ${#skip[@]} -gt 0 ]]; then
  left=$(ctest --test-dir "$dir" -N -LE '^script$' -R "$slow" | sed -n 's/^Total Tests: //p')
fi
ran=$(sed -n 's/.* tests failed out of \([0-9]*\)$/\1/p' "$log")
ran=$((${ran:-0} - ${others:-0}))
if [[ "$listed" -eq 0 || $((ran + left)) != "$listed" ]]; then
  echo "test.sh: topo_tests lists $listed test cases but ctest ran $ran of them (and left $left to the plain pass): a test name does not reach ctest whole" >&2
  exit 1
fi
if [[ $left -gt 0 ]]; then
  echo "test.sh: ctest ran $ran of the $listed test cases of topo_tests; the other $left run in the plain pass"
else
  echo "test.sh: ctest ran all $listed test cases of topo_tests"
fi

# The unit tier needs no root: it must pass as a user who has none (nobody), as a
# contributor without root runs it (ctest -L unit). Run here through the binary, whose
# build directory that user can read but not write.
if ! runuser -u nobody -- test -x "$PWD/$dir/tests/topo_tests" 2> /dev/null; then
  echo "test.sh: the unit tier was not run as nobody: $PWD is not open to that user"
else
  runuser -u nobody -- "$PWD/$dir/tests/topo_tests" "~[kernel]" > "$log" 2>&1 || { cat "$log" >&2; exit 1; }
  echo "test.sh: the unit tier passes as nobody: $(grep -E "^All tests passed" "$log" | tail -n 1)"
fi
