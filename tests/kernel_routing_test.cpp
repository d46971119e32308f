// Routed labs in the kernel: the fabric's equal-cost paths carry different flows over both
// spines, a ring loses a link without losing reach or a connection that did not use it, and
// 200 routers in a random graph apply, reach, plan nothing more and destroy clean.
#include <random>
#include <set>

#include "tests/kernel_harness.h"

using namespace topo::test;

namespace {

// The ring without its last link (r6 - r1).
std::string ring_without_r6_r1() {
  std::string ring = topology("ring.toml");
  std::string link = "[[link]]\nends = [\"r6\", \"r1\"]\n";
  ring.erase(ring.find(link), link.size());
  return ring;
}

// Packets a namespace's link has sent, as `ip -s` counts them.
const char* kSent =
    R"sh(sent() { ip -n $1 -s -j link show $2 | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["stats64"]["tx"]["packets"])'; }
)sh";

}  // namespace

TEST_CASE("kernel: the fabric's leaf-to-leaf routes have both spines as next hops, and flows take both",
          "[kernel][routing]") {
  // 64 UDP flows from srv1 to srv4 (one packet each, source ports 40000-40063): the leaves
  // hash ports too (fib_multipath_hash_policy 1), so each spine carries some of them.
  Run r = in_sandbox({{"L", topology("fabric.toml")}},
                     std::string(kSettle) + kSent +
                         "$TOPO apply -q $L\nsettle\n"
                         "ip -n leaf1 -j route show 192.168.4.0/24 | python3 -c 'import json, sys\n"
                         "for h in json.load(sys.stdin)[0][\"nexthops\"]: print(h[\"gateway\"], h[\"dev\"])'\n"
                         "ip -n leaf1 -6 -j route show fd00:4::/64 | python3 -c 'import json, sys\n"
                         "for h in json.load(sys.stdin)[0][\"nexthops\"]: print(h[\"gateway\"], h[\"dev\"])'\n"
                         "ip netns exec srv1 ping -c1 -W5 192.168.4.2 > /dev/null && echo reached\n"
                         "a=$(sent spine1 leaf4); b=$(sent spine2 leaf4)\n"
                         "ip netns exec srv1 python3 -c '\n"
                         "import socket\n"
                         "for port in range(40000, 40064):\n"
                         "    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                         "    s.bind((\"\", port)); s.sendto(b\"x\", (\"192.168.4.2\", 9)); s.close()\n"
                         "'\n"
                         "a=$(( $(sent spine1 leaf4) - a )); b=$(( $(sent spine2 leaf4) - b ))\n"
                         "[ $a -ge 1 ] && [ $b -ge 1 ] && [ $((a + b)) -ge 64 ] && echo 'both spines carried flows'\n"
                         "$TOPO plan --detailed-exitcode $L\n");
  check_prints(r,
               "10.255.0.1 spine1\n"
               "10.255.0.3 spine2\n"
               "fd00:255::1 spine1\n"
               "fd00:255::3 spine2\n"
               "reached\n"
               "both spines carried flows\n"
               "No changes. The kernel matches the lab.\n");
}

TEST_CASE(
    "kernel: a ring that loses a link changes only the routes through it, reaches the long way round, "
    "and keeps a connection that did not use it",
    "[kernel][routing]") {
  // pc2 and pc3 talk over r2 - r3, which the removed link r6 - r1 is not on.
  Run r = in_sandbox({{"L", topology("ring.toml")}, {"CUT", ring_without_r6_r1()}},
                     std::string(kSettle) + kListening +
                         "$TOPO apply -q $L\nsettle\n"
                         "ip netns exec pc3 python3 -c '\n"
                         "import socket\n"
                         "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
                         "s.bind((\"0.0.0.0\", 7000)); s.listen(1)\n"
                         "c, _ = s.accept()\n"
                         "while True:\n"
                         "    data = c.recv(100)\n"
                         "    if not data: break\n"
                         "    c.sendall(data)\n"
                         "' &\n"
                         "listening pc3 7000\n"
                         "ip netns exec pc2 python3 -c '\n"
                         "import os, socket, time\n"
                         "c = socket.create_connection((\"192.168.3.2\", 7000), timeout=30)\n"
                         "c.sendall(b\"before\"); print(c.recv(100).decode(), flush=True)\n"
                         "open(\"/run/connected\", \"w\").close()\n"
                         "while not os.path.exists(\"/run/applied\"): time.sleep(0.05)\n"
                         "c.sendall(b\"after\"); print(c.recv(100).decode(), flush=True)\n"
                         "' > /run/client.out &\n"
                         "client=$!\n"
                         "until [ -e /run/connected ]; do sleep 0.05; done\n"
                         "echo '== plan'\n"
                         "$TOPO plan $CUT\n"
                         "$TOPO apply -q $CUT\n"
                         "touch /run/applied\n"
                         "wait $client\n"
                         "echo '== connection'\n"
                         "cat /run/client.out\n"
                         "echo '== after'\n"
                         "$TOPO plan --detailed-exitcode $CUT\n"
                         "$TOPO test $CUT | tail -1\n"
                         "ip -n r1 route show 192.168.6.0/24\n"
                         "$TOPO destroy -q $CUT\n"
                         "ip netns | wc -l\n");
  INFO(r.output);
  CHECK(r.status == 0);
  // The plan: the link, and in each namespace the routes whose shortest paths went over it.
  std::string plan = part(r.output, "plan");
  CHECK(plan.find("- veth r1 peer r1/r6") != std::string::npos);
  CHECK(plan.find("- route 10.255.0.10/31 via 10.255.0.0 dev r1\n") != std::string::npos);
  CHECK(plan.find("-/+ route 192.168.6.0/24 via 10.255.0.1 (its device r6 goes)\n") != std::string::npos);
  CHECK(plan.find("~ route 192.168.5.0/24: nexthop via 10.255.0.0 dev r1 nexthop via 10.255.0.3 dev r3 -> via "
                  "10.255.0.3\n") != std::string::npos);
  CHECK(plan.find("Plan: 20 to add, 16 to change, 30 to destroy.\n") != std::string::npos);
  // Nothing about r2's way to r3's LAN, or r3's to r2's: one hop apart, then and now.
  std::string r2 = plan.substr(plan.find("namespace r2\n"), plan.find("namespace r3\n") - plan.find("namespace r2\n"));
  std::string r3 = plan.substr(plan.find("namespace r3\n"), plan.find("namespace r4\n") - plan.find("namespace r3\n"));
  CHECK(r2.find("192.168.3.0/24") == std::string::npos);
  CHECK(r3.find("192.168.2.0/24") == std::string::npos);
  CHECK(part(r.output, "connection") == "before\nafter\n");
  CHECK(part(r.output, "after") ==
        "No changes. The kernel matches the lab.\n"
        "132 expectations: 132 hold, 0 fail.\n"
        "192.168.6.0/24 via 10.255.0.1 dev r2 proto 122 \n"
        "0\n");
}

namespace {

// 200 routers, a random tree plus 100 more links (seeded: the same graph every run), with
// the default pools; and 500 random pairs of them, each to the other's first address.
std::string random_routers(std::vector<std::pair<int, int>>& pairs) {
  std::mt19937 rng(21);
  const int n = 200;
  std::string lab = "lab = \"mesh\"\nrouting = \"static\"\n[[netns]]\nname = \"r\"\ncount = 200\n";
  std::set<std::pair<int, int>> links;
  for (int i = 2; i <= n; ++i) links.insert({static_cast<int>(rng() % (i - 1)) + 1, i});
  while (links.size() < n - 1 + 100) {
    int a = static_cast<int>(rng() % n) + 1, b = static_cast<int>(rng() % n) + 1;
    if (a != b && !links.count({b, a})) links.insert({a, b});
  }
  for (auto [a, b] : links) lab += fmt::format("[[link]]\nends = [\"r{}\", \"r{}\"]\n", a, b);
  while (pairs.size() < 500) {
    int a = static_cast<int>(rng() % n) + 1, b = static_cast<int>(rng() % n) + 1;
    if (a != b) pairs.push_back({a, b});
  }
  for (auto [a, b] : pairs) lab += fmt::format("[[expect]]\nfrom = \"r{}\"\nto = \"r{}\"\nreach = true\n", a, b);
  return lab;
}

}  // namespace

TEST_CASE("kernel: 200 routers in a random connected graph apply, reach each other, plan nothing more, destroy clean",
          "[kernel][routing]") {
  std::vector<std::pair<int, int>> pairs;
  Run r = in_sandbox({{"L", random_routers(pairs)}}, std::string(kSettle) +
                                                         "$TOPO apply -q $L\n"
                                                         "$TOPO plan --detailed-exitcode $L\n"
                                                         "$TOPO test $L | tail -1\n"
                                                         "$TOPO destroy -q $L\n"
                                                         "ip netns | wc -l\n"
                                                         "ip -o link | wc -l\n");
  check_prints(r,
               "No changes. The kernel matches the lab.\n"
               "500 expectations: 500 hold, 0 fail.\n"
               "0\n"
               "1\n");
}

TEST_CASE(
    "kernel: the host takes part through a link end: its computed routes are the lab's, removed by destroy, "
    "and never take over a destination the machine routes",
    "[kernel][routing]") {
  const char* lab = R"(lab = "edge"
routing = "static"
[[netns]]
name = "r"
count = 2
[[link]]
ends = ["host", "r1"]
[[link]]
ends = ["r1", "r2"]
[[network]]
name = "lan"
netns = "r2"
subnets = ["192.168.2.0/24"]
[[netns]]
name = "pc"
networks = ["lan"]
)";
  Run r = in_sandbox({{"L", lab}}, std::string(kWitness) + kSettle +
                                       "ip link add m0 type bridge\nip link set m0 up\n"
                                       "ip route add 192.168.2.0/24 dev m0 metric 50\n"
                                       "witness > /run/before\n"
                                       "$TOPO apply $L 2>&1 | grep -e conflict -e refused\n"
                                       "ip route del 192.168.2.0/24 dev m0 metric 50\n"
                                       "witness > /run/before\n"
                                       "$TOPO apply -q $L\nsettle\n"
                                       "ip route show proto 122\n"
                                       "ping -c1 -W5 192.168.2.2 > /dev/null && echo 'host reaches pc'\n"
                                       "$TOPO destroy -q $L\n"
                                       "witness > /run/after\n"
                                       "diff /run/before /run/after && echo 'as before'\n");
  check_prints(r,
               "  ! conflict: the machine routes 192.168.2.0/24 already (route 192.168.2.0/24 dev m0 metric 50); "
               "routing = \"static\" would add a route there: write the route in the file if the lab's is meant to "
               "win\n"
               "1 conflict: topo does not touch what is not the lab's; apply would refuse.\n"
               "topo: apply refused: nothing was changed.\n"
               "10.255.0.2/31 via 10.255.0.1 dev r1 \n"
               "192.168.2.0/24 via 10.255.0.1 dev r1 \n"
               "host reaches pc\n"
               "as before\n");
}

TEST_CASE(
    "kernel: a routed lab's destroy takes a step a namespace (and a multipath route across two), and failing at each "
    "it puts every route back",
    "[kernel][routing]") {
  // The routes through a [[link]] go with the namespace whose removal takes the link, in
  // whichever namespace they are (host among them, through its end of a link): the kernel
  // deletes them with their device; undone, the step makes the device and then them. A
  // multipath route with a next hop through another namespace's link would only lose that
  // hop: it goes by a step of its own first (the edge's triangle: 4 of them, the ring: 16),
  // and failing after that namespace went it came back without that hop before.
  const char* edge = R"(lab = "edge"
routing = "static"
[[netns]]
name = "r"
count = 3
[[link]]
ends = ["host", "r1"]
[[link]]
ends = ["r1", "r2"]
[[link]]
ends = ["r2", "r3"]
[[link]]
ends = ["r3", "r1"]
)";
  for (const std::string& lab : {std::string(edge), read_file(source_dir() / "topologies/ring.toml")}) {
    Run r = in_sandbox({{"L", lab}}, std::string(kWitness) + kSettle +
                                         "stable() { witness | sed -E 's/@if[0-9]+//; s/ \\(id: [0-9]+\\)//; s/ "
                                         "fe80::[0-9a-f:]+\\/64//; s/ linkdown//'"
                                         " | sort; }\n"
                                         "$TOPO apply -q $L\n" +
                                         fail_each_destroy_step("$L", "settle; stable") +
                                         "ip route show proto 122; ip netns | wc -l\n");
    INFO(lab);
    CHECK(r.status == 0);
    CHECK(r.output == (lab == edge ? "destroyed at the 8-th try\n0\n" : "destroyed at the 23-th try\n0\n"));
  }
}
