#!/usr/bin/env bash
# deploy/ansible/lab.yml run as a user runs it, on three simulated machines reached over ssh
# (tests/machines.sh): state=present applies and tests the lab on each, a second run has
# nothing to change, state=absent leaves each machine as it was. Each machine's kernel is
# checked with ip after each.
# Usage, inside scripts/sandbox: tests/ansible_test.sh TOPO_BINARY LAB_FILE
set -euo pipefail
if [[ $# -ne 2 ]]; then
  echo "usage: $0 TOPO_BINARY LAB_FILE" >&2
  exit 2
fi
for tool in ansible-playbook /usr/sbin/sshd; do
  if ! command -v "$tool" > /dev/null; then
    echo "SKIPPED: no $tool (scripts/deps.sh installs it)"
    exit 0
  fi
done
topo=$(realpath "$1") lab=$(realpath "$2")
cd "$(dirname "$0")/.."
source tests/machines.sh

failed=0
fail() {
  echo "FAIL: $*"
  failed=1
}
took() { awk -v from="$1" -v to="$EPOCHREALTIME" -v what="$2" 'BEGIN { printf "(%s: %.1f s)\n", what, to - from }'; }
# lab_dir under /run: the machines share the rest of the files, /etc too, which is this
# machine's own; /run is each one's. The recap is shown, the whole log on a failure.
playbook() {
  local t=$EPOCHREALTIME
  ansible-playbook -i "$inventory" deploy/ansible/lab.yml -e "lab_file=$lab" -e "topo=$topo" \
    -e lab_dir=/run/topo-lab "$@" > "$MACHINES_DIR/playbook.log" 2>&1 || { cat "$MACHINES_DIR/playbook.log"; return 1; }
  sed -n '/^PLAY RECAP/,$p' "$MACHINES_DIR/playbook.log" | grep .
  took "$t" playbook
}
# What machine I has besides lo and eth0: its namespaces, then its other links.
lab_on() {
  on_machine "$1" ip netns list | cut -d' ' -f1
  on_machine "$1" ip -o link | awk -F': ' '{ sub(/@.*/, "", $2); if ($2 != "lo" && $2 != "eth0") print $2 }'
}

trap machines_down EXIT
t=$EPOCHREALTIME
machines_up 3
took "$t" "3 machines"
t=$EPOCHREALTIME
machines_sshd
took "$t" "their sshd"
inventory=$MACHINES_DIR/inventory
"$topo" machines --format ansible "$lab" > "$inventory"
# The lab's machines, as tests/machines.sh numbers them: 192.0.2.I is machine I.
mapfile -t lab_machines < <(sed -n 's/.*ansible_host=192\.0\.2\.\([0-9]*\).*/\1/p' "$inventory")
echo "inventory: machines ${lab_machines[*]}"

echo "== state=present: apply on every machine, then test on every machine"
playbook || fail "the playbook (state=present) failed"
for i in "${lab_machines[@]}"; do
  has=$(lab_on "$i" | paste -sd' ')
  echo "machine $i has: $has"
  [[ -n $has ]] || fail "machine $i has nothing of the lab"
done

echo "== state=present again: nothing to change"
playbook || fail "the second run (state=present) failed"
if grep -qE 'changed=[1-9]' "$MACHINES_DIR/playbook.log"; then fail "the second run changed something"; fi

echo "== state=absent: destroy on every machine"
playbook -e state=absent || fail "the playbook (state=absent) failed"
for i in "${!MACHINE_PIDS[@]}"; do
  has=$(lab_on "$i" | paste -sd' ')
  echo "machine $i has: ${has:-only lo and eth0}"
  [[ -z $has ]] || fail "machine $i keeps something after state=absent"
done

if [[ $failed -ne 0 ]]; then
  echo "ansible_test.sh: FAILED"
  exit 1
fi
echo "ansible_test.sh: all checks passed"
