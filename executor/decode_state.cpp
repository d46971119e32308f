#include "executor/decode_state.h"

#include "executor/fdb_message.h"
#include "executor/qdisc_message.h"

#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <netlink/msg.h>
#include <netlink/object.h>
#include <netlink/route/link/inet6.h>
#include <netlink/route/link/macvlan.h>
#include <netlink/route/link/vxlan.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <new>
#include <string_view>
#include <tuple>

namespace topo {
namespace {

struct AddrPut {
  void operator()(nl_addr* a) const { nl_addr_put(a); }
};
struct ObjectPut {
  void operator()(nl_object* o) const { nl_object_put(o); }
};
struct RoutePut {
  void operator()(rtnl_route* r) const { rtnl_route_put(r); }
};
struct MsgFree {
  void operator()(nl_msg* m) const { nlmsg_free(m); }
};
using Object = std::unique_ptr<nl_object, ObjectPut>;

std::optional<IpAddress> ip_of(nl_addr* a) {
  if (!a) return std::nullopt;
  IpAddress ip;
  int family = nl_addr_get_family(a);
  if (family == AF_INET && nl_addr_get_len(a) == 4) {
    ip.family = Family::v4;
  } else if (family == AF_INET6 && nl_addr_get_len(a) == 16) {
    ip.family = Family::v6;
  } else {
    return std::nullopt;
  }
  std::memcpy(ip.bytes.data(), nl_addr_get_binary_addr(a), ip.size());
  return ip;
}

std::optional<IpAddress> take_ip(int (*get)(rtnl_link*, nl_addr**), rtnl_link* l) {
  nl_addr* raw = nullptr;
  if (get(l, &raw) < 0 || !raw) return std::nullopt;
  std::unique_ptr<nl_addr, AddrPut> owned(raw);
  return ip_of(owned.get());
}

void read_vxlan(rtnl_link* l, RawLink& r) {
  VxlanState& x = *r.state.vxlan();
  uint32_t v = 0;
  if (rtnl_link_vxlan_get_id(l, &v) == 0) x.id = v;
  if (rtnl_link_vxlan_get_port(l, &v) == 0) x.port = v;
  if (rtnl_link_vxlan_get_link(l, &v) == 0) r.vxlan_dev_ifindex = static_cast<int>(v);
  x.local = take_ip(rtnl_link_vxlan_get_local, l);
  // The kernel keeps a unicast remote and a multicast group in one attribute.
  if (auto g = take_ip(rtnl_link_vxlan_get_group, l)) {
    bool multicast = g->family == Family::v4 ? (g->bytes[0] & 0xf0) == 0xe0 : g->bytes[0] == 0xff;
    (multicast ? x.group : x.remote) = g;
  }
}

RawLink raw_link(rtnl_link* l) {
  RawLink r;
  r.ifindex = rtnl_link_get_ifindex(l);
  r.link_ifindex = rtnl_link_get_link(l);
  int32_t nsid = -1;
  if (rtnl_link_get_link_netnsid(l, &nsid) == 0) r.link_nsid = nsid;
  r.master_ifindex = rtnl_link_get_master(l);
  LinkState& s = r.state;
  s.name = rtnl_link_get_name(l) ? rtnl_link_get_name(l) : "";
  s.kind = kind_named(rtnl_link_get_type(l) ? rtnl_link_get_type(l) : "");
  s.alias = rtnl_link_get_ifalias(l) ? rtnl_link_get_ifalias(l) : "";
  s.mtu = rtnl_link_get_mtu(l);
  s.group = rtnl_link_get_group(l);
  s.up = rtnl_link_get_flags(l) & IFF_UP;
  uint8_t gen_mode = 0;
  s.link_local = !(rtnl_link_inet6_get_addr_gen_mode(l, &gen_mode) == 0 && gen_mode == IN6_ADDR_GEN_MODE_NONE);
  if (nl_addr* mac = rtnl_link_get_addr(l); mac && nl_addr_get_len(mac) == 6) {
    MacAddress m;
    std::memcpy(m.bytes.data(), nl_addr_get_binary_addr(mac), 6);
    s.mac = m;
  }
  if (s.vxlan()) read_vxlan(l, r);
  if (MacvlanState* m = s.macvlan()) {
    char mode[32];
    m->mode = rtnl_link_macvlan_mode2str(rtnl_link_macvlan_get_mode(l), mode, sizeof mode);
  }
  return r;
}

bool link_local(const IpPrefix& p) {
  return p.address.family == Family::v6 && p.address.bytes[0] == 0xfe && (p.address.bytes[1] & 0xc0) == 0x80;
}

// nl_msg_parse's callback: keeps the object it was given (libnl puts its own reference).
void keep(nl_object* o, void* into) {
  nl_object_get(o);
  static_cast<std::vector<Object>*>(into)->emplace_back(o);
}

bool is(const Object& o, const char* type) {
  const char* t = nl_object_get_type(o.get());
  return t && std::strcmp(t, type) == 0;
}

}  // namespace

void RawNamespace::add_link(rtnl_link* l) {
  RawLink r = raw_link(l);
  if (r.state.name == "lo") {
    mark = r.state.alias;
    return;
  }
  links.push_back(std::move(r));
}

void RawNamespace::add_address(rtnl_addr* a) {
  auto ip = ip_of(rtnl_addr_get_local(a));
  if (!ip) return;
  IpPrefix p{*ip, rtnl_addr_get_prefixlen(a)};
  if (link_local(p)) return;  // the kernel's own, made for every IPv6 link
  for (RawLink& l : links)
    if (l.ifindex == rtnl_addr_get_ifindex(a)) l.state.addresses.push_back(p);
}

// The dump lists a link's addresses in the kernel's order (each IPv4 subnet's primary first).
void RawNamespace::order_addresses() {
  for (RawLink& l : links) l.state.addresses = in_address_order(l.state.addresses);
}

void RawNamespace::add_route(rtnl_route* r) {
  if (rtnl_route_get_table(r) != RT_TABLE_MAIN || rtnl_route_get_type(r) != RTN_UNICAST) return;
  nl_addr* dst = rtnl_route_get_dst(r);
  RouteState route;
  int family = rtnl_route_get_family(r);
  route.to.address.family = family == AF_INET6 ? Family::v6 : Family::v4;
  if (auto ip = ip_of(dst)) route.to.address = *ip;
  route.to.length = dst ? static_cast<int>(nl_addr_get_prefixlen(dst)) : 0;
  if (link_local(route.to)) return;
  route.metric = rtnl_route_get_priority(r);
  route.protocol = rtnl_route_get_protocol(r);
  int hops = rtnl_route_get_nnexthops(r);
  if (hops == 1) {
    rtnl_nexthop* nh = rtnl_route_nexthop_n(r, 0);
    route.via = ip_of(rtnl_route_nh_get_gateway(nh));
    route.dev = name_of(rtnl_route_nh_get_ifindex(nh));
  }
  // RTA_MULTIPATH: libnl's weight is the kernel's rtnh_hops, one less than iproute2's.
  for (int i = 0; hops > 1 && i < hops; ++i) {
    rtnl_nexthop* nh = rtnl_route_nexthop_n(r, i);
    route.multipath.push_back({ip_of(rtnl_route_nh_get_gateway(nh)), name_of(rtnl_route_nh_get_ifindex(nh)),
                               rtnl_route_nh_get_weight(nh) + 1});
  }
  std::sort(route.multipath.begin(), route.multipath.end());
  routes.push_back(route);
}

void RawNamespace::order_routes() {
  auto key = [](const RouteState& r) { return std::tie(r.to, r.metric); };
  for (auto first = routes.begin(); first != routes.end();) {
    auto last = std::find_if(first, routes.end(), [&](const RouteState& r) { return key(r) != key(*first); });
    std::sort(first, last, [](const RouteState& a, const RouteState& b) { return a.dev < b.dev; });
    first = last;
  }
}

void RawNamespace::add_qdisc(std::span<const std::byte> message) {
  auto root = decode_qdisc(message);
  if (!root) return;
  for (RawLink& l : links)
    if (l.ifindex == root->ifindex) l.state.qdisc = std::move(root->qdisc);
}

void RawNamespace::add_flood_entry(std::span<const std::byte> message) {
  auto entry = decode_flood_entry(message);
  if (!entry) return;
  for (RawLink& l : links) {
    VxlanState* v = l.ifindex == entry->ifindex ? l.state.vxlan() : nullptr;
    if (!v || v->remote == entry->remote || v->group == entry->remote) continue;  // the kernel's own entry
    auto at = std::lower_bound(v->remotes.begin(), v->remotes.end(), entry->remote);
    if (at == v->remotes.end() || *at != entry->remote) v->remotes.insert(at, entry->remote);
  }
}

std::string RawNamespace::name_of(int ifindex) const {
  for (const RawLink& l : links)
    if (l.ifindex == ifindex) return l.state.name;
  return ifindex == 1 ? "lo" : "";
}

void RawNamespace::name_local_references(const std::string& netns) {
  for (RawLink& l : links) {
    LinkState& s = l.state;
    if (l.master_ifindex) s.master = name_of(l.master_ifindex);
    if (l.vxlan_dev_ifindex && s.vxlan()) s.vxlan()->dev = name_of(l.vxlan_dev_ifindex);
    if (!l.link_nsid)
      set_other_end(s, netns, name_of(l.link_ifindex));
    else
      set_other_end(s, std::string(kUnknownNetns), "");
  }
}

std::optional<IpAddress> address_of(nl_addr* a) { return ip_of(a); }

void set_other_end(LinkState& s, const std::string& netns, const std::string& name) {
  if (VethState* v = s.veth()) {
    v->peer_netns = netns;
    v->peer_name = name;
  } else if (MacvlanState* m = s.macvlan()) {
    m->parent_netns = netns;
    m->parent = name;
  }
}

bool sound_link_message(const nlmsghdr* h) {
  nlattr* tb[IFLA_MAX + 1];
  // No policy: only where the attributes are, as nla_ok finds them; libnl's own checks come
  // after, and refuse what they refuse.
  if (nlmsg_parse(const_cast<nlmsghdr*>(h), sizeof(ifinfomsg), tb, IFLA_MAX, nullptr) < 0) return true;
  if (!tb[IFLA_LINKINFO]) return true;
  nlattr* info[IFLA_INFO_MAX + 1];
  if (nla_parse_nested(info, IFLA_INFO_MAX, tb[IFLA_LINKINFO], nullptr) < 0 || !info[IFLA_INFO_KIND]) return true;
  if (!info[IFLA_INFO_DATA] && info[IFLA_INFO_XSTATS]) return false;  // io_parse(link, NULL, xstats)
  const char* kind = static_cast<const char*>(nla_data(info[IFLA_INFO_KIND]));
  std::string_view name(kind, strnlen(kind, static_cast<size_t>(nla_len(info[IFLA_INFO_KIND]))));
  if (name == "vxlan" || name == "macvlan") return info[IFLA_INFO_DATA] != nullptr;  // no l_info
  if (name == "veth" && info[IFLA_INFO_DATA]) {
    nlattr* data[VETH_INFO_MAX + 1];
    if (nla_parse_nested(data, VETH_INFO_MAX, info[IFLA_INFO_DATA], nullptr) < 0) return true;
    return data[VETH_INFO_PEER] == nullptr;  // veth_parse fills a peer it has just freed
  }
  return true;
}

bool sound_route_message(const nlmsghdr* h) {
  nlattr* tb[RTA_MAX + 1];
  if (nlmsg_parse(const_cast<nlmsghdr*>(h), sizeof(rtmsg), tb, RTA_MAX, nullptr) < 0 || !tb[RTA_MULTIPATH]) return true;
  // parse_multipath's own walk: it moves on by RTNH_ALIGN(rtnh_len), which 0 leaves in place.
  const auto* at = static_cast<const char*>(nla_data(tb[RTA_MULTIPATH]));
  size_t left = static_cast<size_t>(nla_len(tb[RTA_MULTIPATH]));
  while (left >= sizeof(rtnexthop)) {
    rtnexthop nh;
    std::memcpy(&nh, at, sizeof nh);
    if (left < nh.rtnh_len) break;
    if (nh.rtnh_len == 0) return false;
    size_t step = RTNH_ALIGN(nh.rtnh_len);
    if (step > left) return false;  // its size_t count wraps, and it walks on past the attribute
    left -= step;
    at += step;
  }
  return true;
}

int parse_message(std::span<const std::byte> message, const std::function<void(nl_object*)>& each) {
  // The message alone in a buffer of its exact length, aligned, as libnl reads it from a
  // socket: whatever libnl reads past it is a read past an allocation.
  std::unique_ptr<nl_msg, MsgFree> msg(nlmsg_alloc_size(message.size()));
  if (!msg) throw std::bad_alloc();
  std::memcpy(nlmsg_hdr(msg.get()), message.data(), message.size());
  nlmsg_set_proto(msg.get(), NETLINK_ROUTE);
  nlmsghdr* copy = nlmsg_hdr(msg.get());
  if ((copy->nlmsg_type == RTM_NEWLINK && !sound_link_message(copy)) ||
      (copy->nlmsg_type == RTM_NEWROUTE && !sound_route_message(copy)))
    return kUnsound;
  if (copy->nlmsg_type != RTM_NEWROUTE)  // libnl's link and address caches' own parser
    return nl_msg_parse(
        msg.get(), [](nl_object* o, void* f) { (*static_cast<decltype(&each)>(f))(o); },
        const_cast<std::function<void(nl_object*)>*>(&each));
  // Not through the route cache's parser: that cache keeps one of two routes that differ
  // in their device only (the prefix routes of two links of one namespace on one subnet).
  rtnl_route* raw = nullptr;
  int err = rtnl_route_parse(copy, &raw);
  if (err < 0 || !raw) return err;
  std::unique_ptr<rtnl_route, RoutePut> route(raw);
  each(reinterpret_cast<nl_object*>(route.get()));
  return 0;
}

DecodedDump decode_dump(std::span<const std::byte> bytes, const std::string& netns) {
  DecodedDump out;
  // Every object first, each kind apart: addresses and routes name links by ifindex, and
  // the reader adds them in that order whatever order the messages came in.
  std::vector<Object> links, addresses;
  std::vector<Object> routes;
  std::vector<std::span<const std::byte>> qdiscs, floods;
  // NLMSG_OK and NLMSG_NEXT, over offsets: a length is checked against what is left before
  // anything of the message is read, and the header is copied out, as the bytes need not be
  // aligned.
  for (size_t at = 0; at < bytes.size();) {
    nlmsghdr h;
    size_t left = bytes.size() - at;
    if (left < sizeof h) {
      out.errors.push_back({DumpError::Kind::truncated, at});
      break;
    }
    std::memcpy(&h, bytes.data() + at, sizeof h);
    if (h.nlmsg_len < sizeof h || h.nlmsg_len > left) {
      out.errors.push_back({DumpError::Kind::truncated, at});
      break;
    }
    size_t offset = at;
    at += std::min<size_t>(NLMSG_ALIGN(h.nlmsg_len), left);
    switch (h.nlmsg_type) {
      case NLMSG_NOOP:
      case NLMSG_DONE:  // the end of one dump; another may follow
        continue;
      case NLMSG_ERROR: {
        int error = 0;
        if (h.nlmsg_len >= NLMSG_LENGTH(sizeof error))
          std::memcpy(&error, bytes.data() + offset + NLMSG_HDRLEN, sizeof error);
        out.errors.push_back({DumpError::Kind::error, offset, error});
        continue;
      }
      case RTM_NEWLINK:
      case RTM_NEWADDR:
      case RTM_NEWROUTE: break;
      case RTM_NEWQDISC: qdiscs.push_back(bytes.subspan(offset, h.nlmsg_len)); continue;
      case RTM_NEWNEIGH: floods.push_back(bytes.subspan(offset, h.nlmsg_len)); continue;
      default: out.errors.push_back({DumpError::Kind::unexpected, offset}); continue;
    }
    std::vector<Object>& into = h.nlmsg_type == RTM_NEWLINK ? links : h.nlmsg_type == RTM_NEWADDR ? addresses : routes;
    int err = parse_message(bytes.subspan(offset, h.nlmsg_len), [&](nl_object* o) { keep(o, &into); });
    if (err == kUnsound) out.errors.push_back({DumpError::Kind::unsound, offset});
    if (err < 0) out.errors.push_back({DumpError::Kind::unparsable, offset, err});
  }
  // The message's type picked libnl's parser; its object's type is checked all the same
  // before the cast.
  for (const Object& o : links)
    if (is(o, "route/link")) out.ns.add_link(reinterpret_cast<rtnl_link*>(o.get()));
  for (const Object& o : addresses)
    if (is(o, "route/addr")) out.ns.add_address(reinterpret_cast<rtnl_addr*>(o.get()));
  out.ns.order_addresses();
  for (const Object& o : routes)
    if (is(o, "route/route")) out.ns.add_route(reinterpret_cast<rtnl_route*>(o.get()));
  out.ns.order_routes();
  for (std::span<const std::byte> q : qdiscs) out.ns.add_qdisc(q);
  for (std::span<const std::byte> f : floods) out.ns.add_flood_entry(f);
  out.ns.name_local_references(netns);
  return out;
}

}  // namespace topo
