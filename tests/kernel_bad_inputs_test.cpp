// The bad-input corpus against the kernel: `topo apply` and `topo destroy` of every
// tests/bad/*.toml exit 1 and change nothing. Most of the corpus is lab "web", so a valid
// lab "web" is applied first (a namespace, a bridge, a veth, a route, NAT, /etc/netns files)
// next to things that are no lab's: a destroy that got past a bad file would take the lab
// away, an apply would add to it. One sandbox for the whole corpus keeps this to seconds.
#include "tests/kernel_harness.h"

using namespace topo::test;

namespace {

// Bash: `state` prints what a bad file could change: the full dump (tests/kernel_scripts.h)
// and, as it leaves them out, the directories and lock files under /run/topo and /etc/netns,
// which a bad file must not make or change either.
const char* kState = R"sh(state() {
  full_dump
  find /run/topo /etc/netns -exec ls -ld {} + 2>/dev/null | awk '{print $1, $5, $NF}' || true
  find /run/topo -name lock -exec md5sum {} + 2>/dev/null || true
}
)sh";

}  // namespace

TEST_CASE("kernel: apply and destroy of every bad input exit 1 and change nothing", "[kernel][corpus]") {
  auto files = files_in(source_dir() / "tests/bad", ".toml");
  REQUIRE(files.size() >= 150);
  // lab "web" with NAT too: every kind of thing a run could touch is there.
  std::string web = std::string(kWebLab) + "[[nat]]\nkind = \"masquerade\"\nsource = \"10.0.0.0/24\"\n";
  std::string script = std::string(kFullDump) + kState + kSettle + "$TOPO apply -q $WEB > /dev/null\n" +
                       "ip link add foreign0 type veth peer name foreign1 && ip addr add 192.0.2.1/24 dev foreign0\n"
                       "ip netns add blue\n"
                       "nft add table inet theirs\n"
                       "mkdir -p /etc/netns/blue && echo 'nameserver 192.0.2.53' > /etc/netns/blue/resolv.conf\n"
                       "settle\n"
                       // A new lab's links take a moment to settle (carrier, operstate, DAD).
                       "for i in $(seq 50); do\n"
                       "  state > /run/before; sleep 0.2; state > /run/again\n"
                       "  cmp -s /run/before /run/again && break\n"
                       "done\n"
                       // Four at a time: under the sanitizers each run costs a tenth of a
                       // second, and the files are independent (each must change nothing).
                       "ls " +
                       (source_dir() / "tests/bad").string() +
                       "/*.toml | xargs -P 4 -I{} bash -c '\n"
                       "  for cmd in apply destroy; do\n"
                       "    rc=0; $TOPO $cmd {} > /dev/null 2>&1 || rc=$?\n"
                       "    [ $rc = 1 ] || echo \"WRONG EXIT $rc: topo $cmd $(basename {})\"\n"
                       "  done'\n"
                       "state > /run/after\n"
                       "diff /run/before /run/after && echo SAME\n"
                       "grep -q '\"ifname\": \"red-p\"' /run/after && echo LAB-STILL-THERE\n";
  Run r = in_sandbox({{"WEB", web}}, script);
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(r.output.find("WRONG EXIT") == std::string::npos);
  CHECK(r.output.find("SAME\n") != std::string::npos);
  // The lab "web" was there all along: the dumps are of something.
  CHECK(r.output.find("LAB-STILL-THERE") != std::string::npos);
}
