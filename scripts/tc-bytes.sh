#!/usr/bin/env bash
# Prints what `tc qdisc replace dev X root WORDS` sends the kernel, for each line of WORDS on
# stdin: "WORDS | HEX", HEX being the request's bytes after its netlink and tc headers (the
# kind and the options). strace shows the request whether or not this kernel has the kind.
# tests/qdisc_test.cpp compares topo's requests with a file of these (tests/qdisc/tc-bytes.txt,
# made by this script); a kernel test runs it again against the tc installed.
# Usage: scripts/tc-bytes.sh < words    (needs root, strace and tc; makes a throwaway namespace)
set -euo pipefail
exec unshare --net -- bash -c '
  set -euo pipefail
  ip link add tcb0 type veth peer name tcb1
  trace=$(mktemp)
  trap "rm -f $trace" EXIT
  while IFS= read -r words; do
    [ -n "$words" ] || continue
    # shellcheck disable=SC2086
    strace -f -e trace=sendmsg -e write=all -o "$trace" tc qdisc replace dev tcb0 root $words > /dev/null 2>&1 || true
    # The dump lines after the request: "PID | 00000  4c 00 ...  L...", 16 bytes each.
    hex=$(awk "/RTM_NEWQDISC/ { on = 1; next }
               on && /[|] [0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]  / { for (i = 1; i <= NF; i++) if (\$i ~ /^[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]\$/) break;
                                          for (j = i + 1; j <= i + 16 && j <= NF; j++)
                                            if (\$j ~ /^[0-9a-f][0-9a-f]\$/) printf \"%s\", \$j; next }
               on && /sendmsg|exited/ { exit }" "$trace" | cut -c73-)
    echo "$words | $hex"
  done
'
