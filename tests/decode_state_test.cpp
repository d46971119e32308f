// The state reader's decoding without a kernel: link, address and route messages built in
// memory as the kernel sends them in its dump answers (the attributes it fills for each
// kind), decoded by decode_dump() into the values read_state makes of them; and bytes cut
// short or garbled, which must give errors, never a crash (fuzz/fuzz_state.cpp goes on
// from there).
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <netlink/route/addr.h>

#include <random>
#include <vector>

#include "executor/decode_state.h"
#include "executor/fdb_message.h"
#include "executor/netlink.h"
#include "executor/transport.h"

using namespace topo;

namespace {

using Bytes = std::vector<std::byte>;

// One message of a dump answer: its fixed header, then attributes.
class Message {
 public:
  template <class Header>
  Message(int type, const Header& h) : msg_(nlmsg_alloc_simple(type, NLM_F_MULTI)) {
    REQUIRE(msg_);
    REQUIRE(nlmsg_append(msg_.get(), const_cast<Header*>(&h), sizeof h, NLMSG_ALIGNTO) == 0);
  }
  nl_msg* get() const { return msg_.get(); }
  Message& u32(int type, uint32_t v) {
    REQUIRE(nla_put_u32(get(), type, v) == 0);
    return *this;
  }
  Message& str(int type, const char* v) {
    REQUIRE(nla_put_string(get(), type, v) == 0);
    return *this;
  }
  Message& raw(int type, const void* data, int len) {
    REQUIRE(nla_put(get(), type, len, data) == 0);
    return *this;
  }
  Message& ip(int type, const char* text) {
    IpAddress a = *parse_ip(text);
    return raw(type, a.bytes.data(), static_cast<int>(a.size()));
  }
  // IFLA_LINKINFO with the kind, and its IFLA_INFO_DATA filled by `data` when given.
  template <class Data>
  Message& linkinfo(const char* kind, Data&& data) {
    nlattr* info = nla_nest_start(get(), IFLA_LINKINFO);
    REQUIRE(info);
    str(IFLA_INFO_KIND, kind);
    nlattr* d = nla_nest_start(get(), IFLA_INFO_DATA);
    REQUIRE(d);
    data(*this);
    nla_nest_end(get(), d);
    nla_nest_end(get(), info);
    return *this;
  }
  Message& linkinfo(const char* kind) {
    nlattr* info = nla_nest_start(get(), IFLA_LINKINFO);
    REQUIRE(info);
    str(IFLA_INFO_KIND, kind);
    nla_nest_end(get(), info);
    return *this;
  }
  Bytes bytes() const {
    const nlmsghdr* h = nlmsg_hdr(get());
    const auto* p = reinterpret_cast<const std::byte*>(h);
    Bytes out(p, p + h->nlmsg_len);
    out.resize(NLMSG_ALIGN(out.size()));
    return out;
  }

 private:
  nl::Msg msg_;
};

Message link(int ifindex, const char* name, unsigned flags = 0) {
  ifinfomsg i{};
  i.ifi_family = AF_UNSPEC;
  i.ifi_index = ifindex;
  i.ifi_flags = flags;
  Message m(RTM_NEWLINK, i);
  m.str(IFLA_IFNAME, name).u32(IFLA_MTU, 1500).u32(IFLA_GROUP, 0);
  return m;
}

Message address(int ifindex, const char* prefix) {
  IpPrefix p = *parse_prefix(prefix);
  ifaddrmsg a{};
  a.ifa_family = p.address.family == Family::v4 ? AF_INET : AF_INET6;
  a.ifa_prefixlen = static_cast<unsigned char>(p.length);
  a.ifa_index = static_cast<uint32_t>(ifindex);
  Message m(RTM_NEWADDR, a);
  int len = static_cast<int>(p.address.size());
  m.raw(IFA_ADDRESS, p.address.bytes.data(), len);
  if (p.address.family == Family::v4) m.raw(IFA_LOCAL, p.address.bytes.data(), len);
  return m;
}

Message route(const char* to, int length, unsigned char table = RT_TABLE_MAIN) {
  rtmsg r{};
  r.rtm_family = std::string_view(to).find(':') == std::string_view::npos ? AF_INET : AF_INET6;
  r.rtm_dst_len = static_cast<unsigned char>(length);
  r.rtm_table = table;
  r.rtm_protocol = kRouteProtocol;
  r.rtm_scope = RT_SCOPE_UNIVERSE;
  r.rtm_type = RTN_UNICAST;
  Message m(RTM_NEWROUTE, r);
  m.u32(RTA_TABLE, table);
  if (length > 0) m.ip(RTA_DST, to);
  return m;
}

Bytes done() {
  nlmsghdr h{};
  h.nlmsg_len = NLMSG_LENGTH(sizeof(int));
  h.nlmsg_type = NLMSG_DONE;
  h.nlmsg_flags = NLM_F_MULTI;
  Bytes out(h.nlmsg_len);
  std::memcpy(out.data(), &h, sizeof h);
  return out;
}

Bytes joined(const std::vector<Bytes>& parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

const RawLink& named(const DecodedDump& d, const std::string& name) {
  for (const RawLink& l : d.ns.links)
    if (l.state.name == name) return l;
  FAIL("no link " << name);
  throw;
}

// The three dumps of a namespace "red" as the kernel answers them: lo with the lab's mark;
// a veth pair within it and a veth whose peer is in another namespace; a bridge; a VXLAN
// over eth0 with a multicast group; a macvlan on eth0; addresses of both families; a
// default route through a gateway, and routes the reader leaves out.
Bytes red_dump() {
  uint8_t mac[6] = {0x02, 0, 0, 0, 0, 0x07};
  uint16_t port = htons(4789);
  return joined({
      link(1, "lo", IFF_UP).str(IFLA_IFALIAS, "topo:web").bytes(),
      link(2, "eth0", IFF_UP).u32(IFLA_LINK, 3).u32(IFLA_MASTER, 4).raw(IFLA_ADDRESS, mac, 6).linkinfo("veth").bytes(),
      link(3, "eth1").u32(IFLA_LINK, 2).u32(IFLA_GROUP, 7).linkinfo("veth").bytes(),
      link(8, "out0").u32(IFLA_LINK, 12).u32(IFLA_LINK_NETNSID, 0).linkinfo("veth").bytes(),
      link(4, "br0", IFF_UP).str(IFLA_IFALIAS, "topo:web").linkinfo("bridge").bytes(),
      link(5, "vx0")
          .u32(IFLA_MTU, 1450)
          .linkinfo("vxlan",
                    [&](Message& m) {
                      m.u32(IFLA_VXLAN_ID, 42)
                          .ip(IFLA_VXLAN_GROUP, "239.1.1.1")
                          .ip(IFLA_VXLAN_LOCAL, "10.0.0.2")
                          .u32(IFLA_VXLAN_LINK, 2)
                          .raw(IFLA_VXLAN_PORT, &port, sizeof port);
                    })
          .bytes(),
      link(6, "mv0")
          .u32(IFLA_LINK, 2)
          .linkinfo("macvlan", [](Message& m) { m.u32(IFLA_MACVLAN_MODE, MACVLAN_MODE_BRIDGE); })
          .bytes(),
      link(9, "dummy0").linkinfo("dummy").bytes(),
      done(),
      address(2, "10.0.0.2/24").bytes(),
      address(2, "2001:db8::2/64").bytes(),
      address(2, "fe80::2/64").bytes(),
      address(4, "10.0.1.1/24").bytes(),
      address(1, "127.0.0.1/8").bytes(),
      done(),
      route("0.0.0.0", 0).ip(RTA_GATEWAY, "10.0.0.1").u32(RTA_OIF, 2).u32(RTA_PRIORITY, 0).bytes(),
      route("10.0.0.0", 24).u32(RTA_OIF, 2).bytes(),
      route("10.0.0.2", 32, RT_TABLE_LOCAL).u32(RTA_OIF, 2).bytes(),
      route("fe80::", 64).u32(RTA_OIF, 2).bytes(),
      done(),
  });
}

}  // namespace

TEST_CASE("decode_dump: links, addresses and routes come out as the reader reads them", "[decode]") {
  DecodedDump d = decode_dump(red_dump(), "red");
  CHECK(d.errors.empty());
  CHECK(d.ns.mark == "topo:web");
  std::vector<std::string> names;
  for (const RawLink& l : d.ns.links) names.push_back(l.state.name);
  CHECK(names == std::vector<std::string>{"eth0", "eth1", "out0", "br0", "vx0", "mv0", "dummy0"});

  LinkState eth0;
  eth0.name = "eth0";
  eth0.kind = VethState{"red", "eth1"};
  eth0.mtu = 1500;
  eth0.mac = parse_mac("02:00:00:00:00:07");
  eth0.up = true;
  eth0.master = "br0";
  eth0.addresses = {*parse_prefix("10.0.0.2/24"), *parse_prefix("2001:db8::2/64")};
  CHECK(named(d, "eth0").state == eth0);
  CHECK(named(d, "eth0").ifindex == 2);

  LinkState eth1;
  eth1.name = "eth1";
  eth1.kind = VethState{"red", "eth0"};
  eth1.mtu = 1500;
  eth1.group = 7;
  CHECK(named(d, "eth1").state == eth1);

  // Its peer is in a namespace the reader knows by id only: named by read_state.
  const RawLink& out0 = named(d, "out0");
  CHECK(out0.state.kind == LinkKindState{VethState{std::string(kUnknownNetns), ""}});
  CHECK(out0.link_nsid == 0);
  CHECK(out0.link_ifindex == 12);

  LinkState br0;
  br0.name = "br0";
  br0.kind = BridgeState{};
  br0.alias = "topo:web";
  br0.mtu = 1500;
  br0.up = true;
  br0.addresses = {*parse_prefix("10.0.1.1/24")};
  CHECK(named(d, "br0").state == br0);

  VxlanState vx;
  vx.id = 42;
  vx.group = parse_ip("239.1.1.1");
  vx.local = parse_ip("10.0.0.2");
  vx.dev = "eth0";
  vx.port = 4789;
  CHECK(named(d, "vx0").state.kind == LinkKindState{vx});
  CHECK(named(d, "vx0").state.mtu == 1450);

  MacvlanState mv{"bridge", "eth0", "red"};
  CHECK(named(d, "mv0").state.kind == LinkKindState{mv});
  CHECK(named(d, "dummy0").state.kind == LinkKindState{OtherLinkState{"dummy"}});

  // The local and link-local routes are not the planner's business.
  RouteState gateway;
  gateway.to = *parse_prefix("0.0.0.0/0");
  gateway.via = parse_ip("10.0.0.1");
  gateway.dev = "eth0";
  RouteState subnet;
  subnet.to = *parse_prefix("10.0.0.0/24");
  subnet.dev = "eth0";
  CHECK(d.ns.routes == std::vector<RouteState>{gateway, subnet});
}

TEST_CASE("decode_dump: a VXLAN's unicast remote is its remote, not a group", "[decode]") {
  Bytes b = link(5, "vx0")
                .linkinfo("vxlan", [](Message& m) { m.u32(IFLA_VXLAN_ID, 7).ip(IFLA_VXLAN_GROUP6, "2001:db8::9"); })
                .bytes();
  DecodedDump d = decode_dump(b);
  REQUIRE(d.ns.links.size() == 1);
  const VxlanState* x = d.ns.links[0].state.vxlan();
  REQUIRE(x);
  CHECK(x->remote == parse_ip("2001:db8::9"));
  CHECK(!x->group);
  CHECK(x->dev.empty());
}

TEST_CASE("decode_dump: a VXLAN's flooding entries are its remotes, sorted, the kernel's own for its remote not",
          "[decode]") {
  auto entry = [](int ifindex, const char* dst) { return fdb_request(ifindex, *parse_ip(dst), true); };
  Bytes flooding = link(5, "vx0").linkinfo("vxlan", [](Message& m) { m.u32(IFLA_VXLAN_ID, 7); }).bytes();
  Bytes single = link(6, "vx1")
                     .linkinfo("vxlan", [](Message& m) { m.u32(IFLA_VXLAN_ID, 8).ip(IFLA_VXLAN_GROUP, "192.0.2.9"); })
                     .bytes();
  DecodedDump d = decode_dump(joined(
      {entry(5, "192.0.2.3"), flooding, single, entry(5, "192.0.2.2"), entry(6, "192.0.2.9"), entry(9, "192.0.2.4")}));
  REQUIRE(d.ns.links.size() == 2);
  CHECK(d.ns.links[0].state.vxlan()->remotes == std::vector{*parse_ip("192.0.2.2"), *parse_ip("192.0.2.3")});
  CHECK(d.ns.links[1].state.vxlan()->remotes.empty());  // 192.0.2.9 is its `remote`, the kernel's entry
  CHECK(d.errors.empty());
}

TEST_CASE("decode_dump: the order of the messages does not matter", "[decode]") {
  Bytes links = link(2, "eth0").linkinfo("veth").bytes();
  Bytes addr = address(2, "10.0.0.2/24").bytes();
  Bytes rt = route("10.0.9.0", 24).u32(RTA_OIF, 2).bytes();
  DecodedDump a = decode_dump(joined({links, addr, rt}));
  DecodedDump b = decode_dump(joined({rt, addr, links}));
  REQUIRE(b.ns.links.size() == 1);
  CHECK(b.ns.links[0].state == a.ns.links[0].state);
  CHECK(b.ns.links[0].state.addresses.size() == 1);
  CHECK(b.ns.routes == a.ns.routes);
  CHECK(b.ns.routes.at(0).dev == "eth0");
}

TEST_CASE("decode_dump: bad messages are told, and what is good is still read", "[decode]") {
  Bytes good = link(2, "eth0").bytes();
  SECTION("nothing") {
    DecodedDump d = decode_dump({});
    CHECK(d.ns.links.empty());
    CHECK(d.errors.empty());
  }
  SECTION("a header cut short") {
    Bytes b = joined({good, Bytes(good.begin(), good.begin() + 10)});
    DecodedDump d = decode_dump(b);
    CHECK(d.ns.links.size() == 1);
    CHECK(d.errors == std::vector<DumpError>{{DumpError::Kind::truncated, good.size()}});
  }
  SECTION("a length past the end, or shorter than a header") {
    for (uint32_t len : {0u, 15u, 1u << 31, static_cast<uint32_t>(good.size() + 1)}) {
      Bytes b = good;
      std::memcpy(b.data(), &len, sizeof len);
      DecodedDump d = decode_dump(b);
      CHECK(d.ns.links.empty());
      CHECK(d.errors == std::vector<DumpError>{{DumpError::Kind::truncated, 0}});
    }
  }
  SECTION("a link too short for its ifinfomsg") {
    nlmsghdr h{NLMSG_HDRLEN + 4, RTM_NEWLINK, 0, 0, 0};
    Bytes b(h.nlmsg_len);
    std::memcpy(b.data(), &h, sizeof h);
    DecodedDump d = decode_dump(joined({b, good}));
    CHECK(d.ns.links.size() == 1);
    REQUIRE(d.errors.size() == 1);
    CHECK(d.errors[0].kind == DumpError::Kind::unparsable);
  }
  SECTION("the kernel's refusal, and a message of another kind") {
    nlmsghdr h{NLMSG_LENGTH(sizeof(nlmsgerr)), NLMSG_ERROR, 0, 0, 0};
    nlmsgerr e{};
    e.error = -EPERM;
    Bytes err(h.nlmsg_len);
    std::memcpy(err.data(), &h, sizeof h);
    std::memcpy(err.data() + NLMSG_HDRLEN, &e, sizeof e);
    Bytes rule = good;  // a routing rule: no dump topo reads has one
    uint16_t type = RTM_NEWRULE;
    std::memcpy(rule.data() + offsetof(nlmsghdr, nlmsg_type), &type, sizeof type);
    DecodedDump d = decode_dump(joined({err, rule, good}));
    CHECK(d.ns.links.size() == 1);
    CHECK(d.errors ==
          std::vector<DumpError>{{DumpError::Kind::error, 0, -EPERM}, {DumpError::Kind::unexpected, err.size()}});
  }
}

// The kernel's own answers, in the namespace the test runs in (dumps need no privilege, and
// change nothing): decode_dump makes of their bytes what read_state makes of libnl's caches
// of the same dumps. Whatever links the machine has, lo at least.
TEST_CASE("decode_dump: the kernel's own answers decode as the reader reads them", "[decode]") {
  nl::Socket sock = nl::route_socket_here("the test's namespace");
  Bytes bytes;
  auto ask = [&](int type, auto header) {
    nl::Msg request(nlmsg_alloc_simple(type, NLM_F_REQUEST | NLM_F_DUMP));
    REQUIRE(request);
    REQUIRE(nlmsg_append(request.get(), &header, sizeof header, NLMSG_ALIGNTO) == 0);
    nl::dump(nl_socket_get_fd(sock.get()), nlmsg_hdr(request.get()), "the test's namespace", [&](const nlmsghdr* h) {
      const auto* p = reinterpret_cast<const std::byte*>(h);
      bytes.insert(bytes.end(), p, p + h->nlmsg_len);
      bytes.resize(NLMSG_ALIGN(bytes.size()));
    });
  };
  ask(RTM_GETLINK, ifinfomsg{});
  ask(RTM_GETADDR, ifaddrmsg{});
  ask(RTM_GETROUTE, rtmsg{});
  DecodedDump d = decode_dump(bytes, "here");

  // As read_state reads: links and addresses from libnl's caches, routes one by one.
  RawNamespace cached;
  nl_cache* raw = nullptr;
  REQUIRE(rtnl_link_alloc_cache(sock.get(), AF_UNSPEC, &raw) == 0);
  nl::Cache links(raw);
  for (nl_object* o = nl_cache_get_first(links.get()); o; o = nl_cache_get_next(o))
    cached.add_link(reinterpret_cast<rtnl_link*>(o));
  REQUIRE(rtnl_addr_alloc_cache(sock.get(), &raw) == 0);
  nl::Cache addresses(raw);
  for (nl_object* o = nl_cache_get_first(addresses.get()); o; o = nl_cache_get_next(o))
    cached.add_address(reinterpret_cast<rtnl_addr*>(o));
  cached.order_addresses();
  nl::each_route(sock.get(), "the test's namespace", [&](rtnl_route* r) { cached.add_route(r); });
  cached.order_routes();
  cached.name_local_references("here");

  CHECK(d.errors.empty());
  CHECK(d.ns.mark == cached.mark);
  REQUIRE(d.ns.links.size() == cached.links.size());
  for (size_t i = 0; i < cached.links.size(); ++i) {
    INFO(cached.links[i].state.name);
    CHECK(d.ns.links[i].state == cached.links[i].state);
    CHECK(d.ns.links[i].ifindex == cached.links[i].ifindex);
    CHECK(d.ns.links[i].link_ifindex == cached.links[i].link_ifindex);
    CHECK(d.ns.links[i].link_nsid == cached.links[i].link_nsid);
  }
  CHECK(d.ns.routes == cached.routes);
}

// Found by the garbling below and by fuzz_state: libnl 3.7 reads through a null pointer on
// these, leaves the link without its data for topo's getters to read through one, or walks
// a route's nexthops for ever or past their end (sound_link_message, sound_route_message).
TEST_CASE("decode_dump: link and route shapes the kernel never sends, which libnl cannot take, are refused",
          "[decode]") {
  Bytes good = link(2, "eth0").bytes();
  auto refused = [&](const Bytes& b) {
    DecodedDump d = decode_dump(joined({b, good}));
    CHECK(d.ns.links.size() == 1);
    CHECK(d.errors == std::vector<DumpError>{{DumpError::Kind::unsound, 0}});
  };
  SECTION("a VXLAN or a macvlan without its data") {
    refused(link(5, "vx0").linkinfo("vxlan").bytes());
    refused(link(6, "mv0").u32(IFLA_LINK, 2).linkinfo("macvlan").bytes());
  }
  SECTION("statistics without data, of any kind") {
    Message m = link(9, "d0");
    nlattr* info = nla_nest_start(m.get(), IFLA_LINKINFO);
    m.str(IFLA_INFO_KIND, "dummy");
    m.u32(IFLA_INFO_XSTATS, 0);  // (libnl drops an empty nest)
    nla_nest_end(m.get(), info);
    refused(m.bytes());
  }
  SECTION("a veth that names its peer, as a request does") {
    ifinfomsg peer{};
    peer.ifi_index = 3;
    refused(link(2, "eth9").linkinfo("veth", [&](Message& m) { m.raw(VETH_INFO_PEER, &peer, sizeof peer); }).bytes());
  }
  SECTION("a multipath route with a nexthop of length 0, or one whose padding is not there") {
    for (auto [len, pad] : {std::pair{0, 0}, {9, 0}}) {
      std::vector<uint8_t> hops(sizeof(rtnexthop) + pad + 1);
      rtnexthop nh{};
      nh.rtnh_len = static_cast<unsigned short>(len);
      std::memcpy(hops.data(), &nh, sizeof nh);
      Bytes r = route("10.0.9.0", 24).raw(RTA_MULTIPATH, hops.data(), static_cast<int>(hops.size())).bytes();
      DecodedDump d = decode_dump(joined({good, r}));
      CHECK(d.errors == std::vector<DumpError>{{DumpError::Kind::unsound, good.size()}});
    }
  }
  SECTION("a multipath route is read with all its nexthops, weights as iproute2 gives them, in order") {
    std::vector<uint8_t> hops;
    for (int ifindex : {3, 2}) {
      rtnexthop nh{};
      nh.rtnh_len = sizeof nh;
      nh.rtnh_ifindex = ifindex;
      nh.rtnh_hops = static_cast<unsigned char>(ifindex == 2 ? 4 : 0);
      const auto* p = reinterpret_cast<const uint8_t*>(&nh);
      hops.insert(hops.end(), p, p + sizeof nh);
    }
    Bytes r = route("10.0.9.0", 24).raw(RTA_MULTIPATH, hops.data(), static_cast<int>(hops.size())).bytes();
    DecodedDump d = decode_dump(joined({good, r}));
    CHECK(d.errors.empty());
    REQUIRE(d.ns.routes.size() == 1);
    CHECK(d.ns.routes[0].dev.empty());
    CHECK(d.ns.routes[0].multipath == std::vector<NextHop>{{std::nullopt, "", 1}, {std::nullopt, "eth0", 5}});
  }
  SECTION("a veth with data but no peer, and a bridge without data, are read") {
    DecodedDump d = decode_dump(
        joined({link(3, "eth1").linkinfo("veth", [](Message&) {}).bytes(), link(4, "br0").linkinfo("bridge").bytes()}));
    CHECK(d.errors.empty());
    CHECK(d.ns.links.size() == 2);
  }
}

TEST_CASE("decode_dump: every prefix of a dump, and garbled dumps, decode without a crash", "[decode]") {
  Bytes dump = red_dump();
  for (size_t n = 0; n <= dump.size(); ++n) {
    DecodedDump d = decode_dump(std::span(dump).first(n), "red");
    CHECK(d.ns.links.size() <= 7);
  }
  // An unaligned start: the header is copied out, never read in place.
  Bytes shifted(1);
  shifted.insert(shifted.end(), dump.begin(), dump.end());
  CHECK(decode_dump(std::span(shifted).subspan(1), "red").ns.links.size() == 7);
  std::mt19937 random(19);
  for (int round = 0; round < 2000; ++round) {
    Bytes b = dump;
    for (int flips = 1 + round % 8; flips > 0; --flips) b[random() % b.size()] = static_cast<std::byte>(random());
    decode_dump(b, "red");
  }
  SUCCEED("no crash");
}
