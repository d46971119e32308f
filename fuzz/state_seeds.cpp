// Writes the starting corpus of fuzz_state into DIR: what a namespace's dumps hold when a
// lab is applied (lo with its mark, a veth pair, a bridge, a VXLAN, a macvlan, addresses of
// both families, routes, root qdiscs), each message alone and all of them as one answer, and every
// nftables rule shape topo makes (tests/rule_shapes.h), spelled as fuzz_state reads a rule. Netlink is all lengths and
// nested attributes: from these the fuzzer reaches every decoder at once, where from nothing it would spend its minute
// finding the first header. The messages are built with libnl's own request builders, as `ip` would send them; the unit
// tests (tests/decode_state_test.cpp) build them as the kernel does. Usage: fuzz_state_seeds DIR (scripts/fuzz.sh runs
// it). glibc's headers first: they tell the kernel's headers which definitions they already have.
#include <net/if.h>
#include <netinet/in.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/rtnetlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/macvlan.h>
#include <netlink/route/link/vxlan.h>
#include <netlink/route/route.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <span>
#include <string>
#include <vector>

#include "executor/fdb_message.h"
#include "executor/nft.h"
#include "executor/qdisc_message.h"
#include "fuzz/rule_program.h"
#include "parser/load.h"
#include "planner/expected.h"
#include "planner/nat.h"
#include "tests/rule_shapes.h"

using namespace topo;

namespace {

using Bytes = std::string;

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "fuzz_state_seeds: %s\n", what.c_str());
  std::exit(1);
}

// The message's bytes, padded to its alignment as in a dump.
Bytes bytes_of(nl_msg* m) {
  if (!m) fail("no message");
  const nlmsghdr* h = nlmsg_hdr(m);
  Bytes out(reinterpret_cast<const char*>(h), h->nlmsg_len);
  out.resize(NLMSG_ALIGN(out.size()));
  nlmsg_free(m);
  return out;
}

nl_addr* addr(const char* text) {
  nl_addr* a = nullptr;
  if (nl_addr_parse(text, AF_UNSPEC, &a) < 0) fail(std::string("address ") + text);
  return a;
}

struct Link {
  rtnl_link* l;
  bool veth;
  Link(int ifindex, const char* name, const char* kind)
      : l(rtnl_link_alloc()), veth(kind && kind == std::string("veth")) {
    rtnl_link_set_ifindex(l, ifindex);
    rtnl_link_set_name(l, name);
    rtnl_link_set_mtu(l, 1500);
    rtnl_link_set_flags(l, IFF_UP);
    if (kind && !veth && rtnl_link_set_type(l, kind) < 0) fail(std::string("kind ") + kind);
  }
  ~Link() { rtnl_link_put(l); }
  Bytes bytes() const {
    nl_msg* m = nullptr;
    if (rtnl_link_build_add_request(l, NLM_F_MULTI, &m) < 0) fail("link message");
    nlmsg_hdr(m)->nlmsg_type = RTM_NEWLINK;
    // A veth's request names its peer (VETH_INFO_PEER), which a dump never does and
    // decode_dump refuses: its kind alone, as the kernel sends it.
    if (veth) {
      nlattr* info = nla_nest_start(m, IFLA_LINKINFO);
      if (!info || nla_put_string(m, IFLA_INFO_KIND, "veth") < 0) fail("veth message");
      nla_nest_end(m, info);
    }
    return bytes_of(m);
  }
};

std::vector<Bytes> links() {
  std::vector<Bytes> out;
  {
    Link lo(1, "lo", nullptr);
    rtnl_link_set_ifalias(lo.l, "topo:web");
    out.push_back(lo.bytes());
  }
  {
    Link eth0(2, "eth0", "veth");
    rtnl_link_set_link(eth0.l, 3);
    rtnl_link_set_master(eth0.l, 4);
    nl_addr* mac = nullptr;
    nl_addr_parse("02:00:00:00:00:07", AF_LLC, &mac);
    if (mac) rtnl_link_set_addr(eth0.l, mac);
    nl_addr_put(mac);
    out.push_back(eth0.bytes());
  }
  {
    Link eth1(3, "eth1", "veth");
    rtnl_link_set_link(eth1.l, 2);
    rtnl_link_set_group(eth1.l, 7);
    out.push_back(eth1.bytes());
  }
  {
    Link br0(4, "br0", "bridge");
    rtnl_link_set_ifalias(br0.l, "topo:web");
    out.push_back(br0.bytes());
  }
  {
    Link vx0(5, "vx0", "vxlan");
    rtnl_link_vxlan_set_id(vx0.l, 42);
    nl_addr* group = addr("239.1.1.1");
    nl_addr* local = addr("10.0.0.2");
    rtnl_link_vxlan_set_group(vx0.l, group);
    rtnl_link_vxlan_set_local(vx0.l, local);
    nl_addr_put(group);
    nl_addr_put(local);
    rtnl_link_vxlan_set_link(vx0.l, 2);
    rtnl_link_vxlan_set_port(vx0.l, 4789);
    out.push_back(vx0.bytes());
  }
  {
    Link vx6(7, "vx6", "vxlan");
    rtnl_link_vxlan_set_id(vx6.l, 7);
    nl_addr* remote = addr("2001:db8::9");
    rtnl_link_vxlan_set_group(vx6.l, remote);
    nl_addr_put(remote);
    out.push_back(vx6.bytes());
  }
  {
    Link mv0(6, "mv0", "macvlan");
    rtnl_link_set_link(mv0.l, 2);
    rtnl_link_macvlan_set_mode(mv0.l, MACVLAN_MODE_BRIDGE);
    out.push_back(mv0.bytes());
  }
  return out;
}

std::vector<Bytes> addresses() {
  std::vector<Bytes> out;
  for (auto [ifindex, text] :
       {std::pair{2, "10.0.0.2/24"}, {2, "2001:db8::2/64"}, {2, "fe80::2/64"}, {4, "10.0.1.1/24"}}) {
    rtnl_addr* a = rtnl_addr_alloc();
    nl_addr* local = addr(text);
    rtnl_addr_set_ifindex(a, ifindex);
    rtnl_addr_set_local(a, local);
    nl_addr_put(local);
    nl_msg* m = nullptr;
    if (rtnl_addr_build_add_request(a, NLM_F_MULTI, &m) < 0) fail("address message");
    out.push_back(bytes_of(m));
    rtnl_addr_put(a);
  }
  return out;
}

Bytes route(const char* to, const char* via, int ifindex) {
  rtnl_route* r = rtnl_route_alloc();
  nl_addr* dst = addr(to);
  rtnl_route_set_family(r, nl_addr_get_family(dst));
  rtnl_route_set_dst(r, dst);
  nl_addr_put(dst);
  rtnl_route_set_table(r, RT_TABLE_MAIN);
  rtnl_route_set_protocol(r, kRouteProtocol);
  rtnl_route_set_type(r, RTN_UNICAST);
  rtnl_route_set_priority(r, 0);
  rtnl_nexthop* nh = rtnl_route_nh_alloc();
  rtnl_route_nh_set_ifindex(nh, ifindex);
  if (via) {
    nl_addr* gw = addr(via);
    rtnl_route_nh_set_gateway(nh, gw);
    nl_addr_put(gw);
  }
  rtnl_route_add_nexthop(r, nh);
  nl_msg* m = nullptr;
  if (rtnl_route_build_add_request(r, NLM_F_MULTI, &m) < 0) fail("route message");
  rtnl_route_put(r);
  return bytes_of(m);
}

std::vector<Bytes> routes() {
  return {route("0.0.0.0/0", "10.0.1.9", 4), route("10.0.0.0/24", nullptr, 2), route("::/0", "2001:db8::1", 2)};
}

// Every rule of both shape labs, spelled as fuzz_state reads a rule (fuzz/rule_program.h).
std::vector<Bytes> rules() {
  std::vector<Bytes> out;
  for (const char* text : {test::kNatShapes, test::kFilterShapes}) {
    LoadedLab loaded = load_lab_text("shapes.toml", text);
    if (!loaded.ok()) fail(loaded.report());
    for (const auto& [ns, n] : expected_state(*loaded.lab).namespaces) {
      if (!n.nat) continue;
      for (const NftChain& c : n.nat->chains)
        for (const NftRule& r : c.rules) {
          nft::Rule rule(nftnl_rule_alloc());
          nft::encode(r, rule.get());
          Bytes spelled = fuzz::spell_rule(rule.get());
          // The spelling must keep the rule, or the seed is not the shape it stands for.
          nft::Rule back(nftnl_rule_alloc());
          fuzz::build_rule(std::as_bytes(std::span(spelled)), back.get());
          if (!(nft::decode(back.get()) == r)) fail("a rule does not survive its spelling: " + describe(r));
          out.push_back(spelled);
        }
    }
  }
  return out;
}

// Root qdiscs as a qdisc dump holds them (executor/qdisc_message.h builds the request; a
// dump's message differs in its handle and flags): a tbf, a netem with every key, one of
// another kind.
std::vector<Bytes> qdiscs() {
  std::vector<Bytes> out;
  NetemQdisc netem;
  netem.delay = 40'000'000;
  netem.jitter = 5'000'000;
  netem.loss = netem.duplicate = netem.corrupt = netem.reorder = 1 << 20;
  netem.gap = 1;
  netem.rate = 5'000'000'000;
  TbfQdisc tbf;
  tbf.rate = 2'500'000;
  tbf.buffer = 156'250;
  tbf.limit = 150'000;
  for (const Qdisc& q : {Qdisc(tbf), Qdisc(netem), Qdisc(OtherQdisc{"fq_codel"})}) {
    std::vector<std::byte> m = qdisc_request(2, q);
    auto* h = reinterpret_cast<nlmsghdr*>(m.data());
    h->nlmsg_flags = NLM_F_MULTI;
    auto* t = reinterpret_cast<tcmsg*>(m.data() + NLMSG_HDRLEN);
    t->tcm_handle = 0x80010000;
    Bytes b(reinterpret_cast<const char*>(m.data()), m.size());
    b.resize(NLMSG_ALIGN(b.size()));
    out.push_back(b);
  }
  return out;
}

// A VXLAN's flooding entries as a forwarding dump holds them (executor/fdb_message.h), both
// families, and a learnt address, which is none.
std::vector<Bytes> flood_entries() {
  std::vector<Bytes> out;
  for (const char* remote : {"192.0.2.2", "fd00::2"}) {
    std::vector<std::byte> m = fdb_request(2, *parse_ip(remote), true);
    reinterpret_cast<nlmsghdr*>(m.data())->nlmsg_flags = NLM_F_MULTI;
    out.emplace_back(reinterpret_cast<const char*>(m.data()), m.size());
  }
  Bytes learnt = out.front();
  learnt[NLMSG_LENGTH(sizeof(ndmsg)) + 4] = '\x52';  // the address's first byte
  out.push_back(learnt);
  return out;
}

Bytes done() {
  nlmsghdr h{NLMSG_LENGTH(sizeof(int)), NLMSG_DONE, NLM_F_MULTI, 0, 0};
  Bytes out(h.nlmsg_len, '\0');
  std::memcpy(out.data(), &h, sizeof h);
  return out;
}

void write(const std::string& path, const Bytes& b) {
  std::ofstream f(path, std::ios::binary);
  f.write(b.data(), static_cast<std::streamsize>(b.size()));
  if (!f) fail("writing " + path);
}

}  // namespace

// The first byte says what the rest is, to fuzz_state: 0 dump answers, 1 a rule.
int main(int argc, char** argv) {
  if (argc != 2) fail("usage: fuzz_state_seeds DIR");
  std::string dir = argv[1];
  Bytes all;
  int n = 0;
  for (const std::vector<Bytes>& dump : {links(), addresses(), routes(), qdiscs(), flood_entries()}) {
    Bytes answer;
    for (const Bytes& m : dump) {
      write(dir + "/state-" + std::to_string(n++), '\0' + m);
      answer += m;
    }
    answer += done();
    write(dir + "/state-" + std::to_string(n++), '\0' + answer);
    all += answer;
  }
  write(dir + "/state-all", '\0' + all);
  for (const Bytes& r : rules()) write(dir + "/rule-" + std::to_string(n++), '\1' + r);
  return 0;
}
