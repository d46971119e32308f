#!/usr/bin/env bash
# Installs the Debian 12 packages topo needs to build, test and run its sandbox, and only
# those that are missing, so that a second run costs nothing and needs no network.
set -euo pipefail

packages=(
  # build
  cmake g++ make pkg-config
  # strings, for the check that the release binary has no test hooks
  binutils
  # the fuzz target (scripts/fuzz.sh): clang, and libFuzzer's and the sanitizers' runtimes
  # (clang only recommends them)
  clang libclang-rt-14-dev
  # scripts/format.sh, which CI runs to check the tree's formatting
  clang-format
  libtomlplusplus-dev libcli11-dev libfmt-dev catch2
  # netlink and nftables, for the state reader and the executor
  libnl-3-dev libnl-route-3-dev libnftnl-dev libmnl-dev
  # the sandbox (unshare, mount) and the independent witnesses tests compare against
  util-linux mount iproute2 nftables
  # the kernel tests' and the demo's other witnesses: ping between a lab's namespaces,
  # sysctl for the net.* settings compared before and after
  iputils-ping procps
  # tc's own bytes for a qdisc, which the shaping tests compare with topo's (scripts/tc-bytes.sh)
  strace
  # the TCP servers and clients of the NAT tests (kernel_nat_test.cpp)
  python3
  # /etc/protocols, where nft looks up the protocol names a ruleset is printed and parsed
  # with (ipv6-icmp); a minimal root (debootstrap --variant=minbase, a container image)
  # lacks it
  netbase
  # /usr/bin/time, for the bench's memory column (bench_test.cpp runs the bench)
  time
)
# Wanted, not needed: tests/ansible_test.sh runs deploy/ansible/lab.yml over ssh on simulated
# machines (an sshd in each of tests/machines.sh's namespaces), and reports itself skipped
# where these could not be installed.
optional=(openssh-server openssh-client ansible-core)

installed() { [[ "$(dpkg-query -W -f='${Status}' "$1" 2> /dev/null || true)" == "install ok installed" ]]; }
missing=() missing_optional=()
for p in "${packages[@]}"; do installed "$p" || missing+=("$p"); done
for p in "${optional[@]}"; do installed "$p" || missing_optional+=("$p"); done
[[ ${#missing[@]} -eq 0 && ${#missing_optional[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]]; then
  echo "topo needs these Debian packages: ${missing[*]} ${missing_optional[*]}" >&2
  echo "run this script as root (sudo $0) to install them" >&2
  exit 1
fi
echo "installing packages: ${missing[*]} ${missing_optional[*]}"
export DEBIAN_FRONTEND=noninteractive
echo "  (apt-get update, then apt-get install: a minute or two on a fresh machine)"
apt-get update -qq
# openssh-server's postinst would start an sshd on this machine, listening on its port 22;
# the tests only want the binary, run inside their own namespaces. invoke-rc.d asks
# /usr/sbin/policy-rc.d first, and 101 there means "start nothing". Made for this install
# only, and only if absent: a container image's own (Docker's has one) stays.
policy=/usr/sbin/policy-rc.d
if [[ " ${missing_optional[*]} " == *" openssh-server "* && ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"
  chmod +x "$policy"
  # A signal leaves through the EXIT trap too: left behind, the file would keep every later
  # install from starting its service.
  trap 'rm -f "$policy"' EXIT
  trap 'exit 1' INT TERM HUP
fi
if [[ ${#missing[@]} -gt 0 ]]; then apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null; fi
if [[ ${#missing_optional[@]} -gt 0 ]] &&
  ! apt-get install -y -qq --no-install-recommends "${missing_optional[@]}" > /dev/null; then
  echo "  could not install ${missing_optional[*]}: the Ansible test will be skipped"
fi
echo "installed."
