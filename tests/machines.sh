# shellcheck shell=bash
# Simulated machines for multi-machine tests: a bash library, sourced inside scripts/sandbox.
# A machine is a network namespace and a mount namespace of its own, as a real host has its
# own interfaces, /run/netns, topo state under /run, /etc/netns and /var/log; it shares the
# rest of the sandbox's files (binaries, /tmp). The machines meet on an underlay: a bridge
# `underlay` in the caller's namespace, 192.0.2.254/24 (so the caller reaches them, as an
# Ansible controller would), with a veth to each machine's eth0, 192.0.2.I/24.
#
#   source tests/machines.sh
#   machines_up 3 [MTU]     m1..m3, eth0 at 192.0.2.1..3
#   on_machine 1 ping -c1 192.0.2.3
#   machines_sshd           an sshd in each, and ssh and ansible set up to reach them
#   machines_down           (idempotent: fit for a trap)

MACHINES_DIR=    # keys, configs, logs; under /tmp, which the machines share
MACHINE_PIDS=()  # MACHINE_PIDS[I]: the process that holds machine I's namespaces open

# Runs "$@" until it succeeds, for at most 10 s: what the machines do is awaited, not slept on.
_machines_poll() {
  local what=$1 i
  shift
  for ((i = 0; i < 200; i++)); do
    if "$@" > /dev/null 2>&1; then return 0; fi
    sleep 0.05
  done
  echo "machines.sh: timed out waiting for $what" >&2
  return 1
}

_machines_is_sleeping() { [[ $(cat "/proc/$1/comm") == sleep ]]; }

machines_up() {
  local n=$1 mtu=${2:-1500} i pid
  MACHINES_DIR=$(mktemp -d /tmp/topo-machines.XXXXXX)
  MACHINE_PIDS=()
  ip link add underlay mtu "$mtu" type bridge
  ip link set underlay addrgenmode none
  ip addr add 192.0.2.254/24 dev underlay
  ip link set underlay up
  for ((i = 1; i <= n; i++)); do
    # unshare makes / rprivate itself (--propagation private). The holder sets its machine
    # up and only then becomes `sleep`: until then nsenter would still find the sandbox's
    # namespaces. sshd records logins in /var/log (wtmp, lastlog): the machine's own.
    # --pdeathsig: a caller that ends without machines_down takes its machines with it.
    setpriv --pdeathsig KILL unshare --net --mount --propagation private -- bash -c '
      set -e
      mount -t tmpfs -o mode=755 machine-run /run
      mount -t tmpfs -o mode=755 machine-etc-netns /etc/netns
      mount -t tmpfs -o mode=755 machine-log /var/log
      ip link set lo up
      exec sleep infinity > /dev/null 2>&1' < /dev/null &
    pid=$!
    disown  # killed by machines_down; no "Killed" notice from bash then
    MACHINE_PIDS[i]=$pid
    _machines_poll "machine $i to start" _machines_is_sleeping "$pid"
    ip link add "to-m$i" mtu "$mtu" type veth peer name eth0 mtu "$mtu" netns "$pid"
    ip link set "to-m$i" master underlay up
    # No IPv6 link-local address on the underlay: its duplicate address detection would
    # change a machine's dumps for seconds after it starts, and nothing here needs one.
    ip link set "to-m$i" addrgenmode none
    on_machine "$i" ip link set eth0 addrgenmode none
    on_machine "$i" ip addr add "192.0.2.$i/24" dev eth0
    on_machine "$i" ip link set eth0 up
  done
  # Every machine answers across the bridge: its address is up and its port forwards.
  for ((i = 1; i <= n; i++)); do
    _machines_poll "192.0.2.$i to answer" ping -c1 -W1 "192.0.2.$i"
  done
}

# on_machine I CMD...: CMD in machine I, in the caller's directory (nsenter would go to /).
on_machine() {
  local i=$1
  shift
  nsenter -t "${MACHINE_PIDS[i]}" -n -m --wd="$PWD" -- "$@"
}

machines_down() {
  local i pid ns p own
  own=$(readlink /proc/$$/ns/net)
  for i in "${!MACHINE_PIDS[@]}"; do
    pid=${MACHINE_PIDS[i]}
    # Whatever runs in the machine goes with it (its sshd, what a test left), not only the
    # holder. A holder that died early may have had its PID reused here: never our own.
    ns=$(readlink "/proc/$pid/ns/net" 2> /dev/null) || ns=$own
    if [[ $ns != "$own" ]]; then
      for p in /proc/[0-9]*; do
        if [[ $(readlink "$p/ns/net" 2> /dev/null) == "$ns" ]]; then kill -KILL "${p#/proc/}" 2> /dev/null || true; fi
      done
    fi
    ip link del "to-m$i" 2> /dev/null || true
  done
  ip link del underlay 2> /dev/null || true
  if [[ -n $MACHINES_DIR ]]; then rm -rf "$MACHINES_DIR"; fi
  MACHINES_DIR=
  MACHINE_PIDS=()
}

# An sshd in each machine on its underlay address only, root by a throwaway key alone; then
# ssh (-F "$MACHINES_DIR/ssh_config") and ansible (the ANSIBLE_* exported here, for any
# inventory whose ansible_host is a machine's address) reach them from the caller.
machines_sshd() {
  local d=$MACHINES_DIR i
  ssh-keygen -q -t ed25519 -N '' -C topo-machine -f "$d/host_key"
  ssh-keygen -q -t ed25519 -N '' -C topo-test -f "$d/id"
  cp "$d/id.pub" "$d/authorized_keys"
  # StrictModes no: the keys live under /tmp, which is world-writable. UsePAM no: Debian's
  # PAM session for sshd (pam_loginuid, pam_systemd, motd) is the real machine's, and a
  # key login needs none of it.
  cat > "$d/sshd_config" << EOF
HostKey $d/host_key
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthorizedKeysFile $d/authorized_keys
StrictModes no
UsePAM no
PidFile /run/sshd.pid
Subsystem sftp /usr/lib/openssh/sftp-server
EOF
  cat > "$d/ssh_config" << EOF
Host 192.0.2.*
  User root
  IdentityFile $d/id
  IdentitiesOnly yes
  BatchMode yes
  StrictHostKeyChecking no
  UserKnownHostsFile /dev/null
  LogLevel ERROR
  ConnectTimeout 5
EOF
  for i in "${!MACHINE_PIDS[@]}"; do
    # /run/sshd: privilege separation's empty directory, which sshd requires. -t reports a
    # bad configuration here and now. -D: the sshd stays our child, reaped by this shell
    # (a daemon's zombie would wait on PID 1) until machines_down kills it.
    on_machine "$i" mkdir -p -m 755 /run/sshd
    on_machine "$i" /usr/sbin/sshd -t -f "$d/sshd_config"
    setpriv --pdeathsig KILL nsenter -t "${MACHINE_PIDS[i]}" -n -m -- /usr/sbin/sshd -D -f "$d/sshd_config" \
      -o "ListenAddress=192.0.2.$i" -E "$d/sshd-m$i.log" < /dev/null > /dev/null 2>&1 &
    disown
  done
  for i in "${!MACHINE_PIDS[@]}"; do
    _machines_poll "sshd on 192.0.2.$i" ssh -F "$d/ssh_config" "192.0.2.$i" true
  done
  # ansible's own ssh_args are replaced: without its ControlPersist no ssh master outlives
  # the playbook. Its home and temporary files go to $MACHINES_DIR, the remote ones too:
  # the machines' root has this machine's /root as home. Pipelining saves a copy per task.
  export ANSIBLE_HOST_KEY_CHECKING=False ANSIBLE_SSH_ARGS="-F $d/ssh_config" \
    ANSIBLE_PRIVATE_KEY_FILE=$d/id ANSIBLE_REMOTE_USER=root \
    ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3 ANSIBLE_PIPELINING=True \
    ANSIBLE_HOME=$d/ansible ANSIBLE_LOCAL_TEMP=$d/ansible/tmp ANSIBLE_REMOTE_TEMP=$d/remote-tmp \
    ANSIBLE_NOCOLOR=1
}
