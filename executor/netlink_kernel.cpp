#include "executor/netlink_kernel.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/errno.h>
#include <netlink/route/addr.h>
#include <netlink/route/link/macvlan.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/link/vxlan.h>
#include <netlink/route/route.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>
#include <set>
#include <thread>

#include "executor/etc_netns.h"
#include "executor/kernel_error.h"
#include "executor/named_netns.h"
#include "executor/nft.h"
#include "planner/render_text.h"

namespace topo {
namespace {

std::string where(const std::string& netns, const std::string& name) { return netns + "/" + name; }

void check(int nl_err, const std::string& step, const std::string& object) {
  if (nl_err < 0) throw KernelError(step, object, nl::error_text(nl_err), nl::errno_of(nl_err));
}

nl::Addr nl_ip(const IpAddress& ip, int prefix_len = -1) {
  nl::Addr a(nl_addr_build(ip.family == Family::v4 ? AF_INET : AF_INET6, ip.bytes.data(), ip.size()));
  if (!a) throw std::bad_alloc();
  nl_addr_set_prefixlen(a.get(), prefix_len < 0 ? static_cast<int>(ip.size() * 8) : prefix_len);
  return a;
}

nl::Addr nl_mac(const MacAddress& mac) {
  nl::Addr a(nl_addr_build(AF_LLC, mac.bytes.data(), mac.bytes.size()));
  if (!a) throw std::bad_alloc();
  return a;
}

// Attributes every link is born with: name, mtu, mac.
void set_basics(rtnl_link* link, const LinkState& l) {
  rtnl_link_set_name(link, l.name.c_str());
  if (l.mtu) rtnl_link_set_mtu(link, static_cast<unsigned>(l.mtu));
  if (l.mac) rtnl_link_set_addr(link, nl_mac(*l.mac).get());
}

// RTM_NEWLINK on an existing link, by name: into interface group `group`.
nl::Msg group_request(const std::string& name, uint32_t group) {
  nl::Msg msg(nlmsg_alloc_simple(RTM_NEWLINK, 0));
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  if (!msg || nlmsg_append(msg.get(), &ifi, sizeof ifi, NLMSG_ALIGNTO) < 0 ||
      nla_put_string(msg.get(), IFLA_IFNAME, name.c_str()) < 0 || nla_put_u32(msg.get(), IFLA_GROUP, group) < 0)
    throw std::bad_alloc();
  return msg;
}

}  // namespace

NetlinkKernel::NetlinkKernel(const State& expected, std::string_view lab)
    : mark_(ownership_mark(lab)), group_(ownership_group(lab)) {
  for (const auto& [name, n] : expected.namespaces) paths_[name] = name == "host" ? "" : n.path;
}

NetlinkKernel::Namespace& NetlinkKernel::ns(const std::string& name) {
  auto it = open_.find(name);
  if (it != open_.end()) return it->second;
  auto p = paths_.find(name);
  std::string path = name == "host" ? "" : p != paths_.end() && !p->second.empty() ? p->second : named_netns_path(name);
  Namespace n;
  n.fd = open_netns(path);
  if (!n.fd) throw KernelError("opening", "namespace " + name, "it does not exist", ENOENT);
  n.sock = nl::route_socket_in(n.fd, "namespace " + name);
  return open_.emplace(name, std::move(n)).first->second;
}

nl::Link NetlinkKernel::get_link(const std::string& netns, const std::string& name) {
  rtnl_link* raw = nullptr;
  check(rtnl_link_get_kernel(sock(netns), 0, name.c_str(), &raw), "looking up", "interface " + where(netns, name));
  return nl::Link(raw);
}

int NetlinkKernel::ifindex(const std::string& netns, const std::string& name) {
  return rtnl_link_get_ifindex(get_link(netns, name).get());
}

void NetlinkKernel::settle_deletions() {
  using namespace std::chrono;
  auto deadline = steady_clock::now() + seconds(30);
  for (const auto& [netns, name] : vanishing_) {
    if (!open_.count(netns) && netns != "host" && !open_netns(paths_.count(netns) && !paths_[netns].empty() ? paths_[netns] : named_netns_path(netns)))
      continue;  // its namespace went too
    for (;;) {
      rtnl_link* raw = nullptr;
      int err = rtnl_link_get_kernel(sock(netns), 0, name.c_str(), &raw);
      if (err < 0) break;  // gone
      rtnl_link_put(raw);
      if (steady_clock::now() > deadline)
        throw KernelError("waiting for the kernel to delete", "interface " + where(netns, name),
                          "it is still there after 30 s (is a process holding its namespace?)");
      std::this_thread::sleep_for(milliseconds(2));
    }
  }
  vanishing_.clear();
}

void NetlinkKernel::run(const Step& step) {
  bool removes_namespace = step.action == Action::remove && std::holds_alternative<NamespaceDelta>(step.subject);
  if (!removes_namespace) settle_deletions();
  std::visit(
      [&](const auto& d) {
        using D = std::decay_t<decltype(d)>;
        if constexpr (std::is_same_v<D, NamespaceDelta>) run_namespace(step, d);
        if constexpr (std::is_same_v<D, LinkDelta>) run_link(step, d);
        if constexpr (std::is_same_v<D, RouteDelta>) run_route(step, d);
        if constexpr (std::is_same_v<D, SysctlDelta>) run_sysctl(step, d);
        if constexpr (std::is_same_v<D, FileDelta>) run_file(step, d);
        if constexpr (std::is_same_v<D, LinkBatchDelta>) run_batch(step, d);
        if constexpr (std::is_same_v<D, NatDelta>) run_nat(step, d);
      },
      step.subject);
}

bool NetlinkKernel::claim(const std::string& netns, const std::string& name) {
  if (netns != "host") {
    std::string path = paths_.count(netns) && !paths_[netns].empty() ? paths_[netns] : named_netns_path(netns);
    if (name == "lo" && path == named_netns_path(netns) && is_stale_netns_file(path)) {
      ::unlink(path.c_str());  // made by the killed run, never mounted: nothing in it to keep
      return true;
    }
    if (!open_netns(path)) return false;
  }
  rtnl_link* raw = nullptr;
  if (rtnl_link_get_kernel(sock(netns), 0, name.c_str(), &raw) < 0) return false;
  nl::Link link(raw);
  const char* alias = rtnl_link_get_ifalias(link.get());
  if (alias && *alias) return false;
  nl::Link change(rtnl_link_alloc());
  rtnl_link_set_ifalias(change.get(), mark_.c_str());
  check(rtnl_link_change(sock(netns), link.get(), change.get(), 0), "claiming", "interface " + where(netns, name));
  return true;
}

void NetlinkKernel::run_namespace(const Step& s, const NamespaceDelta&) {
  if (s.action == Action::remove) return remove_namespace(s);
  create_named_netns(s.netns);
  try {
    nl::Link lo = get_link(s.netns, "lo");
    nl::Link change(rtnl_link_alloc());
    rtnl_link_set_ifalias(change.get(), mark_.c_str());
    rtnl_link_set_flags(change.get(), IFF_UP);
    check(rtnl_link_change(sock(s.netns), lo.get(), change.get(), 0), "marking lo in", "namespace " + s.netns);
    for (const Step& c : s.contents) run(c);  // undoing a removal: make it all again
  } catch (...) {
    Step undo = s;
    undo.action = Action::remove;
    remove_namespace(undo);  // takes what was made in it along
    throw;
  }
}

// The kernel deletes the namespace's links in one batch when the last reference goes; the
// links elsewhere that die with them (veth peers, macvlans) are noted, so that nothing is
// made under their names before they are gone. Files are not the kernel's: removed here.
void NetlinkKernel::remove_namespace(const Step& s) {
  for (const Step& c : s.contents) {
    if (std::holds_alternative<FileDelta>(c.subject)) run_file(c, std::get<FileDelta>(c.subject));
    const auto* l = std::get_if<LinkDelta>(&c.subject);
    if (!l || !l->before) continue;
    if (c.netns != s.netns) vanishing_.emplace_back(c.netns, l->before->name);
    if (c.peer && l->before->peer_netns != s.netns) vanishing_.emplace_back(l->before->peer_netns, l->before->peer_name);
  }
  open_.erase(s.netns);  // close topo's socket first: nothing of topo's may hold it
  delete_named_netns(s.netns);
  ::rmdir(("/etc/netns/" + s.netns).c_str());  // only when topo's files were its only ones
}

// The links go in one RTM_DELLINK for an interface group: the kernel unregisters them (and
// their veth peers) as one batch, paying its synchronisation once rather than once a link.
// The group is a scratch one that no other link of the namespace is in, so nothing else
// goes; should a step fail, the links get their own groups back.
void NetlinkKernel::run_batch(const Step& s, const LinkBatchDelta& d) {
  if (s.action == Action::create) {  // undoing: each link made again
    for (const Step& c : s.contents) run(c);
    return;
  }
  const std::string in = "namespace " + s.netns;
  std::set<std::string> names(d.before->begin(), d.before->end());
  std::set<uint32_t> taken;                              // groups of the links that stay
  std::vector<std::pair<std::string, uint32_t>> moving;  // (link, its group before)
  for (auto& [name, group] : nl::link_groups(sock(s.netns), in))
    if (names.count(name))
      moving.emplace_back(name, group);
    else
      taken.insert(group);
  if (moving.empty()) return;  // all gone already (with a namespace a killed run deleted)
  // Usually they are all in the lab's group already (apply put them there) and nothing
  // else is: one request. Otherwise they move to a scratch group first.
  bool grouped = !taken.count(group_) && std::all_of(moving.begin(), moving.end(), [&](const auto& m) {
    return m.second == group_;
  });
  if (grouped) return delete_group(s.netns, group_, moving.size());
  uint32_t scratch = group_ + 1;
  while (taken.count(scratch) || scratch == 0) ++scratch;

  auto regroup = [&](auto group_of) {
    std::vector<nl::Msg> requests;
    for (const auto& [name, group] : moving) requests.push_back(group_request(name, group_of(group)));
    return nl::send_all(sock(s.netns), requests, in);
  };
  std::vector<nl::Ack> acks = regroup([&](uint32_t) { return scratch; });
  auto failed = std::find_if(acks.begin(), acks.end(), [](const nl::Ack& a) { return a.error != 0; });
  if (failed == acks.end()) {
    try {
      return delete_group(s.netns, scratch, moving.size());
    } catch (const KernelError&) {
      regroup([](uint32_t group) { return group; });  // whole or nothing: their groups back
      throw;
    }
  }
  regroup([](uint32_t group) { return group; });
  const std::string& name = moving[static_cast<size_t>(failed - acks.begin())].first;
  throw KernelError("grouping for deletion", "interface " + where(s.netns, name), failed->reason(), -failed->error);
}

// One RTM_DELLINK for every link of interface group `group` in the namespace.
void NetlinkKernel::delete_group(const std::string& netns, uint32_t group, size_t count) {
  nl::Msg del(nlmsg_alloc_simple(RTM_DELLINK, 0));
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  if (!del || nlmsg_append(del.get(), &ifi, sizeof ifi, NLMSG_ALIGNTO) < 0 || nla_put_u32(del.get(), IFLA_GROUP, group) < 0)
    throw std::bad_alloc();
  std::vector<nl::Msg> one;
  one.push_back(std::move(del));
  nl::Ack gone = nl::send_all(sock(netns), one, "namespace " + netns).front();
  if (gone.error != 0)
    throw KernelError("deleting", fmt::format("{} interfaces in {}", count, netns), gone.reason(), -gone.error);
}

void NetlinkKernel::run_link(const Step& s, const LinkDelta& d) {
  if (s.action == Action::modify) return modify_link(s.netns, *d.before, *d.after);
  if (s.action == Action::remove) {
    nl::Link link(rtnl_link_alloc());
    rtnl_link_set_name(link.get(), d.before->name.c_str());
    int err = rtnl_link_delete(sock(s.netns), link.get());
    // Already gone is done: the kernel may be reaping it with a namespace deleted just before
    // (by a run that was killed, say) — it was seen, and it is going.
    if (err == -NLE_OBJ_NOTFOUND || err == -NLE_NODEV) return;
    check(err, "deleting", "interface " + where(s.netns, d.before->name));
    return;
  }
  const LinkState* peer = s.peer && s.peer->after ? &*s.peer->after : nullptr;
  create_link(s.netns, *d.after, peer);
}

void NetlinkKernel::create_link(const std::string& netns, const LinkState& l, const LinkState* peer) {
  const std::string object = "interface " + where(netns, l.name);
  nl::Link link;
  std::string made_in = netns;  // where the request goes
  if (l.kind == "veth") {
    link.reset(rtnl_link_veth_alloc());
    nl::Link other(rtnl_link_veth_get_peer(link.get()));
    rtnl_link_set_name(other.get(), l.peer_name.c_str());
    if (peer) set_basics(other.get(), *peer);
    if (l.peer_netns != netns) rtnl_link_set_ns_fd(other.get(), ns(l.peer_netns).fd.get());
  } else if (l.kind == "vxlan") {
    link.reset(rtnl_link_vxlan_alloc());
    rtnl_link_vxlan_set_id(link.get(), static_cast<uint32_t>(l.vxlan_id));
    if (l.vxlan_local) rtnl_link_vxlan_set_local(link.get(), nl_ip(*l.vxlan_local).get());
    if (l.vxlan_remote) rtnl_link_vxlan_set_group(link.get(), nl_ip(*l.vxlan_remote).get());
    if (l.vxlan_group) rtnl_link_vxlan_set_group(link.get(), nl_ip(*l.vxlan_group).get());
    if (!l.vxlan_dev.empty()) rtnl_link_vxlan_set_link(link.get(), static_cast<uint32_t>(ifindex(netns, l.vxlan_dev)));
    rtnl_link_vxlan_set_port(link.get(), static_cast<uint32_t>(l.vxlan_port));
  } else if (l.kind == "macvlan") {
    // Made next to its parent and born in its own namespace (IFLA_NET_NS_FD).
    link.reset(rtnl_link_macvlan_alloc());
    rtnl_link_macvlan_set_mode(link.get(), static_cast<uint32_t>(rtnl_link_macvlan_str2mode(l.macvlan_mode.c_str())));
    made_in = l.macvlan_parent_netns;
    rtnl_link_set_link(link.get(), ifindex(made_in, l.macvlan_parent));
    if (made_in != netns) rtnl_link_set_ns_fd(link.get(), ns(netns).fd.get());
  } else {
    link.reset(rtnl_link_alloc());
    check(rtnl_link_set_type(link.get(), l.kind.c_str()), "creating", object);
  }
  if (!link) throw std::bad_alloc();
  set_basics(link.get(), l);
  check(rtnl_link_add(sock(made_in), link.get(), NLM_F_CREATE | NLM_F_EXCL), "creating", object);
  try {
    settle(netns, l);
    if (peer) settle(l.peer_netns, *peer);
  } catch (...) {
    // Whole or nothing: what this step made goes (a veth's peer with it).
    nl::Link gone(rtnl_link_alloc());
    rtnl_link_set_name(gone.get(), l.name.c_str());
    rtnl_link_delete(sock(netns), gone.get());
    throw;
  }
}

// After creation: the mark, up (before joining a bridge, which then has nothing to wait
// for), the addresses, the bridge.
void NetlinkKernel::settle(const std::string& netns, const LinkState& l) {
  nl::Link orig = get_link(netns, l.name);
  nl::Link change(rtnl_link_alloc());
  rtnl_link_set_ifalias(change.get(), l.alias.empty() ? mark_.c_str() : l.alias.c_str());
  if (l.up) rtnl_link_set_flags(change.get(), IFF_UP);
  // Here, not in the request that makes it: libnl leaves the group out of a veth's peer.
  if (l.group) rtnl_link_set_group(change.get(), l.group);
  check(rtnl_link_change(sock(netns), orig.get(), change.get(), 0), "marking and bringing up",
        "interface " + where(netns, l.name));
  for (const IpPrefix& a : l.addresses) address(netns, l.name, a, true);
  if (!l.master.empty()) set_master(netns, l.name, l.master);
}

void NetlinkKernel::set_master(const std::string& netns, const std::string& dev, const std::string& master) {
  nl::Link orig = get_link(netns, dev);
  nl::Link change(rtnl_link_alloc());
  rtnl_link_set_master(change.get(), master.empty() ? 0 : ifindex(netns, master));
  check(rtnl_link_change(sock(netns), orig.get(), change.get(), 0),
        master.empty() ? "releasing from its bridge" : "attaching to bridge " + master,
        "interface " + where(netns, dev));
}

void NetlinkKernel::address(const std::string& netns, const std::string& dev, const IpPrefix& a, bool add) {
  std::unique_ptr<rtnl_addr, void (*)(rtnl_addr*)> addr(rtnl_addr_alloc(), rtnl_addr_put);
  rtnl_addr_set_ifindex(addr.get(), ifindex(netns, dev));
  nl::Addr local = nl_ip(a.address, a.length);
  check(rtnl_addr_set_local(addr.get(), local.get()), "building", "address");
  rtnl_addr_set_prefixlen(addr.get(), a.length);
  // No duplicate address detection: the lab's address is usable at once (as with nodad).
  if (a.address.family == Family::v6) rtnl_addr_set_flags(addr.get(), IFA_F_NODAD);
  std::string object = fmt::format("address {} on {}", a, where(netns, dev));
  if (add)
    check(rtnl_addr_add(sock(netns), addr.get(), NLM_F_EXCL), "adding", object);
  else
    check(rtnl_addr_delete(sock(netns), addr.get(), 0), "removing", object);
}

void NetlinkKernel::modify_link(const std::string& netns, const LinkState& b, const LinkState& a) {
  const std::string object = "interface " + where(netns, a.name);
  nl::Link orig = get_link(netns, a.name);
  nl::Link change(rtnl_link_alloc());
  bool any = false;
  if (a.mtu && a.mtu != b.mtu) rtnl_link_set_mtu(change.get(), static_cast<unsigned>(a.mtu)), any = true;
  if (a.mac && a.mac != b.mac) rtnl_link_set_addr(change.get(), nl_mac(*a.mac).get()), any = true;
  if (a.group != b.group) rtnl_link_set_group(change.get(), a.group), any = true;
  if (a.up != b.up) {
    if (a.up)
      rtnl_link_set_flags(change.get(), IFF_UP);
    else
      rtnl_link_unset_flags(change.get(), IFF_UP);
    any = true;
  }
  if (any) check(rtnl_link_change(sock(netns), orig.get(), change.get(), 0), "changing", object);
  for (const IpPrefix& p : b.addresses)
    if (std::find(a.addresses.begin(), a.addresses.end(), p) == a.addresses.end()) address(netns, a.name, p, false);
  for (const IpPrefix& p : a.addresses)
    if (std::find(b.addresses.begin(), b.addresses.end(), p) == b.addresses.end()) address(netns, a.name, p, true);
  if (a.master != b.master) set_master(netns, a.name, a.master);
}

void NetlinkKernel::run_route(const Step& s, const RouteDelta& d) {
  const RouteState& r = s.action == Action::remove ? *d.before : *d.after;
  std::unique_ptr<rtnl_route, void (*)(rtnl_route*)> route(rtnl_route_alloc(), rtnl_route_put);
  rtnl_route_set_family(route.get(), r.to.address.family == Family::v4 ? AF_INET : AF_INET6);
  nl::Addr dst = nl_ip(r.to.address, r.to.length);
  check(rtnl_route_set_dst(route.get(), dst.get()), "building", "route");
  rtnl_route_set_table(route.get(), RT_TABLE_MAIN);
  rtnl_route_set_protocol(route.get(), static_cast<uint8_t>(r.protocol));
  rtnl_route_set_priority(route.get(), static_cast<uint32_t>(r.metric));
  rtnl_route_set_type(route.get(), RTN_UNICAST);
  // Deleting matches any scope; a route without a gateway is on the link.
  rtnl_route_set_scope(route.get(), s.action == Action::remove ? RT_SCOPE_NOWHERE
                                    : r.via                   ? RT_SCOPE_UNIVERSE
                                                              : RT_SCOPE_LINK);
  rtnl_nexthop* nh = rtnl_route_nh_alloc();
  if (!r.dev.empty()) rtnl_route_nh_set_ifindex(nh, ifindex(s.netns, r.dev));
  if (r.via) rtnl_route_nh_set_gateway(nh, nl_ip(*r.via).get());
  rtnl_route_add_nexthop(route.get(), nh);  // the route owns it from here
  std::string object = "route " + describe(r).substr(6) + " in " + s.netns;
  if (s.action == Action::remove)
    check(rtnl_route_delete(sock(s.netns), route.get(), 0), "deleting", object);
  else
    check(rtnl_route_add(sock(s.netns), route.get(), s.action == Action::modify ? NLM_F_REPLACE : NLM_F_EXCL),
          s.action == Action::modify ? "replacing" : "adding", object);
}

namespace {

// The conf directory a key propagates to ("net/ipv4/conf"), or "" when it does not.
std::string propagates_to(const std::string& key) {
  if (key == "net.ipv4.ip_forward" || key == "net.ipv4.conf.all.forwarding") return "net/ipv4/conf";
  if (key == "net.ipv6.conf.all.forwarding") return "net/ipv6/conf";
  return "";
}

// "net/ipv4/conf" -> "net.ipv4.conf.": the start of the keys of the interfaces there.
std::string key_prefix(std::string dir) {
  std::replace(dir.begin(), dir.end(), '/', '.');
  return dir + ".";
}

}  // namespace

std::map<std::string, std::string> NetlinkKernel::overwritten_by(const Step& step) {
  const auto* d = std::get_if<SysctlDelta>(&step.subject);
  std::string dir = d && d->after && d->before != d->after ? propagates_to(d->key) : "";
  std::map<std::string, std::string> out;
  if (dir.empty()) return out;
  const Fd* netns = nullptr;
  try {
    netns = &ns(step.netns).fd;
  } catch (const KernelError&) {
    return out;  // the step itself will say why
  }
  InNetns inside(*netns);
  std::unique_ptr<DIR, int (*)(DIR*)> conf(::opendir(("/proc/sys/" + dir).c_str()), ::closedir);
  if (!conf) return out;
  while (dirent* e = ::readdir(conf.get())) {
    std::string dev = e->d_name;
    if (dev == "." || dev == ".." || dev == "all") continue;
    Fd fd(::open(("/proc/sys/" + dir + "/" + dev + "/forwarding").c_str(), O_RDONLY | O_CLOEXEC));
    char buf[16];
    ssize_t n = fd ? ::read(fd.get(), buf, sizeof buf) : -1;
    if (n > 0) out[key_prefix(dir) + dev + ".forwarding"] = std::string(buf, static_cast<size_t>(n) - (buf[n - 1] == '\n'));
  }
  return out;
}

void NetlinkKernel::run_sysctl(const Step& s, const SysctlDelta& d) {
  if (!d.after) return;  // undoing a value that could not be read: nothing to put back
  std::string path = "/proc/sys/" + d.key;
  std::replace(path.begin() + 10, path.end(), '.', '/');
  InNetns inside(ns(s.netns).fd);  // /proc/sys/net is the namespace of the thread that opens it
  Fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  std::string object = "sysctl " + d.key + " in " + s.netns;
  if (!fd) throw KernelError("setting", object, std::strerror(errno), errno);
  std::string value = *d.after + "\n";
  if (::write(fd.get(), value.data(), value.size()) < 0) throw KernelError("setting", object, std::strerror(errno), errno);
  put_back_overwritten(s.netns, d);
}

// The key is back at its value from before the lab: what the kernel overwrote when the lab
// first set it (every interface's forwarding) gets its value from then too. An interface
// gone since is skipped.
void NetlinkKernel::put_back_overwritten(const std::string& netns, const SysctlDelta& d) {
  std::string dir = propagates_to(d.key);
  if (dir.empty() || !originals_ || !overwritten_) return;
  auto original = originals_->find({netns, d.key});
  if (original == originals_->end() || original->second != *d.after) return;
  std::string prefix = key_prefix(dir);
  for (const auto& [where, value] : *overwritten_) {
    if (where.first != netns || where.second.rfind(prefix, 0) != 0) continue;
    std::string dev = where.second.substr(prefix.size(), where.second.size() - prefix.size() - 11);  // ".forwarding"
    Fd fd(::open(("/proc/sys/" + dir + "/" + dev + "/forwarding").c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd) continue;
    std::string text = value + "\n";
    if (::write(fd.get(), text.data(), text.size()) < 0)
      throw KernelError("putting back", where.second + " in " + netns, std::strerror(errno), errno);
  }
}

// The table goes from before to after in one batch (delete, then make again with its
// chains and rules), which the kernel commits whole or not at all: a refused rule leaves the
// old table in force. A socket of its own per batch, so that no earlier answer is read as
// this batch's; removing a namespace's table with the namespace needs no batch (the kernel
// deletes it with the namespace; see remove_namespace).
void NetlinkKernel::run_nat(const Step& s, const NatDelta& d) {
  ++nft_batches_;
  std::string where = "namespace " + s.netns;
  nft::Socket sock = nft::socket_in(ns(s.netns).fd, where);
  nft::replace_table(sock.get(), d.before, d.after, where, nft_batches_ == refused_nft_batch_);
}

void NetlinkKernel::run_file(const Step& s, const FileDelta& d) {
  if (d.after)
    write_netns_file(s.netns, d.file, *d.after);
  else
    remove_netns_file(s.netns, d.file);
}

}  // namespace topo
