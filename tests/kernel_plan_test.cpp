// topo plan against a real kernel, each case in its own sandbox: `plan --format shell | bash`
// builds the lab, after which the plan is empty; edits to the file give exactly their change;
// what is not the lab's is a conflict. `ip` is the independent witness.
#include "tests/kernel_harness.h"

using namespace topo::test;

namespace {

// kRedAndBlueLab (tests/labs.h) with a VXLAN on br0, an IPv6 default route for red, and
// files in /etc/netns: red's resolv.conf and blue's hosts.
const std::string kStar =
    edited(edited(kRedAndBlueLab, "hosts = { blue = \"10.0.0.3\" }\n[[netns]]\nname = \"blue\"\n",
                  "dns = [\"10.0.0.1\"]\n[[netns]]\nname = \"blue\"\nhosts = { red = \"10.0.0.2\" }\n"),
           "[[veth]]\na = { name = \"up0\" }",
           "[[vxlan]]\nname = \"vx42\"\nid = 42\nlocal = \"10.0.0.1\"\nremote = \"10.0.0.9\"\nmaster = \"br0\"\n"
           "[[veth]]\na = { name = \"up0\" }") +
    "[[route]]\nnetns = \"red\"\nto = \"::/0\"\nvia = \"fd00::1\"\n";

// Builds `lab` ($L) with the shell plan, then runs `then` (bash) in the same sandbox, with
// the other lab files `more`, once the links settle (a route through a link whose carrier
// linkwatch has not yet seen is flagged linkdown).
Run built(const std::string& lab, const std::string& then, LabFiles more = {}) {
  more.insert(more.begin(), {"L", lab});
  return in_sandbox(more, std::string(kSettle) + "$TOPO plan --format shell $L | bash\nsettle\n" + then);
}

// Bash: the plan of $E, its exit status, MACs (the kernel's choice) masked.
const char* kPlanOfEdit =
    "$TOPO plan --detailed-exitcode $E > /run/out || echo \"exit $?\"\n"
    "sed -E 's/mac ([0-9a-f]{2}:){5}[0-9a-f]{2}/mac M/' /run/out\n";

}  // namespace

TEST_CASE("kernel: plan --format shell | bash builds the lab and then nothing is left to do", "[kernel]") {
  Run r = built(kStar,
                "$TOPO plan --detailed-exitcode $L\n"
                "ip -n red -4 route show default\n"
                "ip -n blue -d link show mv0 | grep -o 'macvlan mode bridge'\n"
                "ip -br link show master br0 | cut -d' ' -f1 | cut -d@ -f1 | sort | tr '\\n' ' '\n"
                "cat /etc/netns/red/resolv.conf\n");
  check_prints(r,
               "No changes. The kernel matches the lab.\n"
               "default via 10.0.0.1 dev eth0 proto 122 \n"
               "macvlan mode bridge\n"
               "blue-p red-p vx42 "
               "# written by topo for lab web\n"
               "nameserver 10.0.0.1\n");
}

TEST_CASE("kernel: an edited file gives exactly its change", "[kernel]") {
  std::string edit = edited(kStar, "b = { name = \"blue-p\", master = \"br0\" }",
                            "b = { name = \"blue-p\", master = \"br0\", mtu = 1400 }");
  edit = edited(edit, "b = { name = \"up1\", netns = \"blue\" }", "b = { name = \"up1\" }") +
         "[[netns]]\nname = \"green\"\n";
  Run r = built(kStar, kPlanOfEdit, {{"E", edit}});
  check_prints(r,
               "exit 2\n"
               "namespace host\n"
               "  ~ bridge br0: mtu 1500 -> 1400\n"  // without an mtu of its own: its smallest port's
               "  ~ veth blue-p: mtu 1500 -> 1400\n"
               "  -/+ veth up0 peer host/up1 (peer blue/up1 -> host/up1)\n"
               "  + veth up1 peer host/up0\n"
               "namespace blue\n"
               "  - veth up1 peer host/up0 mtu 1500 mac M\n"
               "  -/+ macvlan mv0 parent host/up0 mode bridge 10.1.0.5/24 (its parent up0 is made again)\n"
               "namespace green\n"
               "  + netns green\n"
               "\n"
               "Plan: 4 to add, 2 to change, 3 to destroy.\n");
}

TEST_CASE("kernel: a veth removed from the file is removed, both ends", "[kernel]") {
  std::string veth =
      "[[veth]]\na = { netns = \"blue\", name = \"eth0\", addresses = [\"10.0.0.3/24\"] }\n"
      "b = { name = \"blue-p\", master = \"br0\" }\n";
  Run r = built(kStar, kPlanOfEdit, {{"E", edited(kStar, veth, "")}});
  check_prints(r,
               "exit 2\n"
               "namespace host\n"
               "  - veth blue-p peer blue/eth0 mtu 1500 mac M master br0\n"
               "namespace blue\n"
               "  - veth eth0 peer host/blue-p 10.0.0.3/24 mtu 1500 mac M\n"
               "\n"
               "Plan: 0 to add, 0 to change, 2 to destroy.\n");
}

TEST_CASE("kernel: the shell plan of an emptied file takes the lab down, its bridge before its ports", "[kernel]") {
  // br0 goes down first; going down, the kernel drops its IPv6 address, so the script does
  // not delete that one itself (ip would fail: the address is gone). The batch and the
  // namespaces list their contents on lines of their own, commented like the first.
  Run r = built(kStar,
                "$TOPO plan --format shell $EMPTY > /run/down.sh\n"
                "grep -E 'br0 (down|up)|addr del' /run/down.sh\n"
                "bash -e /run/down.sh || echo \"script exit $?\"\n"
                // up0 dies with blue, which the kernel reaps a moment after `ip netns delete`
                "for i in $(seq 50); do [ \"$(ip -br link | wc -l)\" = 1 ] && break; sleep 0.1; done\n"
                "ip -br link | cut -d' ' -f1 | tr '\\n' ' '; echo; ip netns\n",
                {{"EMPTY", "lab = \"web\"\n"}});
  check_prints(r,
               "ip link set dev br0 down\n"
               "lo \n");
}

TEST_CASE("kernel: a foreign interface named like a lab's is a conflict", "[kernel]") {
  Run r = in_sandbox({{"L", kStar}},
                     "ip link add br0 type bridge\n"
                     "$TOPO plan $L > /run/out || echo \"exit $?\"\n"
                     "grep -e conflict -e Plan: /run/out\n"
                     "$TOPO plan --format shell $L > /dev/null || echo \"shell exit $?\"\n");
  check_prints(r,
               "exit 1\n"
               "  ! conflict: interface 'br0' exists and is not the lab's (a bridge, no topo mark)\n"
               "Plan: 14 to add, 1 to change, 0 to destroy.\n"
               "1 conflict: topo does not touch what is not the lab's; apply would refuse.\n"
               "topo: conflict in host: interface 'br0' exists and is not the lab's (a bridge, no topo mark)\n"
               "shell exit 1\n");
}

TEST_CASE("kernel: an address that is the broadcast address of a machine's subnet is a conflict", "[kernel]") {
  // Evolve seed 71, the kernel as witness first: an address that is also a broadcast address
  // of the namespace gets no prefix route when it comes second. Then topo refuses to make it.
  const char* lab = R"(lab = "web"
[[bridge]]
name = "br0"
addresses = ["10.152.0.127/24"]
)";
  Run r = in_sandbox({{"L", lab}},
                     "ip link add eth9 type veth peer name eth8; ip link set eth9 up\n"
                     "ip addr add 10.152.0.114/25 dev eth9\n"
                     "ip link add br9 type bridge; ip link set br9 up; ip addr add 10.152.0.127/24 dev br9\n"
                     "ip -4 route show dev br9 | wc -l; ip link del br9\n"
                     "$TOPO apply $L > /run/out 2>&1 || echo \"exit $?\"\n"
                     "grep -e conflict: -e refused /run/out; ip -br link show type bridge | wc -l\n");
  check_prints(r,
               "0\n"
               "exit 1\n"
               "  ! conflict: address 10.152.0.127 of 'br0' is the broadcast address of subnet "
               "10.152.0.0/25 of 'eth9' (one of them not the lab's); the kernel would give 'br0' no route to "
               "10.152.0.0/24 when it comes second\n"
               "1 conflict: topo does not touch what is not the lab's; apply would refuse.\n"
               "topo: apply refused: nothing was changed.\n"
               "0\n");
}

TEST_CASE("kernel: every topologies/ lab builds from its shell plan", "[kernel][topologies]") {
  for (const auto& path : example_labs()) {
    DYNAMIC_SECTION(path.filename().string()) {
      Run r = in_sandbox("L=" + path.string() +
                         "\n$TOPO plan --format shell $L | bash\n$TOPO plan --detailed-exitcode $L\n");
      check_prints(r, "No changes. The kernel matches the lab.\n");
    }
  }
}
