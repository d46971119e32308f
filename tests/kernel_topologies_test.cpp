// Every lab in topologies/ applied for real, each in its own sandbox: apply does what the
// plan said; `ip` and `bridge` show every link, master, address, route, sysctl and file the
// lab file has (the expectations are read from the file by topo's own parser, so a new lab
// is checked without new code) and nothing more of the lab's; the namespaces reach each
// other as the lab's header comment says, and no further; a second apply has nothing to do;
// destroy gives back the sandbox exactly as it was before, down to the last JSON field.
// Labs with [[nat]] are left out: apply does not do NAT yet.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <vector>

#include "parser/load.h"
#include "tests/kernel_harness.h"

using namespace topo::test;

namespace {

struct Ping {
  std::string from;  // a namespace of the lab, or "host" (the sandbox's own namespace)
  std::string to;    // an address of the lab (or the namespace's own 127.0.0.1)
  bool reaches;
};

// Who reaches whom, as each lab's header comment says. A lab added to topologies/ fails the
// test until it has its line here. Only addresses the lab itself gives are pinged, and only
// inside the sandbox.
const std::map<std::string, std::vector<Ping>> kReach = {
    // "It can talk to itself on 127.0.0.1 and reaches nothing else": it has no address to
    // ping from outside; that it has no route anywhere is checked with the routes below.
    // Web, on both networks, reaches everything; the workers reach the db and web on back,
    // but not across the isolated networks; the host holds both gateways, which all reach.
    {"networks.toml",
     {{"web", "172.21.0.10", true},
      {"web", "fd00:20::1", true},
      {"worker1", "172.21.0.10", true},
      {"worker3", "172.21.0.2", true},
      {"worker2", "172.20.0.2", false},
      {"db", "172.20.0.1", true},
      {"host", "172.21.0.5", true}}},
    {"none.toml", {{"box", "127.0.0.1", true}}},
    // Docker's bridge mode: the containers reach each other and their gateway, the host
    // reaches them.
    {"bridge.toml",
     {{"web", "172.18.0.3", true},
      {"db", "172.18.0.2", true},
      {"web", "172.18.0.1", true},
      {"host", "172.18.0.3", true}}},
    {"port-mapping.toml", {{"nginx", "172.19.0.1", true}, {"host", "172.19.0.2", true}}},
    // The allowed range reaches web, anyone else is dropped on the way; both reach the host,
    // and web reaches the allowed range (masqueraded).
    {"docker-user.toml",
     {{"trusted", "172.20.0.2", true},
      {"stranger", "172.20.0.2", false},
      {"trusted", "192.168.0.1", true},
      {"stranger", "192.168.0.1", true},
      {"web", "192.168.1.2", true}}},
    // Left and right reach each other (and the router) through the router; the host, on
    // neither subnet, reaches none of them.
    {"router.toml",
     {{"left", "10.1.0.1", true},
      {"left", "10.2.0.2", true},
      {"left", "10.2.0.1", true},
      {"right", "10.1.0.2", true},
      {"host", "10.1.0.2", false},
      {"host", "10.2.0.2", false},
      {"host", "10.1.0.1", false}}},
    // Routed labs: a host reaches the far side (the long way round, both families); the host
    // namespace is in neither graph.
    // Two sites over a shaped link: each host reaches the other site (through both shapes).
    {"wan.toml",
     {{"laptop", "192.168.10.2", true},
      {"server", "192.168.20.2", true},
      {"laptop", "10.255.0.0", true},
      {"host", "192.168.10.2", false}}},
    {"ring.toml",
     {{"pc1", "192.168.4.2", true},
      {"pc1", "fd00:4::2", true},
      {"pc2", "10.255.0.9", true},
      {"r3", "fd00:6::1", true},
      {"host", "192.168.1.2", false}}},
    {"fabric.toml",
     {{"srv1", "192.168.4.2", true},
      {"srv3", "fd00:2::2", true},
      {"spine1", "192.168.3.2", true},
      {"srv2", "10.255.0.3", true},
      {"host", "192.168.1.1", false}}},
    // The two reach each other in both families; the bridge has no address, so the host
    // takes no part.
    {"two-on-bridge.toml",
     {{"con1", "10.0.3.2", true},
      {"con2", "10.0.3.1", true},
      {"con1", "fd00:3::2", true},
      {"con2", "fd00:3::1", true},
      {"host", "10.0.3.1", false},
      {"host", "fd00:3::2", false}}},
    // The namespaces reach each other and nothing else; the host is not on the cable.
    {"veth-pair.toml",
     {{"ns1", "10.0.0.2", true}, {"ns2", "10.0.0.1", true}, {"host", "10.0.0.1", false}, {"host", "10.0.0.2", false}}},
    // The clients reach each other over the VXLAN, the hosts each other over the underlay;
    // a client is on the overlay only, and the host namespaces are not on it.
    {"vxlan-two-hosts.toml",
     {{"client-a", "10.42.0.3", true},
      {"client-b", "10.42.0.2", true},
      {"host-a", "192.168.50.2", true},
      {"host-b", "192.168.50.1", true},
      {"client-a", "192.168.50.2", false},
      {"host-a", "10.42.0.3", false},
      {"host", "10.42.0.2", false}}},
};

using Sections = std::map<std::string, std::vector<std::string>>;

// The script's output cut at its "== NAME" lines.
Sections sections(const std::string& output) {
  Sections out;
  std::string current;
  size_t start = 0;
  while (start < output.size()) {
    size_t end = output.find('\n', start);
    if (end == std::string::npos) end = output.size();
    std::string line = output.substr(start, end - start);
    if (line.rfind("== ", 0) == 0) {
      current = line.substr(3);
      out[current];
    } else {
      out[current].push_back(line);
    }
    start = end + 1;
  }
  return out;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

// How ip prints a destination: "default" for a zero-length prefix, a host route without
// its length.
std::string ip_destination(const IpPrefix& p) {
  if (p.length == 0) return "default";
  if (p.length == p.max_length()) return to_string(p.address);
  return to_string(IpPrefix{p.network(), p.length});
}

// One line of `ip -d -o link`.
struct LinkLine {
  std::string index, name, at, flags, rest;
};

std::map<std::string, LinkLine> links(const std::vector<std::string>& lines) {
  static const std::regex re(R"(^(\d+): ([^:@ ]+)(@([^:]+))?: <([^>]*)> (.*)$)");
  std::map<std::string, LinkLine> out;
  for (const auto& l : lines) {
    std::smatch m;
    if (std::regex_match(l, m, re)) out[m[2]] = {m[1], m[2], m[4], m[5], m[6]};
  }
  return out;
}

bool has_flag(const LinkLine& l, const std::string& flag) {
  return ("," + l.flags + ",").find("," + flag + ",") != std::string::npos;
}

// Whether link `l` of namespace `ns` names `target` (namespace `target_ns`) as its other end
// (veth peer, macvlan parent): ip shows "@NAME" for one in the same namespace and "@ifINDEX"
// with link-netns otherwise.
bool points_at(const LinkLine& l, const std::string& ns, const LinkLine& target, const std::string& target_ns) {
  if (ns == target_ns) return l.at == target.name;
  return l.at == "if" + target.index;
}

// The routes of one namespace as "DESTINATION [via GATEWAY...] proto PROTOCOL", from `ip
// route` and `ip -6 route` lines (a multipath route's nexthop lines joined to it, its
// gateways sorted); link-local fe80::/64 routes, which every interface gets, are left out.
// `keep_dev`, when given, keeps only routes of topo's protocol or through those devices.
std::vector<std::string> route_keys(const std::vector<std::string>& lines, const std::set<std::string>* keep_dev) {
  static const std::regex via(R"( via (\S+))"), dev(R"( dev (\S+))"), proto(R"( proto (\S+))");
  std::vector<std::string> out;
  for (const auto& l : lines) {
    if (l.rfind("fe80::/64 ", 0) == 0 || l.empty()) continue;
    std::smatch v, d, p;
    std::regex_search(l, d, dev);
    std::regex_search(l, p, proto);
    std::string protocol = p.empty() ? "boot" : p[1].str();
    if (keep_dev && protocol != "122" && !(d.size() > 1 && keep_dev->count(d[1]))) continue;
    std::string key = l.substr(0, l.find(' '));
    std::vector<std::string> gateways;
    for (auto g = std::sregex_iterator(l.begin(), l.end(), via); g != std::sregex_iterator(); ++g)
      gateways.push_back((*g)[1].str());
    std::sort(gateways.begin(), gateways.end());
    for (const std::string& g : gateways) key += " via " + g;
    out.push_back(key + " proto " + protocol);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The bash function printing what the witnesses say about `lab`, one section per namespace
// and kind, then the namespaces, the /etc/netns files and the lab's sysctls.
std::string witness_script(const Lab& lab) {
  std::string s = "witness() {\n  local ns x\n  for ns in";
  for (const auto& n : lab.namespace_names()) s += " " + n;
  s += "; do\n"
       "    x=; [ $ns = host ] || x=\"ip netns exec $ns\"\n"
       "    echo \"== link $ns\"; $x ip -d -o link\n"
       "    echo \"== addr $ns\"; $x ip -o addr\n"
       "    echo \"== route $ns\"; { $x ip -4 route; $x ip -6 route; } | sed -z 's/\\n\\t/ /g'\n"
       "    echo \"== bridge $ns\"; $x bridge link\n"
       "  done\n"
       "  echo '== netns'; ip netns | cut -d' ' -f1 | sort\n"
       "  for f in $(find /etc/netns -type f | sort); do echo \"== file ${f#/etc/netns/}\"; cat $f; done\n"
       "  echo '== sysctl'\n";
  auto sysctls = [&](const std::string& ns, const std::vector<Sysctl>& list) {
    for (const Sysctl& c : list)
      s += fmt::format("  echo \"{0} {1} = $({2}sysctl -n {1})\"\n", ns, c.key.value,
                       ns == kHostNetns ? "" : "ip netns exec " + ns + " ");
  };
  sysctls(std::string(kHostNetns), lab.host_sysctls);
  for (const Netns& n : lab.netns) sysctls(n.name.value, n.sysctls);
  return s + "}\n";
}

const char* kReachFn = R"sh(reach() {
  local x= i
  [ "$1" = host ] || x="ip netns exec $1"
  for i in 1 2 3; do
    if $x ping -c1 -W1 "$2" > /dev/null 2>&1; then echo "$1 -> $2: reaches"; return; fi
  done
  echo "$1 -> $2: does not reach"
}
)sh";

// Everything the lab file says the witnesses must show, checked against their sections.
void check_witnesses(const Lab& lab, const Sections& out) {
  const std::string mark = "topo:" + lab.name.value;
  auto section = [&](const std::string& name) {
    auto it = out.find(name);
    return it == out.end() ? std::vector<std::string>{} : it->second;
  };

  // Namespaces: exactly the lab's, each marked on its lo.
  std::vector<std::string> want_netns;
  for (const Netns& n : lab.netns) want_netns.push_back(n.name.value);
  std::sort(want_netns.begin(), want_netns.end());
  CHECK(section("netns") == want_netns);
  for (const Netns& n : lab.netns) {
    auto l = links(section("link " + n.name.value));
    INFO("lo of " << n.name.value);
    REQUIRE(l.count("lo"));
    CHECK(has_flag(l["lo"], "UP"));
    CHECK_THAT(l["lo"].rest, Catch::Contains("alias " + mark));
  }

  std::map<std::string, std::map<std::string, LinkLine>> all_links;
  for (const auto& ns : lab.namespace_names()) all_links[ns] = links(section("link " + ns));

  for (const std::string& ns : lab.namespace_names()) {
    auto& have = all_links[ns];
    std::vector<std::string> bridge_lines = section("bridge " + ns);
    std::vector<std::string> addr_lines = section("addr " + ns);

    // The lab's links here: exactly those the file has (the marked ones, lo aside).
    std::vector<std::string> want_names, have_names;
    for (const Interface& i : lab.interfaces)
      if (i.netns.value == ns) want_names.push_back(i.name.value);
    for (const auto& [name, l] : have)
      if (name != "lo" && l.rest.find("alias " + mark) != std::string::npos) have_names.push_back(name);
    std::sort(want_names.begin(), want_names.end());
    INFO("namespace " << ns);
    CHECK(have_names == want_names);

    for (const Interface& i : lab.interfaces) {
      if (i.netns.value != ns) continue;
      INFO("interface " << ns << "/" << i.name.value);
      auto it = have.find(i.name.value);
      if (it == have.end()) {
        FAIL_CHECK("not in `ip link`");
        continue;
      }
      const LinkLine& l = it->second;
      CHECK(has_flag(l, "UP"));
      if (i.mtu) CHECK_THAT(l.rest, Catch::Contains(fmt::format("mtu {} ", i.mtu->value)));
      if (i.mac) CHECK_THAT(l.rest, Catch::Contains(fmt::format("link/ether {} ", i.mac->value)));
      std::visit(
          [&](const auto& spec) {
            using T = std::decay_t<decltype(spec)>;
            if constexpr (std::is_same_v<T, Bridge>) {
              CHECK_THAT(l.rest, Catch::Contains("\\    bridge forward_delay "));
            } else if constexpr (std::is_same_v<T, VethEnd>) {
              CHECK_THAT(l.rest, Catch::Contains("\\    veth "));
              const Interface& peer = lab.interfaces[spec.peer];
              auto p = all_links[peer.netns.value].find(peer.name.value);
              INFO("its peer " << peer.netns.value << "/" << peer.name.value << ", shown as @" << l.at);
              CHECK((p != all_links[peer.netns.value].end() && points_at(l, ns, p->second, peer.netns.value)));
            } else if constexpr (std::is_same_v<T, Vxlan>) {
              std::string want = fmt::format("\\    vxlan id {} ", spec.id.value);
              if (spec.remote) want += fmt::format("remote {} ", spec.remote->value);
              if (spec.group) want += fmt::format("group {} ", spec.group->value);
              if (spec.local) want += fmt::format("local {} ", spec.local->value);
              if (spec.dev) want += fmt::format("dev {} ", spec.dev->value);
              CHECK_THAT(l.rest, Catch::Contains(want));
              CHECK_THAT(l.rest, Catch::Contains(fmt::format(" dstport {} ", spec.port.value)));
            } else if constexpr (std::is_same_v<T, Macvlan>) {
              CHECK_THAT(l.rest, Catch::Contains(fmt::format("\\    macvlan mode {} ", to_string(spec.mode))));
              auto p = all_links[spec.parent_netns.value].find(spec.parent.value);
              INFO("its parent " << spec.parent_netns.value << "/" << spec.parent.value << ", shown as @" << l.at);
              CHECK((p != all_links[spec.parent_netns.value].end() &&
                     points_at(l, ns, p->second, spec.parent_netns.value)));
            }
          },
          i.spec);
      if (i.master) {
        CHECK_THAT(l.rest, Catch::Contains(" master " + i.master->value + " "));
        std::regex port("^\\d+: " + i.name.value + "(@\\S+)?: .* master " + i.master->value + " state forwarding ");
        CHECK(std::any_of(bridge_lines.begin(), bridge_lines.end(),
                          [&](const std::string& b) { return std::regex_search(b, port); }));
      } else {
        CHECK_THAT(l.rest, !Catch::Contains(" master "));
      }

      // Addresses: exactly the file's (link-local ones are the kernel's).
      std::vector<std::string> want, got;
      for (const auto& a : i.addresses) want.push_back(to_string(a.value));
      std::regex addr("^\\d+: " + i.name.value + "\\s+inet6? (\\S+) ");
      for (const auto& a : addr_lines) {
        std::smatch m;
        if (std::regex_search(a, m, addr) && m[1].str().rfind("fe80:", 0) != 0) got.push_back(m[1]);
      }
      std::sort(want.begin(), want.end());
      std::sort(got.begin(), got.end());
      CHECK(got == want);
    }

    // Routes: in a namespace of the lab, the whole table is the file's routes (topo's
    // protocol, 122) and the subnets of the file's addresses (the kernel's); in host, the
    // lab's part of it. A namespace without addresses or routes has an empty table: it
    // reaches nothing.
    std::vector<std::string> want_routes;
    std::set<std::string> lab_devs;
    for (const Interface& i : lab.interfaces) {
      if (i.netns.value != ns) continue;
      lab_devs.insert(i.name.value);
      for (const auto& a : i.addresses)
        if (a.value.address.family == Family::v6 || a.value.length < 32)
          want_routes.push_back(ip_destination(a.value) + " proto kernel");
    }
    std::vector<std::string> route_lines = section("route " + ns);
    for (const Route& r : lab.routes) {
      if (r.netns.value != ns) continue;
      std::string key = ip_destination(r.to.value);
      std::vector<std::string> gateways;
      for (const Located<IpAddress>* g : r.gateways()) gateways.push_back(to_string(g->value));
      std::sort(gateways.begin(), gateways.end());
      for (const std::string& g : gateways) key += " via " + g;
      want_routes.push_back(key + " proto 122");
      // A multipath route: "DEST proto 122 ... nexthop via G dev D weight 1 ..." in `ip`'s words.
      std::string line = r.multipath.empty() ? key + (r.dev ? " dev " + r.dev->value : "") : ip_destination(r.to.value);
      INFO("route " << line);
      CHECK(std::any_of(route_lines.begin(), route_lines.end(), [&](const std::string& l) {
        return l.rfind(line + " ", 0) == 0 && l.find(" proto 122 ") != std::string::npos &&
               (!r.metric || l.find(fmt::format(" metric {} ", r.metric->value)) != std::string::npos) &&
               std::all_of(gateways.begin(), gateways.end(), [&](const std::string& g) {
                 return r.multipath.empty() || l.find(" nexthop via " + g + " ") != std::string::npos;
               });
      }));
    }
    std::sort(want_routes.begin(), want_routes.end());
    CHECK(route_keys(route_lines, ns == kHostNetns ? &lab_devs : nullptr) == want_routes);
  }

  // Files under /etc/netns: exactly those the file asks for, with its lines in them.
  std::vector<std::string> want_files, have_files;
  for (const auto& [name, lines] : out)
    if (name.rfind("file ", 0) == 0) have_files.push_back(name.substr(5));
  for (const Netns& n : lab.netns) {
    if (!n.dns.empty()) {
      want_files.push_back(n.name.value + "/resolv.conf");
      for (const auto& a : n.dns)
        CHECK_THAT(joined(section("file " + n.name.value + "/resolv.conf")),
                   Catch::Contains("\nnameserver " + to_string(a.value) + "\n"));
    }
    if (!n.hosts.empty()) {
      want_files.push_back(n.name.value + "/hosts");
      for (const auto& h : n.hosts)
        for (const auto& a : h.addresses)
          CHECK_THAT(joined(section("file " + n.name.value + "/hosts")),
                     Catch::Contains("\n" + to_string(a.value) + "\t" + h.name.value + "\n"));
    }
  }
  std::sort(want_files.begin(), want_files.end());
  CHECK(have_files == want_files);

  // Sysctls: the file's values.
  std::vector<std::string> want_sysctls;
  for (const Sysctl& c : lab.host_sysctls)
    want_sysctls.push_back(fmt::format("host {} = {}", c.key.value, c.value.value));
  for (const Netns& n : lab.netns)
    for (const Sysctl& c : n.sysctls)
      want_sysctls.push_back(fmt::format("{} {} = {}", n.name.value, c.key.value, c.value.value));
  CHECK(section("sysctl") == want_sysctls);
}

}  // namespace

TEST_CASE(
    "kernel: every topologies/ lab without NAT applies as its file says, reaches as its comment says, "
    "and destroys to the state before",
    "[kernel][topologies]") {
  auto labs = example_labs();
  REQUIRE(labs.size() >= 7);
  int applied = 0;
  for (const auto& path : labs) {
    std::string text = read_file(path);
    // isolated-bridges.toml's NAT and isolation have their own test (kernel_filter_test).
    if (text.find("[[nat]]") != std::string::npos) continue;
    ++applied;
    std::string file = path.filename().string();
    DYNAMIC_SECTION(file) {
      LoadedLab loaded = load_lab_file(path.string());
      INFO(loaded.report());
      REQUIRE(loaded.ok());
      const Lab& lab = *loaded.lab;
      for (const Netns& n : lab.netns) REQUIRE_FALSE(n.adopted());  // a sandbox has no container to adopt

      INFO("who reaches whom in " << file << " must be written in kReach");
      REQUIRE(kReach.count(file));
      const std::vector<Ping>& pings = kReach.at(file);
      // Only the lab's own addresses are ever pinged (or a namespace's own loopback).
      std::set<std::string> lab_addresses;
      for (const Interface& i : lab.interfaces)
        for (const auto& a : i.addresses) lab_addresses.insert(to_string(a.value.address));
      std::string reach, want_reach;
      for (const Ping& p : pings) {
        INFO(p.from << " -> " << p.to);
        REQUIRE((lab_addresses.count(p.to) || (p.to == "127.0.0.1" && p.from != "host")));
        REQUIRE((p.from == "host" || lab.find_netns(p.from)));
        reach += "reach " + p.from + " " + p.to + "\n";
        want_reach += p.from + " -> " + p.to + (p.reaches ? ": reaches\n" : ": does not reach\n");
      }

      Run r = in_sandbox(
          std::string(kFullDump) + kSettle + kReachFn + witness_script(lab) + "L=" + path.string() +
          "\nfull_dump > /run/before\n"
          "echo '== plan'\n"
          "$TOPO plan $L | tail -1\n"
          "$TOPO plan --format json $L | grep -c '\"action\"'\n"
          "echo '== apply'\n"
          "$TOPO apply $L | sed -E 's/in [0-9.]+ s\\)/in T s)/'\n"
          "settle\n"
          "witness\n"
          "echo '== reach'\n" +
          reach +
          "echo '== apply again'\n"
          "$TOPO apply $L\n"
          "$TOPO plan --detailed-exitcode $L > /dev/null && echo 'plan: exit 0'\n"
          "echo '== destroy'\n"
          "$TOPO destroy $L | sed -E 's/[0-9]+ removed \\([0-9]+ steps? in [0-9.]+ s\\)/N removed (N steps in T s)/'\n"
          "full_dump > /run/after\n"
          "echo '== after destroy'\n"
          "diff -u /run/before /run/after && echo 'as before apply'\n");
      INFO(r.output);
      CHECK(r.status == 0);
      Sections out = sections(r.output);

      // apply does what plan said it would, in as many steps.
      REQUIRE(out["plan"].size() == 2);
      std::smatch m;
      static const std::regex summary(R"(^Plan: (\d+) to add, (\d+) to change, 0 to destroy\.$)");
      REQUIRE(std::regex_match(out["plan"][0], m, summary));
      CHECK(joined(out["apply"]) ==
            fmt::format("Applied lab '{}': {} added, {} changed, 0 destroyed ({} step{} in T s).\n", lab.name.value,
                        m[1].str(), m[2].str(), out["plan"][1], out["plan"][1] == "1" ? "" : "s"));

      check_witnesses(lab, out);

      CHECK(joined(out["reach"]) == want_reach);
      CHECK(joined(out["apply again"]) == "No changes. The kernel matches the lab.\nplan: exit 0\n");
      CHECK(joined(out["destroy"]) == fmt::format("Destroyed lab '{}': N removed (N steps in T s).\n", lab.name.value));
      CHECK(joined(out["after destroy"]) == "as before apply\n");
    }
  }
  CHECK(applied >= 5);
}

TEST_CASE(
    "kernel: topo expand of every example with networks applies to the same kernel state as the example, "
    "which then plans no changes",
    "[kernel][topologies]") {
  // What a lab makes, without what differs from one apply to the next (ifindexes, random
  // MACs, the link-local addresses made from them), read by tests/netns_state.py: a
  // witness of its own in one process, a few seconds for star-1000.toml's thousand
  // namespaces where one `ip` per namespace and kind took minutes.
  const std::string state = "python3 " + (source_dir() / "tests/netns_state.py").string() + " --settle";
  int checked = 0;
  for (const auto& path : files_in(source_dir() / "topologies", ".toml")) {  // star-1000.toml too
    std::string text = read_file(path);
    if (text.find("[[network]]") == std::string::npos || over_machines(path)) continue;  // kernel_machines_test
    ++checked;
    DYNAMIC_SECTION(path.filename().string()) {
      Run r = in_sandbox({{"L", text}}, "$TOPO apply $L > /dev/null && " + state +
                                            " > /run/lab\n"
                                            "$TOPO destroy $L > /dev/null\n"
                                            "$TOPO expand $L > /run/x.toml\n"
                                            "$TOPO apply /run/x.toml > /dev/null && " +
                                            state +
                                            " > /run/expanded\n"
                                            "diff /run/lab /run/expanded && echo same\n"
                                            "grep -c '^== ' /run/lab\n"
                                            "$TOPO plan $L\n"
                                            "$TOPO destroy /run/x.toml > /dev/null && echo destroyed\n");
      INFO(r.output);
      CHECK(r.status == 0);
      CHECK(r.output.find("same\n") == 0);
      CHECK(r.output.find("No changes.") != std::string::npos);
      CHECK(r.output.find("destroyed\n") != std::string::npos);
    }
  }
  CHECK(checked >= 1);
}

namespace {

// net.core.netdev_max_backlog at least `least` while an object of this class lives. A
// broadcast on a segment is queued for all its members at once, on one CPU's backlog,
// which drops what is past this limit (1000 by default). The key is the machine's and
// exists only in its first network namespace (not in the sandbox, not in a container):
// the lab raises it there ([host] limits, which the lowering adds), and notes it where it
// runs in the sandbox; this test sets it from outside.
class MachineBacklog {
 public:
  explicit MachineBacklog(int least) {
    old_ = read_file(kPath);
    if (std::stoi(old_) < least) write(std::to_string(least));
  }
  ~MachineBacklog() { write(old_); }
  MachineBacklog(const MachineBacklog&) = delete;
  MachineBacklog& operator=(const MachineBacklog&) = delete;

 private:
  static constexpr const char* kPath = "/proc/sys/net/core/netdev_max_backlog";
  static void write(const std::string& value) { std::ofstream(kPath) << value; }
  std::string old_;
};

}  // namespace

TEST_CASE("kernel: a network of 3000 members is a segment of bridges, and first, last and gateway reach each other",
          "[kernel][networks][serial]") {
  const char* lab = R"(lab = "big"
[[network]]
name = "lan"
subnets = ["10.60.0.0/20"]
[[netns]]
name = "m"
count = 3000
networks = ["lan"]
)";
  REQUIRE(std::filesystem::exists("/proc/sys/net/core/netdev_max_backlog"));  // the machine's namespace
  MachineBacklog backlog(4096);
  // `reach FROM TO` waits (at most 10 s) for a reply: the first ARP of a member may still
  // meet the apply's last bridge ports coming up.
  Run r = in_sandbox({{"L", lab}}, R"sh(reach() {
  local i; for i in $(seq 10); do ip netns exec $1 ping -c1 -W1 -q $2 > /dev/null && { echo "$1 -> $2"; return; }; done
  echo "$1 -> $2: no reply"
}
$TOPO apply -q $L > /dev/null && echo applied
ip -br link show type bridge | cut -d' ' -f1 | tr '\n' ' '; echo
first=$(ip -n m1 -4 -br addr show eth0 | awk '{print $3}' | cut -d/ -f1)
last=$(ip -n m3000 -4 -br addr show eth0 | awk '{print $3}' | cut -d/ -f1)
reach m1 10.60.0.1; reach m3000 10.60.0.1; reach m1 $last; reach m3000 $first
ping -c1 -W1 -q $last > /dev/null && echo "host -> $last"
$TOPO destroy -q $L > /dev/null && ip -br link | wc -l
)sh");
  check_prints(r,
               "applied\n"
               "lan lan_s1 lan_s2 lan_s3 \n"
               "m1 -> 10.60.0.1\n"
               "m3000 -> 10.60.0.1\n"
               "m1 -> 10.60.11.185\n"
               "m3000 -> 10.60.0.2\n"
               "host -> 10.60.11.185\n"
               "1\n");
}
