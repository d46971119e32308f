// A lab over several machines (lower/machines.h): each machine's slice, the tunnels that
// join them, and every mistake of the format, positioned, at once.
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <catch2/catch.hpp>

#include "executor/fdb_message.h"
#include "lower/machines.h"
#include "parser/lab_toml.h"
#include "tests/lab_text.h"
#include "tests/plans.h"

using namespace topo::test;

namespace {

const char* kTwo = R"(lab = "wide"
[[machine]]
name = "m1"
address = "192.0.2.1"
[[machine]]
name = "m2"
address = "192.0.2.2"
mtu = 9000
[[network]]
name = "front"
subnets = ["10.50.0.0/24"]
[[netns]]
name = "a"
networks = ["front"]
[[netns]]
name = "b"
machine = "m2"
networks = ["front"]
[[link]]
ends = ["a", "b"]
subnets = ["10.9.0.0/31"]
[[expect]]
from = "a"
to = "b"
reach = true
)";

// The plan that builds machine `m`'s slice of `toml` on a kernel with nothing of the lab's.
std::string built(const std::string& toml, const std::string& m) {
  return steps_text(plan_for(expected_state(slice(lab(toml), m)), empty_kernel()));
}

}  // namespace

TEST_CASE("machines: each machine builds its slice, joined to the others by VXLANs", "[machines]") {
  // m1 has the gateway; m2's bridge is a switch with an address of its own. The network's
  // mtu is what a tunnel over m1's underlay (1500) carries; the link is a VXLAN at each end.
  CHECK(built(kTwo, "m1") ==
        "a: + netns a\n"
        "host: ~ sysctl net.ipv4.ip_forward: 0 -> 1\n"
        "a: + vxlan b id 12111252 local 192.0.2.1 remote 192.0.2.2 underlay host port 4789 10.9.0.0/31 mtu 1450 "
        "(link a - b)\n"
        "host: + bridge front 10.50.0.1/24 mtu 1450 mac 62:74:a3:d4:2e:b6 (network front)\n"
        "a: + veth eth0 peer host/front-a 10.50.0.2/24 mtu 1450 link_local false (network front, member a) & host: "
        "veth front-a peer a/eth0 mtu 1450 master front link_local false\n"
        "host: + vxlan front_v id 2429011 local 192.0.2.1 remotes 192.0.2.2 port 4789 mtu 1450 master front "
        "link_local false (network front, its segment)\n"
        "a: + route default via 10.50.0.1\n");
  CHECK(built(kTwo, "m2") ==
        "b: + netns b\n"
        "b: + vxlan a id 12111252 local 192.0.2.2 remote 192.0.2.1 underlay host port 4789 10.9.0.1/31 mtu 1450 "
        "(link a - b)\n"
        "host: + bridge front mtu 1450 mac 52:bf:db:df:f3:b7 link_local false (network front)\n"
        "b: + veth eth0 peer host/front-b 10.50.0.3/24 mtu 1450 link_local false (network front, member b) & host: "
        "veth front-b peer b/eth0 mtu 1450 master front link_local false\n"
        "host: + vxlan front_v id 2429011 local 192.0.2.2 remotes 192.0.2.1 port 4789 mtu 1450 master front "
        "link_local false (network front, its segment)\n"
        "b: + route default via 10.50.0.1\n");
}

TEST_CASE("machines: a slice tests what starts on its machine, the far addresses found in the whole", "[machines]") {
  Lab whole = lab(kTwo);
  Lab m1 = slice(whole, "m1"), m2 = slice(whole, "m2");
  REQUIRE(m1.expects.size() == 1);
  CHECK(m1.expects[0].to_address == parse_ip("10.50.0.3"));
  CHECK(m2.expects.empty());
  CHECK(m1.machines.empty());  // a slice is a lab of one machine
  std::map<std::string, SliceSize> sizes = slice_sizes(whole);
  CHECK(sizes["m1"].namespaces == 1);
  CHECK(sizes["m1"].interfaces == 5);
  CHECK(sizes["m1"].expectations == 1);
  CHECK(sizes["m2"].interfaces == 5);
}

TEST_CASE("machines: topo expand --machine writes a slice that builds what the slice builds", "[machines]") {
  Lab whole = lab(kTwo);
  for (const char* m : {"m1", "m2"}) {
    DYNAMIC_SECTION(m) {
      Lab mine = slice(whole, m);
      std::string expanded = lab_toml(mine, "lab.toml");
      for (Interface& i : mine.interfaces) i.origin.reset();  // plan notes, which a file of primitives has none of
      INFO(expanded);
      CHECK(steps_text(plan_for(expected_state(lab(expanded)), empty_kernel())) ==
            steps_text(plan_for(expected_state(mine), empty_kernel())));
    }
  }
}

TEST_CASE("machines: VNIs are the file's or derived from names, unique in the lab", "[machines]") {
  // Derived from the lab's and the network's names: the same on every machine, whatever
  // else the file holds; an explicit one is never derived again.
  Lab l;
  l.name.value = "wide";
  Vnis vnis(l);
  int64_t front = vnis.take(std::nullopt, "network front");
  CHECK(front == 2429011);
  CHECK(Vnis(l).take(std::nullopt, "network front") == front);
  CHECK(vnis.take(Located<int64_t>{7, {}}, "network back") == 7);
  Lab taken = l;
  Interface vx;
  vx.spec = Vxlan{Located<int64_t>{front, {}}, {}, {}, {}, {}, {}, {}, {4789, {}}, {}};
  taken.interfaces.push_back(vx);
  CHECK(Vnis(taken).take(std::nullopt, "network front") == front + 1);  // the next free one
}

TEST_CASE("machines: which machine this host is", "[machines]") {
  Lab whole = lab(kTwo);
  IpAddress m2 = *parse_ip("192.0.2.2"), other = *parse_ip("10.0.0.1");
  CHECK(choose_machine(whole, "", {other, m2}).machine == "m2");
  CHECK(choose_machine(whole, "m1", {m2}).machine == "m1");  // --machine decides
  CHECK(choose_machine(whole, "m3", {}).error ==
        "--machine m3: lab 'wide' has no such machine (did you mean 'm1'?); its machines: m1 (192.0.2.1), m2 "
        "(192.0.2.2)");
  CHECK(choose_machine(whole, "", {other}).error ==
        "no machine of lab 'wide' has an address of this host (m1 (192.0.2.1), m2 (192.0.2.2)): say which this is "
        "with --machine NAME");
  CHECK(choose_machine(whole, "", {*parse_ip("192.0.2.1"), m2}).error ==
        "machines m1, m2 of lab 'wide' all have an address of this host: say which this is with --machine NAME");
  Lab alone = lab("lab = \"one\"\n");
  CHECK(choose_machine(alone, "", {}).machine.empty());
  CHECK(choose_machine(alone, "", {}).error.empty());
  CHECK(choose_machine(alone, "m1", {}).error == "--machine m1: lab 'one' has no [[machine]]; it runs where topo runs");
}

TEST_CASE("machines: every mistake, positioned, at once", "[machines]") {
  CHECK(errors(R"(lab = "wide"
[[machine]]
name = "m1"
address = "192.0.2.1"
[[machine]]
name = "m1"
address = "192.0.2.2"
[[machine]]
name = "m3"
address = "192.0.2.1"
[[machine]]
name = "m4"
address = "fd00::4"
[[machine]]
name = "m5"
address = "224.0.0.1"
)") == Lines{"6:8: machine 'm1' is defined twice", "10:11: machines 'm1' and 'm3' have the same address 192.0.2.1",
             "13:11: machine 'm4' has an IPv6 address, machine 'm1' an IPv4 one: the tunnels between machines run "
             "over one family",
             "16:11: 'address' of [[machine]] 'm5' must be a unicast address"});
  CHECK(errors(R"(lab = "wide"
[[machine]]
name = "m1"
address = "192.0.2.1"
[[machine]]
name = "m2"
address = "192.0.2.2"
[[network]]
name = "front"
subnets = ["10.50.0.0/24"]
mtu = 1500
[[netns]]
name = "a"
machine = "m3"
[[netns]]
name = "b"
machine = "m2"
networks = ["front"]
[[netns]]
name = "c"
[[link]]
ends = ["b", "c"]
mtu = 1460
[[veth]]
a = { name = "x", netns = "b" }
b = { name = "y", netns = "c" }
)") == Lines{"11:7: mtu 1500 of network 'front' is above 1450, what the tunnels between its machines (m1, m2) "
             "carry after their headers",
             "14:11: [[netns]] 'a' is on machine 'm3', which is not a [[machine]] of the lab (did you mean 'm1'?)",
             "23:7: mtu 1460 of [[link]] b - c is above 1450, what the tunnel between machines 'm2' and 'm1' carries "
             "after its headers",
             "25:5: [[veth]] end 'a' joins namespace 'b' on machine 'm2' to namespace 'c' on machine 'm1': a veth "
             "cannot cross machines; did you mean a [[link]]? (it becomes a VXLAN)"});
  CHECK(errors(R"(lab = "one"
[[network]]
name = "front"
subnets = ["10.50.0.0/24"]
vni = 5
[[netns]]
name = "a"
machine = "m1"
)") == Lines{"5:7: 'vni' in [[network]] 'front' is for a network across machines, and the lab has no [[machine]]",
             "8:11: [[netns]] 'a' is on machine 'm1', but the lab has no [[machine]]: a lab without machines runs "
             "where topo runs"});
}

TEST_CASE("machines: a machine the file fails to define is a reference to nothing, said once", "[machines]") {
  // Fuzzing found it: m2 without an address is no machine, and b's link to a crossed to it.
  CHECK(errors(R"(lab = "wide"
[[machine]]
name = "m1"
address = "192.0.2.1"
[[machine]]
name = "m2"
[[netns]]
name = "a"
[[netns]]
name = "b"
machine = "m2"
[[link]]
ends = ["a", "b"]
)") == Lines{"5:1: missing required key 'address' in [[machine]] 'm2'",
             "11:11: [[netns]] 'b' is on machine 'm2', which is not a [[machine]] of the lab (did you mean 'm1'?)"});
}

TEST_CASE("machines: a VXLAN's flooding entries in netlink's bytes, and back", "[machines]") {
  IpAddress remote = *parse_ip("192.0.2.2");
  std::vector<std::byte> add = fdb_request(7, remote, true, 1);
  // What `bridge fdb append 00:00:00:00:00:00 dev vx0 dst 192.0.2.2` sends: RTM_NEWNEIGH,
  // create and append, an AF_BRIDGE ndmsg (NUD_NOARP | NUD_PERMANENT, NTF_SELF), the
  // all-zeros address and the destination.
  REQUIRE(add.size() == 16 + 12 + 12 + 8);
  auto u16 = [&](size_t at) { return std::to_integer<int>(add[at]) | std::to_integer<int>(add[at + 1]) << 8; };
  CHECK(u16(4) == RTM_NEWNEIGH);
  CHECK(u16(6) == (NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_APPEND));
  CHECK(std::to_integer<int>(add[16]) == AF_BRIDGE);
  CHECK(u16(24) == (NUD_NOARP | NUD_PERMANENT));
  CHECK(std::to_integer<int>(add[26]) == NTF_SELF);
  // A dump's entry reads as the request made it: the request is an RTM_NEWNEIGH too.
  auto entry = decode_flood_entry(add);
  REQUIRE(entry);
  CHECK(entry->ifindex == 7);
  CHECK(entry->remote == remote);
  CHECK(decode_flood_entry(fdb_request(7, *parse_ip("fd00::2"), true))->remote == *parse_ip("fd00::2"));
  CHECK_FALSE(decode_flood_entry(fdb_request(7, remote, false)));  // RTM_DELNEIGH
  // A learnt address (not all zeros, not permanent) is not a remote; nor is a cut message.
  std::vector<std::byte> learnt = add;
  learnt[40 - 8 - 8 + 4] = std::byte{0x52};  // the first byte of NDA_LLADDR's value
  CHECK_FALSE(decode_flood_entry(learnt));
  std::vector<std::byte> cut(add.begin(), add.begin() + 30);
  CHECK_FALSE(decode_flood_entry(cut));
}

TEST_CASE("machines: a link's VXLAN goes by a step of its own before its namespace, and comes back after it",
          "[machines][plan]") {
  // Its socket is in host: deleted with its namespace it would go later, in the background,
  // its VNI taken meanwhile, and the undone step could not make it again (found by
  // kernel_machines_test: "A VXLAN device with the specified VNI already exists"). The route
  // through it goes first.
  const char* toml = R"(lab = "web"
[[machine]]
name = "m1"
address = "192.0.2.1"
[[machine]]
name = "m2"
address = "192.0.2.2"
[[netns]]
name = "a"
[[netns]]
name = "b"
machine = "m2"
[[link]]
ends = ["a", "b"]
subnets = ["10.9.0.0/31"]
[[route]]
netns = "a"
to = "10.10.0.0/16"
via = "10.9.0.1"
)";
  State observed = applied(expected_state(slice(lab(toml), "m1")));
  for (RouteState& r : observed.namespaces["a"].routes) r.dev = "b";  // as the kernel reads it back
  Plan p = plan_for(expected_state(lab(R"(lab = "web")")), observed);
  CHECK(steps_text(p) ==
        "a: - route 10.10.0.0/16 via 10.9.0.1 dev b\n"
        "a: - vxlan b id 2483659 local 192.0.2.1 remote 192.0.2.2 underlay host port 4789 10.9.0.0/31 mtu 1450 mac "
        "02:00:00:00:00:01\n"
        "a: - netns a\n");
  CHECK(inverses_text(p) ==
        "a: + netns a\n"
        "a: + vxlan b id 2483659 local 192.0.2.1 remote 192.0.2.2 underlay host port 4789 10.9.0.0/31 mtu 1450 mac "
        "02:00:00:00:00:01 (link a - b)\n"
        "a: + route 10.10.0.0/16 via 10.9.0.1 dev b\n");
}

TEST_CASE("machines: a machine joining a network changes the others' flooding lists in place", "[machines][plan]") {
  auto wide = [](int machines) {
    std::string toml = "lab = \"web\"\n[[network]]\nname = \"front\"\nsubnets = [\"10.50.0.0/24\"]\n";
    for (int i = 1; i <= machines; ++i)
      toml += fmt::format(
          "[[machine]]\nname = \"m{0}\"\naddress = \"192.0.2.{0}\"\n[[netns]]\nname = \"n{0}\"\n"
          "machine = \"m{0}\"\nnetworks = [\"front\"]\n",
          i);
    return toml;
  };
  Plan join = plan_for(expected_state(slice(lab(wide(3)), "m1")), applied(expected_state(slice(lab(wide(2)), "m1"))));
  CHECK(steps_text(join) == "host: ~ vxlan front_v: remotes [192.0.2.2] -> [192.0.2.2, 192.0.2.3]\n");
  CHECK(inverses_text(join) == "host: ~ vxlan front_v: remotes [192.0.2.2, 192.0.2.3] -> [192.0.2.2]\n");
}
