#!/usr/bin/env bash
# README's test command on a brand-new Debian 12 (issue 18, item 17): debootstraps a minbase
# root into DIR (once; Debian's packages are all it downloads), copies a clean clone of this
# checkout's HEAD into it, and runs scripts/test.sh there as root, with nothing installed
# by hand: the command installs what it needs itself. /proc, /sys and /dev are the
# machine's (the kernel tests sandbox themselves); everything else is the new root's.
# Usage: scripts/fresh-root.sh DIR [TEST-ARGS...]    (needs root and debootstrap)
set -euo pipefail
cd "$(dirname "$0")/.."
[[ $# -ge 1 ]] || { echo "usage: $0 DIR [TEST-ARGS...]" >&2; exit 2; }
root=$(realpath -m "$1")
shift
command -v debootstrap > /dev/null || { echo "$0: needs debootstrap (apt-get install debootstrap)" >&2; exit 1; }
if [[ ! -x $root/usr/bin/apt-get ]]; then
  debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian >&2
fi
cp /etc/resolv.conf "$root/etc/resolv.conf"  # apt-get inside reaches Debian's mirror by name
rm -rf "$root/topo"
git clone -q --no-local "$PWD" "$root/topo"
mounted=()
cleanup() { for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[i]}" || true; done; }
trap cleanup EXIT
# The root itself, bound onto itself: inside the chroot `/` is then a mount point, which the
# kernel tests' sandbox needs (unshare makes `/` private; on a plain directory: EINVAL).
mount --bind "$root" "$root"
mounted+=("$root")
for m in proc sys dev dev/pts; do
  mount --bind "/$m" "$root/$m"
  mounted+=("$root/$m")
done
chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root bash -c 'cd /topo && scripts/test.sh "$@"' test "$@"
