// Pieces shared by the kernel tests that run in a sandbox (tests/files.h, in_sandbox): bash
// functions that dump or wait for the sandbox's network state, and the large lab used to kill
// apply at many points.
#pragma once

#include <fmt/format.h>

#include <string>

namespace topo::test {

/// Bash: `full_dump` prints everything about the sandbox's network that a lab could change,
/// host first, then every named namespace by name: links with their kind details, addresses,
/// routes of every table in both families, bridge ports, the nftables ruleset and the
/// namespace's net.* sysctls, then the namespaces, /etc/netns, and the files under /etc/netns
/// and /run/topo with their modes, sizes, link targets and contents. JSON is used where ip
/// has it so that every field is there; two dumps are compared as text.
///
/// Left out, and why:
///  - lines ending in `_timer": N` (gc_timer, hello_timer, forward_delay_timer, ...): a
///    bridge's and its ports' timers run down by themselves, so two dumps of a bridge nobody
///    touched differ there;
///  - net.netfilter.nf_conntrack_count: a count of the connections tracked, traffic's not
///    the lab's (the pings of a lab with NAT leave entries that time out by themselves);
///  - /run/topo/LAB/lock: the lock file stays after a run by design (a lock file deleted
///    while another run waits on it would let two runs in); anything else topo leaves there
///    (a journal, sysctl originals) is shown.
///  - the handles of qdiscs (`tc qdisc show`): the kernel numbers those made (8001:, 8002:...),
///    and a rollback makes a link's qdisc again with the link;
/// Nothing else is filtered: ifindexes, MACs and namespace ids of what survives must be
/// unchanged, and what the lab made must be gone.
inline const char* kFullDump = R"sh(full_dump() {
  local ns x
  for ns in '' $(ip netns | cut -d' ' -f1 | sort); do
    x=${ns:+ip netns exec $ns}
    echo "== netns ${ns:-host}"
    $x ip -d -j -p link | grep -vE '_timer": ' || true
    $x ip -j -p addr
    $x ip -4 -j -p route show table all
    $x ip -6 -j -p route show table all
    $x bridge -j -p link
    $x tc qdisc show | sed -E 's/^(qdisc [a-z_]+) [0-9a-f]+:/\1/'
    $x nft list ruleset
    $x sysctl -a -r '^net\.' 2>/dev/null | grep -v '^net.netfilter.nf_conntrack_count ='
  done
  echo "== ip netns"; ip netns
  echo "== /etc/netns"; ls -R /etc/netns
  echo "== files"
  find /etc/netns /run/topo ! -type d ! -name lock -printf '%M %s %p %l\n' 2>/dev/null | sort || true
  find /etc/netns /run/topo -type f ! -name lock -exec md5sum {} + 2>/dev/null | sort || true
}
)sh";

/// Bash: `witness` prints everything `ip` and /proc say about the sandbox's network, for
/// before/after comparisons (MACs included: a rollback must give back the very same links).
/// Not operstates: a bridge's follows its ports' carrier a moment later, when linkwatch gets
/// to it. Not ifindexes: a link made again by a rollback gets a new one, nor qdisc handles.
inline const char* kWitness =
    "br() { ip \"$@\" | awk '{ $2 = \"\"; print }'; }\n"
    "witness() { br -br link; br -br addr; ip route; ip netns; cat /proc/sys/net/ipv4/ip_forward;"
    " tc qdisc show | sed -E 's/^(qdisc [a-z_]+) [0-9a-f]+:/\\1/';"
    " for n in $(ip netns | cut -d' ' -f1); do br -n $n -br link; br -n $n -br addr; ip -n $n route;"
    " tc -n $n qdisc show | sed -E 's/^(qdisc [a-z_]+) [0-9a-f]+:/\\1/'; done;"
    " ls -R /etc/netns; ls /run/topo/* 2>/dev/null | grep -v lock || true; }\n";

/// Bash: `rules` prints every namespace's whole nftables ruleset, host first, as nft lists it.
inline const char* kRules =
    "rules() { for ns in '' $(ip netns | cut -d' ' -f1 | sort); do echo \"== $ns\";"
    " ${ns:+ip netns exec $ns} nft list ruleset; done; }\n";

/// Bash: `settle` waits (at most 10 s) until the links and IPv6 addresses of host and every
/// named namespace stop changing by themselves:
///  - a link that has carrier (LOWER_UP) but whose operstate is still DOWN waits for the
///    kernel's linkwatch, which runs up to a second later; only then does IPv6 give the link
///    its link-local address (a bridge gets it when its first port comes up);
///  - an IPv6 address is tentative while duplicate address detection runs, a second or two
///    after it is added: its flags change when it ends, and it cannot be pinged meanwhile.
/// Two dumps taken without it differ by what finished in between. It asserts nothing; a
/// dump or a ping after it tells.
inline const char* kSettle = R"sh(settle() {
  local ns end=$((SECONDS + 10))
  while [ $SECONDS -lt $end ]; do
    for ns in '' $(ip netns | cut -d' ' -f1); do
      if ip ${ns:+-n $ns} -o link | grep -q 'LOWER_UP.* state DOWN ' ||
         [ -n "$(ip ${ns:+-n $ns} -6 addr show tentative)" ]; then sleep 0.1; continue 2; fi
    done
    return 0
  done
}
)sh";

/// Bash: `listening NS PORT [udp]` waits (at most 60 s) until a socket in namespace NS (''
/// for host) listens on PORT, TCP unless `udp` is given, and fails saying so when none does:
/// a server started in the background listens only after python3 has started and imported
/// its modules, which takes seconds on a loaded machine (under the sanitizers' suite).
inline const char* kListening = R"sh(listening() {
  local end=$((SECONDS + 60))
  while [ $SECONDS -lt $end ]; do
    [ -n "$(${1:+ip netns exec $1} ss -Hl$([ "${3:-tcp}" = udp ] && echo u || echo t)n "sport = :$2")" ] && return 0
    sleep 0.1
  done
  echo "nothing listens on ${3:-tcp} port $2 in ${1:-host}" >&2
  return 1
}
)sh";

/// A lab of `n` namespaces on one host bridge (10.64.0.1/16), each with a veth into it and a
/// default route through it, and IPv4 forwarding on in the host: many steps of every kind.
inline std::string star_lab(int n) {
  std::string lab =
      "lab = \"star\"\n[host]\nsysctl = { \"net.ipv4.ip_forward\" = 1 }\n"
      "[[bridge]]\nname = \"br0\"\naddresses = [\"10.64.0.1/16\"]\n";
  for (int i = 1; i <= n; ++i)
    lab += fmt::format(
        "[[netns]]\nname = \"ns{0}\"\n[[veth]]\na = {{ netns = \"ns{0}\", name = \"eth0\", "
        "addresses = [\"10.64.1.{0}/16\"] }}\nb = {{ name = \"v{0}\", master = \"br0\" }}\n"
        "[[route]]\nnetns = \"ns{0}\"\nto = \"default\"\nvia = \"10.64.0.1\"\n",
        i);
  return lab;
}

/// Bash: prints "converged" when the plan of FILE is empty.
inline std::string converged(const std::string& file) {
  return "$TOPO plan --detailed-exitcode " + file + " > /dev/null && echo converged\n";
}

/// Bash: applies FILE with its step k failing, for k = 1, 2, … (at most `max`), until it
/// applies. After each failure the rollback must say the kernel is as it was, and `state`
/// (a shell command) must print what it printed before the first try; what differs is
/// printed. Prints "applied once each of its N steps had failed" at the end.
inline std::string fail_each_step(const std::string& file, const std::string& state, int max = 60) {
  return "(" + state +
         ") > /run/before\n"
         "for k in $(seq 1 " +
         std::to_string(max) +
         "); do\n"
         "  if TOPO_TEST_FAIL_STEP=$k $TOPO apply -q " +
         file +
         " 2> /run/err; then\n"
         "    echo \"applied once each of its $((k - 1)) steps had failed\"; break\n"
         "  fi\n"
         "  tail -1 /run/err | grep -q 'the kernel is as it was' || { echo \"step $k:\"; cat /run/err; }\n"
         "  (" +
         state +
         ") > /run/after\n"
         "  diff /run/before /run/after > /dev/null || { echo \"step $k: not as it was\"; diff /run/before /run/after "
         "| head -20; }\n"
         "done\n";
}

/// Bash: destroys FILE with its step k failing, for k = 1, 2, … until it destroys. After
/// each failure the rollback must say the kernel is as it was, and `state` (a shell
/// command) must print what it printed before the first try; what differs is printed. Prints
/// "destroyed at the K-th try" at the end (K - 1 steps).
inline std::string fail_each_destroy_step(const std::string& file, const std::string& state) {
  return "(" + state +
         ") > /run/applied\n"
         "k=1\n"
         "until TOPO_TEST_FAIL_STEP=$k $TOPO destroy -q " +
         file +
         " 2> /run/err; do\n"
         "  tail -1 /run/err | grep -q 'the kernel is as it was' || { echo \"step $k:\"; cat /run/err; }\n"
         "  (" +
         state +
         ") > /run/now\n"
         "  diff /run/applied /run/now > /dev/null || { echo \"step $k: not as it was\"; diff /run/applied /run/now "
         "| head -20; }\n"
         "  k=$((k + 1))\n"
         "done\n"
         "echo \"destroyed at the $k-th try\"\n";
}

}  // namespace topo::test
