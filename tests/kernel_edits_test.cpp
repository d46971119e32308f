// A lab applied, then edited: each edit applied must leave the kernel in the new file's
// state (the next plan empty), keep what the edit does not touch (routes through a link
// whose address changes, a bridge's address), and roll back exactly when it fails. Each
// case is one of issue 18's reproductions; `ip` is the witness.
#include <catch2/catch.hpp>

#include <fmt/format.h>

#include <string>

#include "tests/files.h"
#include "tests/kernel_scripts.h"

using namespace topo::test;

namespace {

// red behind a host bridge, with a default route and a route to a far network, both
// through eth0. {A}: red's addresses; {B}: the bridge's.
std::string routed_lab(const std::string& red, const std::string& bridge = "\"10.0.0.1/24\"") {
  return fmt::format(R"(lab = "edit"
[[netns]]
name = "red"
[[bridge]]
name = "br0"
addresses = [{1}]
[[veth]]
a = {{ netns = "red", name = "eth0", addresses = [{0}] }}
b = {{ name = "red-p", master = "br0" }}
[[route]]
netns = "red"
to = "default"
via = "10.0.0.1"
[[route]]
netns = "red"
to = "10.9.0.0/16"
dev = "eth0"
)",
                     red, bridge);
}

// Applies each file in turn; after each, the plan must be empty (exit 0) and the routes of
// red are printed.
std::string apply_each(const std::vector<std::string>& files) {
  std::string script;
  for (const std::string& f : files)
    script += "$TOPO apply -q " + f + " || echo \"apply exit $?\"\n"
              "$TOPO plan --detailed-exitcode " + f + " > /dev/null || echo \"plan not empty after " + f + "\"\n"
              "ip -n red route | sed 's/ *$//'\n";
  return script;
}

// red's routes once applied, its address on the subnet being 10.0.0.SRC.
std::string red_routes(int src) {
  return fmt::format("default via 10.0.0.1 dev eth0 proto 122\n"
                     "10.0.0.0/24 dev eth0 proto kernel scope link src 10.0.0.{}\n"
                     "10.9.0.0/16 dev eth0 proto 122 scope link\n",
                     src);
}

}  // namespace

TEST_CASE("kernel: changing a link's only IPv4 address keeps the routes through it", "[kernel][edits]") {
  TempDir dir;
  std::string one = dir.write("one.toml", routed_lab("\"10.0.0.3/24\""));
  std::string two = dir.write("two.toml", routed_lab("\"10.0.0.30/24\""));
  Run r = in_sandbox(apply_each({one, two, one}));
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(r.output == red_routes(3) + red_routes(30) + red_routes(3));
}

TEST_CASE("kernel: dropping a primary address keeps its secondary and the routes", "[kernel][edits]") {
  TempDir dir;
  std::string both = dir.write("both.toml", routed_lab("\"10.0.0.3/24\", \"10.0.0.4/24\""));
  std::string second = dir.write("second.toml", routed_lab("\"10.0.0.4/24\""));
  std::string others = dir.write("others.toml", routed_lab("\"10.0.0.5/24\", \"10.0.0.6/24\""));
  Run r = in_sandbox(apply_each({both, second, others}));
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(r.output == red_routes(3) + red_routes(4) + red_routes(5));
}

TEST_CASE("kernel: an address added below a link's primary becomes primary, as in a fresh apply", "[kernel][edits]") {
  TempDir dir;
  std::string both = dir.write("both.toml", routed_lab("\"10.0.0.3/24\", \"10.0.0.4/24\""));
  std::string second = dir.write("second.toml", routed_lab("\"10.0.0.4/24\""));
  // Then the same two addresses, the higher one primary, as someone adding one by hand would leave them.
  Run r = in_sandbox(apply_each({both, second, both}) + "$TOPO plan " + second + " | grep eth0\n" +
                     apply_each({second}) + "ip -n red addr add 10.0.0.3/24 dev eth0\n"
                     "$TOPO plan " + both + " | grep eth0\n" + apply_each({both}));
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(r.output == red_routes(3) + red_routes(4) + red_routes(3) + "  ~ veth eth0: -10.0.0.3/24\n" +
                        red_routes(4) + "  ~ veth eth0: order 10.0.0.4/24 10.0.0.3/24 -> 10.0.0.3/24 10.0.0.4/24\n" +
                        red_routes(3));
}

TEST_CASE("kernel: a prefix change on a host bridge keeps the members' default routes", "[kernel][edits]") {
  TempDir dir;
  std::string narrow = dir.write("narrow.toml", routed_lab("\"10.0.0.3/24\"", "\"10.0.0.1/24\""));
  std::string wide = dir.write("wide.toml", routed_lab("\"10.0.0.3/16\"", "\"10.0.0.1/16\""));
  Run r = in_sandbox(apply_each({narrow, wide}) + "ip route | grep br0 | sed 's/ *$//'\n");
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(r.output ==
        "default via 10.0.0.1 dev eth0 proto 122\n"
        "10.0.0.0/24 dev eth0 proto kernel scope link src 10.0.0.3\n"
        "10.9.0.0/16 dev eth0 proto 122 scope link\n"
        "default via 10.0.0.1 dev eth0 proto 122\n"
        "10.0.0.0/16 dev eth0 proto kernel scope link src 10.0.0.3\n"
        "10.9.0.0/16 dev eth0 proto 122 scope link\n"
        "10.0.0.0/16 dev br0 proto kernel scope link src 10.0.0.1\n");
}

TEST_CASE("kernel: routes through a link that is made again are made again", "[kernel][edits]") {
  TempDir dir;
  std::string base = routed_lab("\"10.0.0.3/24\"");
  auto with = [](std::string lab, const std::string& from, const std::string& to) {
    lab.replace(lab.find(from), from.size(), to);
    return lab;
  };
  // The veth's far end renamed: the pair is made again, eth0 with it.
  std::string renamed = dir.write("renamed.toml", with(base, "name = \"red-p\"", "name = \"red-q\""));
  // eth0 becomes a macvlan on a host veth (its peer on the bridge).
  std::string macvlan = dir.write("macvlan.toml", with(base,
      "[[veth]]\na = { netns = \"red\", name = \"eth0\", addresses = [\"10.0.0.3/24\"] }\nb = { name = \"red-p\", master = \"br0\" }",
      "[[veth]]\na = { name = \"up0\" }\nb = { name = \"up1\", master = \"br0\" }\n"
      "[[macvlan]]\nname = \"eth0\"\nnetns = \"red\"\nparent = \"up0\"\naddresses = [\"10.0.0.3/24\"]"));
  std::string first = dir.write("first.toml", base);
  Run r = in_sandbox(apply_each({first, renamed, macvlan, first}));
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(r.output == red_routes(3) + red_routes(3) + red_routes(3) + red_routes(3));
}

TEST_CASE("kernel: routes through a VXLAN whose id changes are made again", "[kernel][edits]") {
  TempDir dir;
  std::string lab = R"(lab = "vx"
[[netns]]
name = "red"
[[veth]]
a = { netns = "red", name = "u0", addresses = ["192.168.9.1/24"] }
b = { name = "u1", addresses = ["192.168.9.2/24"] }
[[vxlan]]
netns = "red"
name = "vx0"
id = ID
remote = "192.168.9.2"
dev = "u0"
addresses = ["10.7.0.1/24"]
[[route]]
netns = "red"
to = "10.8.0.0/16"
via = "10.7.0.2"
)";
  std::string a = dir.write("a.toml", lab.replace(lab.find("ID"), 2, "42"));
  std::string b = dir.write("b.toml", lab.replace(lab.find("id = 42"), 7, "id = 43"));
  Run r = in_sandbox(apply_each({a, b}) + "$TOPO plan " + a + " | grep -- '-/+'\n");
  INFO(r.output);
  CHECK(r.status == 0);
  std::string routes = "10.7.0.0/24 dev vx0 proto kernel scope link src 10.7.0.1\n"
                       "10.8.0.0/16 via 10.7.0.2 dev vx0 proto 122\n"
                       "192.168.9.0/24 dev u0 proto kernel scope link src 192.168.9.1\n";
  CHECK(r.output == routes + routes +
                        "  -/+ vxlan vx0 id 42 remote 192.168.9.2 dev u0 port 4789 10.7.0.1/24 mtu 1450 (id 43 -> 42)\n"
                        "  -/+ route 10.8.0.0/16 via 10.7.0.2 (its device vx0 is made again)\n");
}

TEST_CASE("kernel: a bridge keeps its address when ports join and leave, and it is the lab's own", "[kernel][edits]") {
  TempDir dir;
  std::string one = dir.write("one.toml", routed_lab("\"10.0.0.3/24\""));
  std::string two = dir.write("two.toml", routed_lab("\"10.0.0.3/24\"") +
                                              "[[netns]]\nname = \"blue\"\n[[veth]]\n"
                                              "a = { netns = \"blue\", name = \"eth0\", addresses = [\"10.0.0.4/24\"], mac = \"02:00:00:00:00:01\" }\n"
                                              "b = { name = \"blue-p\", master = \"br0\", mac = \"02:00:00:00:00:02\" }\n");
  Run r = in_sandbox("mac() { ip -o link show br0 | grep -o 'ether [^ ]*' | cut -d' ' -f2; }\n"
                     "$TOPO apply -q " + one + "; m1=$(mac)\n"
                     "$TOPO apply -q " + two + "; m2=$(mac)\n"
                     "$TOPO apply -q " + one + "; m3=$(mac)\n"
                     "[ \"$m1\" = \"$m2\" ] && [ \"$m2\" = \"$m3\" ] && echo same\n"
                     "case $m1 in ?2:*|?6:*|?a:*|?e:*) echo 'locally administered';; esac\n"
                     "$TOPO plan --detailed-exitcode " + one + " > /dev/null && echo converged\n");
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(r.output == "same\nlocally administered\nconverged\n");
}

TEST_CASE("kernel: an mtu left out of the file goes back to the kernel's default", "[kernel][edits]") {
  TempDir dir;
  std::string plain = routed_lab("\"10.0.0.3/24\"");
  auto with = [](std::string lab, const std::string& from, const std::string& to) {
    lab.replace(lab.find(from), from.size(), to);
    return lab;
  };
  std::string jumbo = dir.write("jumbo.toml", with(plain, "b = { name = \"red-p\"", "mtu = 9000\nb = { name = \"red-p\""));
  std::string small = dir.write("small.toml", with(plain, "addresses = [\"10.0.0.1/24\"]", "addresses = [\"10.0.0.1/24\"]\nmtu = 1400"));
  std::string none = dir.write("none.toml", plain);
  Run r = in_sandbox("mtu() { ip \"$@\" | grep -o 'mtu [0-9]*' | cut -d' ' -f2; }\n"
                     "mtus() { echo $(mtu -o link show br0) $(mtu -o link show red-p) $(mtu -n red -o link show eth0); }\n"
                     "for f in " + jumbo + " " + none + " " + small + " " + none + "; do\n"
                     "  $TOPO apply -q $f\n"
                     "  $TOPO plan --detailed-exitcode $f > /dev/null || echo 'not converged'\n"
                     "  mtus\n"
                     "done\n");
  INFO(r.output);
  CHECK(r.status == 0);
  // A bridge with an mtu of its own keeps it when its ports come (the kernel would move it
  // to theirs); without one it follows its smallest port, as the kernel does.
  CHECK(r.output == "9000 9000 9000\n1500 1500 1500\n1400 1500 1500\n1500 1500 1500\n");
}

TEST_CASE("kernel: an IPv6 route with metric 0 converges (the kernel stores 1024)", "[kernel][edits]") {
  TempDir dir;
  std::string lab = dir.write("lab.toml", R"(lab = "six"
[[netns]]
name = "red"
[[veth]]
a = { netns = "red", name = "eth0", addresses = ["fd00::2/64"] }
b = { name = "red-p", addresses = ["fd00::1/64"] }
[[route]]
netns = "red"
to = "fd01::/64"
via = "fd00::1"
metric = 0
)");
  Run r = in_sandbox("$TOPO apply -q " + lab + "\n$TOPO plan --detailed-exitcode " + lab + "\n");
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(r.output == "No changes. The kernel matches the lab.\n");
}

TEST_CASE("kernel: a failed edit that removes a bridge and its routes rolls back exactly", "[kernel][edits]") {
  TempDir dir;
  std::string first = dir.write("first.toml", routed_lab("\"10.0.0.3/24\""));
  // The bridge goes, its port stays (off any bridge), red's address changes and the routes
  // change device; the last step fails.
  std::string edit = dir.write("edit.toml", R"(lab = "edit"
[[netns]]
name = "red"
[[veth]]
a = { netns = "red", name = "eth0", addresses = ["10.0.0.30/24"] }
b = { name = "red-p", addresses = ["10.0.0.1/24"] }
[[veth]]
a = { netns = "red", name = "eth1", addresses = ["10.1.0.2/24"] }
b = { name = "red-q", addresses = ["10.1.0.1/24"] }
[[route]]
netns = "red"
to = "default"
via = "10.1.0.1"
[[route]]
netns = "red"
to = "10.9.0.0/16"
dev = "eth1"
)");
  Run r = in_sandbox(std::string(kWitness) +
                     "$TOPO apply -q " + first + "\n" +
                     // Sorted: a link made again by the rollback has a new ifindex, so comes
                     // later in ip's lists; all else must be as it was.
                     fail_each_step(edit, "witness | sort") +
                     "$TOPO plan --detailed-exitcode " + edit + " > /dev/null && echo converged\n");
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(r.output == "applied once each of its 7 steps had failed\nconverged\n");
}

TEST_CASE("kernel: apply checks the kernel after its last step and rolls back what it finds undone", "[kernel][edits]") {
  TempDir dir;
  std::string lab = dir.write("lab.toml", routed_lab("\"10.0.0.3/24\""));
  // Something (the kernel, another process) takes a route away just after the last step.
  Run r = in_sandbox("TOPO_TEST_AFTER_LAST_STEP='ip -n red route del 10.9.0.0/16' $TOPO apply " + lab +
                     " || echo \"exit $?\"\n"
                     "ip netns | wc -l; ip link show br0 2>&1 | head -1 | cut -d' ' -f1-3\n");
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(r.output ==
        "topo: apply failed after its last step: checking the kernel after the last step: it is not in the "
        "file's state; still to do:\n"
        "    red: + route 10.9.0.0/16 dev eth0\n"
        "rolled back: the kernel is as it was.\n"
        "exit 1\n"
        "0\n"
        "Device \"br0\" does\n");
}

TEST_CASE("kernel: a namespace renamed with a macvlan whose parent stays frees the macvlan's MAC at once",
          "[kernel][edits]") {
  TempDir dir;
  // The macvlan dies with its namespace, but the kernel reaps a namespace in the background:
  // until then its MAC is taken on the parent, and the one made in the new namespace (or made
  // again in the old one by a rollback) has that MAC.
  auto lab = [](const std::string& ns) {
    return fmt::format(R"(lab = "mv"
[[netns]]
name = "{0}"
[[veth]]
a = {{ name = "up0" }}
b = {{ name = "up1" }}
[[macvlan]]
name = "mv0"
netns = "{0}"
parent = "up0"
mac = "02:00:00:00:00:07"
addresses = ["10.0.0.7/24"]
)",
                       ns);
  };
  std::string red = dir.write("red.toml", lab("red"));
  std::string blue = dir.write("blue.toml", lab("blue"));
  Run r = in_sandbox(std::string(kWitness) +
                     "$TOPO apply -q " + red + "\n"
                     "witness > /run/before\n"
                     "for k in 1 2 3; do\n"
                     "  TOPO_TEST_FAIL_STEP=$k $TOPO apply -q " + blue + " 2> /run/err || true\n"
                     "  tail -1 /run/err | grep -q 'the kernel is as it was' || { echo \"step $k:\"; cat /run/err; }\n"
                     "  witness | diff /run/before - > /dev/null || echo \"step $k: not as it was\"\n"
                     "done\n"
                     "for f in " + blue + " " + red + " " + blue + "; do\n"
                     "  $TOPO apply -q $f || echo \"apply exit $?\"\n"
                     "  $TOPO plan --detailed-exitcode $f > /dev/null || echo \"plan not empty after $f\"\n"
                     "done\n"
                     "ip netns exec blue ip -br link show mv0 | awk '{ print $1, $3 }'\n");
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(r.output == "mv0@if3 02:00:00:00:00:07\n");
}

TEST_CASE("kernel: an adopted namespace renamed in the file keeps its links, and its records move to the new name",
          "[kernel][edits]") {
  TempDir dir;
  // The same namespace under another name: its links, routes and sysctls stay, its
  // /etc/netns files move, and the originals and routes topo keeps for it are the new name's
  // (dropping the sysctl puts back the value from before the lab).
  auto lab = [](const std::string& ns, const std::string& sysctl) {
    return fmt::format(R"(lab = "ad"
[[netns]]
name = "{0}"
path = "/run/box"
dns = ["10.0.0.53"]
{1}
[[veth]]
a = {{ name = "eth0", netns = "{0}", addresses = ["10.0.0.2/24"] }}
b = {{ name = "box-p", addresses = ["10.0.0.1/24"] }}
[[route]]
netns = "{0}"
to = "10.9.0.0/16"
via = "10.0.0.1"
)",
                       ns, sysctl);
  };
  const std::string forward = R"(sysctl = { "net.ipv4.ip_forward" = 1 })";
  std::string c3 = dir.write("c3.toml", lab("c3", forward));
  std::string c12 = dir.write("c12.toml", lab("c12", forward));
  std::string plain = dir.write("plain.toml", lab("c12", ""));
  Run r = in_sandbox(
      "touch /run/box && unshare --net=/run/box true\n"
      "box() { nsenter --net=/run/box \"$@\"; }\n"
      "state() { box ip -br addr | awk '{ print $1, $3 }' | sed 's/ *$//'; box ip route | sed 's/ *$//';"
      " box cat /proc/sys/net/ipv4/ip_forward; ls /etc/netns; cat /run/topo/ad/sysctl-originals /run/topo/ad/routes; }\n"
      "$TOPO apply -q " + c3 + "\n"
      + fail_each_step(c12, "state", 4) +
      "$TOPO plan --detailed-exitcode " + c12 + " > /dev/null || echo 'plan not empty'\n"
      "state\n"
      "$TOPO apply -q " + plain + "\n"
      "box cat /proc/sys/net/ipv4/ip_forward\n"
      "$TOPO destroy -q " + plain + "\n"
      "ls /run/topo/ad; ls /etc/netns; box ip -br link | cut -d' ' -f1\n");
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(r.output ==
        "applied once each of its 2 steps had failed\n"
        "lo\n"
        "eth0@if2 10.0.0.2/24\n"
        "10.0.0.0/24 dev eth0 proto kernel scope link src 10.0.0.2\n"
        "10.9.0.0/16 via 10.0.0.1 dev eth0 proto 122\n"
        "1\n"
        "c12\n"
        "c12\tnet.ipv4.ip_forward\t0\n"
        "c12\t10.9.0.0/16\t0\n"
        "0\n"
        "lock\n"
        "lo\n");
}

TEST_CASE("kernel: two links of a namespace on one subnet roll back exactly", "[kernel][edits]") {
  TempDir dir;
  // Each has a prefix route of the same key; the rollback makes the pair again, and which
  // route comes first is then the other way round: both must be read, whatever the order.
  auto lab = [](const std::string& end) {
    return fmt::format(R"(lab = "two"
[[netns]]
name = "n1"
[[veth]]
a = {{ name = "{}", netns = "n1", addresses = ["10.141.0.1/24", "fd00:141::1/64"] }}
b = {{ name = "ve15", netns = "n1", addresses = ["10.141.0.2/24", "fd00:141::2/64"] }}
[[macvlan]]
name = "mv18"
netns = "n1"
parent = "ve15"
parent_netns = "n1"
)",
                       end);
  };
  std::string first = dir.write("first.toml", lab("eth0"));
  std::string edit = dir.write("edit.toml", lab("eth20"));
  Run r = in_sandbox(std::string(kWitness) +
                     "$TOPO apply -q " + first + "\n" +
                     fail_each_step(edit, "witness | sort", 20) +
                     "$TOPO plan --detailed-exitcode " + edit + " > /dev/null && echo converged\n"
                     "$TOPO show " + edit + " | grep 'route 10.141'\n");
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(r.output ==
        "applied once each of its 4 steps had failed\n"
        "converged\n"
        "  route 10.141.0.0/24 dev eth20 proto kernel\n"
        "  route 10.141.0.0/24 dev ve15 proto kernel\n");
}

TEST_CASE("kernel: a bridge whose mtu is the kernel's default keeps it when a smaller port joins", "[kernel][edits]") {
  TempDir dir;
  // Asked for the mtu it has already, the kernel changes nothing and does not note it as
  // asked for: the port of 1280 would move the bridge to 1280.
  std::string lab = dir.write("lab.toml", R"(lab = "br"
[[netns]]
name = "n56"
[[bridge]]
name = "br8"
mtu = 1500
[[veth]]
a = { name = "eth0", netns = "n56" }
b = { name = "vp57", master = "br8", mtu = 1280 }
)");
  Run r = in_sandbox("$TOPO apply -q " + lab + " || echo \"exit $?\"\n"
                     "ip -o link show br8 | grep -o 'mtu [0-9]*'\n"
                     "$TOPO destroy -q " + lab + "\n"
                     "$TOPO plan --format shell " + lab + " | bash\n"
                     "ip -o link show br8 | grep -o 'mtu [0-9]*'\n"
                     "$TOPO plan --detailed-exitcode " + lab + " > /dev/null && echo converged\n");
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(r.output == "mtu 1500\nmtu 1500\nconverged\n");
}

TEST_CASE("kernel: a failed edit whose new port lowers a bridge with a macvlan on it rolls back exactly",
          "[kernel][edits]") {
  TempDir dir;
  std::string lab = R"(lab = "mtu"
[[netns]]
name = "red"
[[bridge]]
name = "br0"
[[macvlan]]
name = "mv0"
parent = "br0"
netns = "red"
)";
  std::string first = dir.write("first.toml", lab);
  // The port's mtu of 1280 lowers br0, and the kernel lowers mv0 with it.
  std::string edit = dir.write("edit.toml", lab + R"([[veth]]
a = { netns = "red", name = "eth0", mtu = 1280 }
b = { name = "red-p", master = "br0", mtu = 1280 }
)");
  Run r = in_sandbox(std::string(kWitness) +
                     "$TOPO apply -q " + first + "\n" +
                     // A port-less bridge's carrier is the kernel's to settle, in its own time:
                     // not state, not compared.
                     fail_each_step(edit, "witness | sed 's/NO-CARRIER,//' | sort", 20) +
                     "ip -n red -o link show mv0 | grep -o 'mtu [0-9]*'\n"
                     "$TOPO plan --detailed-exitcode " + edit + " > /dev/null && echo converged\n");
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(r.output == "applied once each of its 3 steps had failed\nmtu 1280\nconverged\n");
}

TEST_CASE("kernel: a VXLAN over a bridge that a later port lowers is born at the mtu it ends with",
          "[kernel][edits]") {
  TempDir dir;
  // vp4 lowers br3 to 1280 as it joins; the kernel never lowers a VXLAN over a bridge, so a
  // vp10 made at br3's 1500 would stay at 1450 where its default is 1230 (evolve seed 46).
  std::string lab = dir.write("lab.toml", R"(lab = "mtu"
[[bridge]]
name = "br3"
[[vxlan]]
name = "vp10"
id = 80
group = "239.1.1.124"
dev = "br3"
[[veth]]
a = { name = "up0" }
b = { name = "up1" }
[[macvlan]]
name = "vp4"
parent = "up0"
master = "br3"
mtu = 1280
)");
  Run r = in_sandbox("$TOPO apply -q " + lab + " || echo \"exit $?\"\n"
                     "ip -o link show vp10 | grep -o 'mtu [0-9]*'\n"
                     "$TOPO plan --detailed-exitcode " + lab + " > /dev/null && echo converged\n");
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(r.output == "mtu 1230\nconverged\n");
}

TEST_CASE("kernel: a bridge given the mtu it has keeps it when a smaller port joins", "[kernel][edits]") {
  TempDir dir;
  // The kernel moves a bridge to its smallest port's mtu until someone sets its mtu; setting
  // the one it has is no change, and it would move on. So topo makes every bridge with an
  // mtu set (evolve seed 45).
  std::string lab = R"(lab = "mtu"
[[netns]]
name = "n3"
[[bridge]]
name = "br19"
netns = "n3"
)";
  std::string first = dir.write("first.toml", lab);
  std::string edit = dir.write("edit.toml", lab + R"(mtu = 1500
[[netns]]
name = "n18"
[[veth]]
a = { name = "eth0", netns = "n18" }
b = { name = "eth0", netns = "n3" }
[[vxlan]]
name = "vp9"
netns = "n3"
id = 9981200
group = "239.1.1.235"
dev = "eth0"
master = "br19"
)");
  Run r = in_sandbox("$TOPO apply -q " + first + "\n"
                     "$TOPO apply -q " + edit + " || echo \"exit $?\"\n"
                     "ip -n n3 -o link show br19 | grep -o 'mtu [0-9]*'\n"
                     "$TOPO plan --detailed-exitcode " + edit + " > /dev/null && echo converged\n");
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(r.output == "mtu 1500\nconverged\n");
}
