#include "executor/netlink_kernel.h"

#include "executor/fdb_message.h"
#include "executor/qdisc_message.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
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
#include <optional>
#include <set>
#include <thread>

#include "executor/etc_netns.h"
#include "executor/kernel_error.h"
#include "executor/named_netns.h"
#include "executor/netns.h"
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

// A bridge's mtu set when it is made is only where it starts: the kernel moves it to its
// smallest port's as ports join. Set once it is made, it stays (the kernel notes that it
// was asked for), as the file says. But only a change is noted: asked for the mtu it has
// already (1500, at birth), the kernel does nothing, and a port of 1280 moved the bridge to
// 1280. So such a bridge is born one byte off the file's mtu.
bool mtu_after_birth(const LinkState& l) { return l.is(LinkKind::bridge) && l.mtu; }

// Attributes every link is born with: name, mtu, mac.
void set_basics(rtnl_link* link, const LinkState& l) {
  rtnl_link_set_name(link, l.name.c_str());
  if (l.mtu && !mtu_after_birth(l)) rtnl_link_set_mtu(link, static_cast<unsigned>(l.mtu));
  if (mtu_after_birth(l)) rtnl_link_set_mtu(link, static_cast<unsigned>(l.mtu > 68 ? l.mtu - 1 : l.mtu + 1));
  if (l.mac) rtnl_link_set_addr(link, nl_mac(*l.mac).get());
}

// An RTM_NEWLINK (or RTM_DELLINK) for existing links (by index, or by what the caller adds
// when `index` is 0): the ifinfomsg only; the callers add what they change or match.
nl::Msg link_request(int index, unsigned flags = 0, unsigned change = 0, int type = RTM_NEWLINK) {
  nl::Msg msg(nlmsg_alloc_simple(type, 0));
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  ifi.ifi_index = index;
  ifi.ifi_flags = flags;
  ifi.ifi_change = change;
  if (!msg || nlmsg_append(msg.get(), &ifi, sizeof ifi, NLMSG_ALIGNTO) < 0) throw std::bad_alloc();
  return msg;
}

void must_fit(int nl_err) {
  if (nl_err < 0) throw std::bad_alloc();  // the only way a put into a fresh message fails
}

// By name: into interface group `group`.
nl::Msg group_request(const std::string& name, uint32_t group) {
  nl::Msg msg = link_request(0);
  must_fit(nla_put_string(msg.get(), IFLA_IFNAME, name.c_str()));
  must_fit(nla_put_u32(msg.get(), IFLA_GROUP, group));
  return msg;
}

// On a link just made: what its creation could not say. The mark always (the kernel
// ignores IFLA_IFALIAS in a creation); group and up when nonzero.
nl::Msg change_request(int index, const std::string& alias, uint32_t group, bool up, uint32_t mtu = 0) {
  nl::Msg msg = up ? link_request(index, IFF_UP, IFF_UP) : link_request(index);
  if (!alias.empty()) must_fit(nla_put_string(msg.get(), IFLA_IFALIAS, alias.c_str()));
  if (group) must_fit(nla_put_u32(msg.get(), IFLA_GROUP, group));
  if (mtu) must_fit(nla_put_u32(msg.get(), IFLA_MTU, mtu));
  return msg;
}

// RTM_NEWADDR (or DELADDR) of address `a` on link `index`.
nl::Msg address_request(int index, const IpPrefix& a, bool add) {
  std::unique_ptr<rtnl_addr, void (*)(rtnl_addr*)> addr(rtnl_addr_alloc(), rtnl_addr_put);
  if (!addr) throw std::bad_alloc();
  rtnl_addr_set_ifindex(addr.get(), index);
  nl::Addr local = nl_ip(a.address, a.length);
  if (rtnl_addr_set_local(addr.get(), local.get()) < 0) throw std::bad_alloc();
  rtnl_addr_set_prefixlen(addr.get(), a.length);
  // No duplicate address detection: the lab's address is usable at once (as with nodad).
  if (a.address.family == Family::v6) rtnl_addr_set_flags(addr.get(), IFA_F_NODAD);
  nl_msg* raw = nullptr;
  int err = add ? rtnl_addr_build_add_request(addr.get(), NLM_F_EXCL, &raw)
                : rtnl_addr_build_delete_request(addr.get(), 0, &raw);
  if (err < 0) throw std::bad_alloc();
  return nl::Msg(raw);
}

// net.ipv4.conf.IF.promote_secondaries set to 1 while an object of this class lives, and
// given its value back after: the addresses kept stay, and so do the routes through the link.
class PromotedSecondaries {
 public:
  PromotedSecondaries(const Fd& netns, const std::string& dev)
      : netns_(netns), path_("/proc/sys/net/ipv4/conf/" + dev + "/promote_secondaries") {
    InNetns inside(netns_);
    Fd fd(::open(path_.c_str(), O_RDWR | O_CLOEXEC));
    char buf[16];
    ssize_t n = fd ? ::read(fd.get(), buf, sizeof buf) : -1;
    if (n <= 0) return;
    old_.assign(buf, static_cast<size_t>(n));
    if (old_.rfind("1", 0) != 0 && ::pwrite(fd.get(), "1\n", 2, 0) != 2) old_.clear();
  }
  ~PromotedSecondaries() {
    if (old_.empty() || old_.rfind("1", 0) == 0) return;
    try {
      InNetns inside(netns_);
      Fd fd(::open(path_.c_str(), O_WRONLY | O_CLOEXEC));
      if (fd && ::write(fd.get(), old_.data(), old_.size()) < 0) {
        // Left at 1: the link is as the file wants it, and promoting does traffic no harm.
      }
    } catch (const KernelError&) {
      // Likewise: setns back into the namespace failed, nothing to undo there.
    }
  }
  PromotedSecondaries(const PromotedSecondaries&) = delete;
  PromotedSecondaries& operator=(const PromotedSecondaries&) = delete;

 private:
  const Fd& netns_;
  std::string path_, old_;
};

// Link `index` without an IPv6 link-local address: in a request of its own before the one
// that brings it up, as the kernel makes the address as the link comes up, and changes a
// link's flags before it reads the rest of a request.
nl::Msg no_link_local_request(int index) {
  nl::Msg msg = link_request(index);
  nlattr* spec = nla_nest_start(msg.get(), IFLA_AF_SPEC);
  nlattr* inet6 = spec ? nla_nest_start(msg.get(), AF_INET6) : nullptr;
  if (!inet6) throw std::bad_alloc();
  must_fit(nla_put_u8(msg.get(), IFLA_INET6_ADDR_GEN_MODE, IN6_ADDR_GEN_MODE_NONE));
  nla_nest_end(msg.get(), inet6);
  nla_nest_end(msg.get(), spec);
  return msg;
}

// Link `index` up or down.
nl::Msg up_request(int index, bool up) { return link_request(index, up ? IFF_UP : 0, IFF_UP); }

// Link `index` onto bridge `master` (0: off its bridge).
nl::Msg master_request(int index, int master) {
  nl::Msg msg = link_request(index);
  must_fit(nla_put_u32(msg.get(), IFLA_MASTER, static_cast<uint32_t>(master)));
  return msg;
}

// The index of the link named `name` that an RTM_NEWLINK announces, and, for a veth, its
// peer's (IFLA_LINK, in the peer's namespace). Zero for what is not about that link.
std::pair<int, int> announced(const nlmsghdr* h, const std::string& name) {
  if (h->nlmsg_type != RTM_NEWLINK) return {0, 0};
  const auto* ifi = static_cast<const ifinfomsg*>(nlmsg_data(h));
  nlattr* attrs[IFLA_MAX + 1];
  if (ifi->ifi_family != AF_UNSPEC ||
      nlmsg_parse(const_cast<nlmsghdr*>(h), sizeof(ifinfomsg), attrs, IFLA_MAX, nullptr) < 0 || !attrs[IFLA_IFNAME] ||
      name != nla_get_string(attrs[IFLA_IFNAME]))
    return {0, 0};
  return {ifi->ifi_index, attrs[IFLA_LINK] ? static_cast<int>(nla_get_u32(attrs[IFLA_LINK])) : 0};
}

}  // namespace

void NetlinkKernel::Batch::add(nl::Msg msg, std::string step, std::string object) {
  msgs.push_back(std::move(msg));
  what.emplace_back(std::move(step), std::move(object));
}

void NetlinkKernel::send(const std::string& netns, const Batch& b, const nl::OnMessage& other) {
  if (b.msgs.empty()) return;
  std::vector<nl::Ack> acks = nl::send_all(sock(netns), b.msgs, "namespace " + netns, other);
  for (size_t i = 0; i < acks.size(); ++i)
    if (acks[i].error != 0) throw KernelError(b.what[i].first, b.what[i].second, acks[i].reason(), -acks[i].error);
}

void NetlinkKernel::forget(const std::string& netns, const std::string& name) { ifindexes_.erase({netns, name}); }

void NetlinkKernel::forget_namespace(const std::string& netns) {
  ifindexes_.erase(ifindexes_.lower_bound({netns, ""}), ifindexes_.lower_bound({netns + '\0', ""}));
}

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
  auto held = detached_.find(name);
  n.fd = held != detached_.end() ? Fd(::dup(held->second.get())) : open_netns(path);
  if (!n.fd) throw KernelError("opening", "namespace " + name, "it does not exist", ENOENT);
  n.sock = nl::route_socket_in(n.fd, "namespace " + name);
  return open_.emplace(name, std::move(n)).first->second;
}

nl::Link NetlinkKernel::get_link(const std::string& netns, const std::string& name) {
  rtnl_link* raw = nullptr;
  check(rtnl_link_get_kernel(sock(netns), 0, name.c_str(), &raw), "looking up", "interface " + where(netns, name));
  return nl::Link(raw);
}

// Learnt once (or from the kernel's answer to the request that made the link) and kept
// until topo deletes the link: the kernel never gives a live link's index to another.
int NetlinkKernel::ifindex(const std::string& netns, const std::string& name) {
  auto it = ifindexes_.find({netns, name});
  if (it != ifindexes_.end()) return it->second;
  int index = rtnl_link_get_ifindex(get_link(netns, name).get());
  ifindexes_[{netns, name}] = index;
  return index;
}

void NetlinkKernel::settle_deletions() {
  using namespace std::chrono;
  auto deadline = steady_clock::now() + seconds(30);
  for (const auto& [netns, name] : vanishing_) {
    if (!open_.count(netns) && netns != "host" &&
        !open_netns(paths_.count(netns) && !paths_[netns].empty() ? paths_[netns] : named_netns_path(netns)))
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
        if constexpr (std::is_same_v<D, LinkUpDelta>) run_up(step, d);
        if constexpr (std::is_same_v<D, TableDelta>) run_nat(step, d);
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

void NetlinkKernel::run_namespace(const Step& s, const NamespaceDelta& d) {
  if (s.action == Action::remove) return remove_namespace(s);
  // Its socket is opened while the thread is in it for the making: no second visit.
  Namespace made;
  made.fd = maker_.create(s.netns, [&] { made.sock = nl::route_socket_here("namespace " + s.netns); });
  open_.insert_or_assign(s.netns, std::move(made));
  try {
    Batch lo;  // the kernel gives lo index 1 in every namespace (LOOPBACK_IFINDEX)
    lo.add(change_request(1, mark_, 0, true), "marking lo in", "namespace " + s.netns);
    send(s.netns, lo);
    for (const Step& c : s.contents) run(c);  // undoing a removal: make it all again
    // ... with the sysctls it had, last: those of its interfaces need the interfaces.
    for (const auto& [key, value] : d.after->sysctls) run_sysctl(s, SysctlDelta{{std::nullopt, value}, key});
  } catch (...) {
    Step undo = s;
    undo.action = Action::remove;
    remove_namespace(undo);  // takes what was made in it along
    throw;
  }
}

// The kernel deletes the namespace's links in one batch when the last reference goes; the
// links elsewhere that die with them (veth peers, macvlans) are noted, so that nothing is
// made under their names before they are gone. A macvlan in it whose parent is elsewhere
// is deleted first, and synchronously: until the background reaping reaches it, it holds
// its MAC address on the parent's port, and a macvlan made on that parent with that MAC (the
// same one made again by a rollback, or in a renamed namespace) would be refused with
// EADDRINUSE (and a passthru one keeps the parent to itself). Files are not the kernel's:
// removed here.
void NetlinkKernel::remove_namespace(const Step& s) {
  for (const Step& c : s.contents) {
    if (std::holds_alternative<FileDelta>(c.subject)) run_file(c, std::get<FileDelta>(c.subject));
    const auto* l = std::get_if<LinkDelta>(&c.subject);
    if (!l || !l->before) continue;
    const MacvlanState* m = l->before->macvlan();
    if (c.netns == s.netns && m && m->parent_netns != s.netns)
      run_link(c, *l);  // c removes it: an RTM_DELLINK, acknowledged once it is unregistered
    if (c.netns != s.netns) vanishing_.emplace_back(c.netns, l->before->name), forget(c.netns, l->before->name);
    const VethState* v = l->before->veth();
    if (c.peer && v && v->peer_netns != s.netns) {
      vanishing_.emplace_back(v->peer_netns, v->peer_name);
      forget(v->peer_netns, v->peer_name);
    }
  }
  forget_namespace(s.netns);
  open_.erase(s.netns);  // close topo's socket first: nothing of topo's may hold it
  // Unmounted already, with the batch of its far ends: letting go of it is all that is left.
  if (detached_.erase(s.netns) == 0) delete_named_netns(s.netns);
  ::rmdir(("/etc/netns/" + s.netns).c_str());  // only when topo's files were its only ones
}

// The links go in one RTM_DELLINK for an interface group: the kernel unregisters them (and
// their veth peers) as one batch, paying its synchronisation once rather than once a link.
// The group is a scratch one that no other link of the namespace is in, so nothing else
// goes; should a step fail, the links get their own groups back.
void NetlinkKernel::run_batch(const Step& s, const LinkBatchDelta& d) {
  if (s.action == Action::create) {  // undoing: each link made again, in its namespace again
    for (const std::string& far : far_namespaces(s)) {
      auto held = detached_.find(far);
      if (held == detached_.end()) continue;
      reattach_named_netns(far, held->second);
      detached_.erase(held);
    }
    for (const Step& c : s.contents) run(c);
    return;
  }
  const std::string in = "namespace " + s.netns;
  std::set<std::string> names(d.before->begin(), d.before->end());
  for (const std::string& name : names) forget(s.netns, name);
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
  bool grouped = !taken.count(group_) &&
                 std::all_of(moving.begin(), moving.end(), [&](const auto& m) { return m.second == group_; });
  if (grouped) return delete_group(s, group_, moving.size());
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
      return delete_group(s, scratch, moving.size());
    } catch (const KernelError&) {
      regroup([](uint32_t group) { return group; });  // whole or nothing: their groups back
      throw;
    }
  }
  regroup([](uint32_t group) { return group; });
  const std::string& name = moving[static_cast<size_t>(failed - acks.begin())].first;
  throw KernelError("grouping for deletion", "interface " + where(s.netns, name), failed->reason(), -failed->error);
}

// The namespaces at the far ends of a batch that live under /run/netns (see ns()).
std::vector<std::string> NetlinkKernel::far_namespaces(const Step& s) const {
  std::vector<std::string> out;
  for (const std::string& n : s.far_namespaces()) {
    auto p = paths_.find(n);
    if (p == paths_.end() || p->second.empty()) out.push_back(n);
  }
  return out;
}

// One RTM_DELLINK for every link of interface group `group` in the step's namespace. The
// kernel spends about a second on it at 1000 veths, holding its rtnl lock; meanwhile, on
// another thread, the namespaces at the far ends are unmounted (which needs no rtnl), so
// that their own steps have only to let go of them. topo holds them open until then: their
// links stay for the group delete to take, and should it fail they are mounted again.
void NetlinkKernel::delete_group(const Step& s, uint32_t group, size_t count) {
  nl::Msg del = link_request(0, 0, 0, RTM_DELLINK);
  must_fit(nla_put_u32(del.get(), IFLA_GROUP, group));
  std::vector<nl::Msg> one;
  one.push_back(std::move(del));

  // Not one with files in /etc/netns: killed after this step, topo would leave them behind
  // with no namespace to find them by; such a namespace goes in its own step, files first.
  std::vector<std::pair<std::string, Fd>> far;
  for (const std::string& name : far_namespaces(s)) {
    struct stat files {};
    if (detached_.count(name) || ::lstat(("/etc/netns/" + name).c_str(), &files) == 0) continue;
    if (Fd fd = open_netns(named_netns_path(name))) far.emplace_back(name, std::move(fd));
  }
  size_t unmounted = 0;
  std::optional<KernelError> unmount_error;
  std::thread unmount([&] {
    try {
      for (; unmounted < far.size(); ++unmounted) delete_named_netns(far[unmounted].first);
    } catch (const KernelError& e) {
      unmount_error = e;
    }
  });
  auto put_back = [&] {
    for (size_t i = 0; i < unmounted; ++i) reattach_named_netns(far[i].first, far[i].second);
  };
  nl::Ack gone;
  try {
    gone = nl::send_all(sock(s.netns), one, "namespace " + s.netns).front();
  } catch (...) {
    unmount.join();
    put_back();
    throw;
  }
  unmount.join();
  if (gone.error != 0 || unmount_error) put_back();
  if (gone.error != 0)
    throw KernelError("deleting", fmt::format("{} interfaces in {}", count, s.netns), gone.reason(), -gone.error);
  if (unmount_error) throw *unmount_error;
  for (auto& [name, fd] : far) detached_.emplace(name, std::move(fd));
}

// All in one batch; whole or nothing: should the kernel refuse one, those it took are put
// back as they were.
void NetlinkKernel::run_up(const Step& s, const LinkUpDelta& d) {
  const bool up = d.after.has_value();
  const std::vector<std::string>& names = up ? *d.after : *d.before;
  auto requests = [&](bool to) {
    Batch b;
    for (const std::string& name : names)
      b.add(up_request(ifindex(s.netns, name), to), to ? "bringing up" : "bringing down",
            "interface " + where(s.netns, name));
    return b;
  };
  Batch b = requests(up);
  std::vector<nl::Ack> acks = nl::send_all(sock(s.netns), b.msgs, "namespace " + s.netns);
  auto failed = std::find_if(acks.begin(), acks.end(), [](const nl::Ack& a) { return a.error != 0; });
  if (failed == acks.end()) return;
  Batch back = requests(!up);
  nl::send_all(sock(s.netns), back.msgs, "namespace " + s.netns);
  size_t i = static_cast<size_t>(failed - acks.begin());
  throw KernelError(b.what[i].first, b.what[i].second, failed->reason(), -failed->error);
}

void NetlinkKernel::run_link(const Step& s, const LinkDelta& d) {
  if (s.action == Action::modify) return modify_link(s.netns, *d.before, *d.after);
  if (s.action == Action::remove) {
    forget(s.netns, d.before->name);
    if (const VethState* v = d.before->veth()) forget(v->peer_netns, v->peer_name);
    nl::Link link(rtnl_link_alloc());
    rtnl_link_set_name(link.get(), d.before->name.c_str());
    nl_msg* raw = nullptr;
    check(rtnl_link_build_delete_request(link.get(), &raw), "building", "interface deletion");
    std::vector<nl::Msg> del;
    del.emplace_back(raw);
    nl::Ack gone = nl::send_all(sock(s.netns), del, "namespace " + s.netns).front();
    // Already gone is done: the kernel may be reaping it with a namespace deleted just before
    // (by a run that was killed, say) — it was seen, and it is going.
    if (gone.error == 0 || gone.error == -ENODEV) return;
    throw KernelError("deleting", "interface " + where(s.netns, d.before->name), gone.reason(), -gone.error);
  }
  const LinkState* peer = s.peer && s.peer->after ? &*s.peer->after : nullptr;
  create_link(s.netns, *d.after, peer);
}

void NetlinkKernel::create_link(const std::string& netns, const LinkState& l, const LinkState* peer) {
  const std::string object = "interface " + where(netns, l.name);
  nl::Link link;
  std::string made_in = netns;  // where the request goes
  const VethState* veth = l.veth();
  if (veth) {
    link.reset(rtnl_link_veth_alloc());
    nl::Link other(rtnl_link_veth_get_peer(link.get()));
    rtnl_link_set_name(other.get(), veth->peer_name.c_str());
    // One queue each way, from birth: a veth born with one per CPU is cut down to one at
    // once, and each end's cut waits for an expedited RCU grace period (veth_init_queues),
    // the largest cost of making a veth on a busy machine.
    for (rtnl_link* end : {link.get(), other.get()}) {
      rtnl_link_set_num_tx_queues(end, 1);
      rtnl_link_set_num_rx_queues(end, 1);
    }
    if (peer) set_basics(other.get(), *peer);
    if (veth->peer_netns != netns) rtnl_link_set_ns_fd(other.get(), ns(veth->peer_netns).fd.get());
  } else if (const VxlanState* v = l.vxlan()) {
    link.reset(rtnl_link_vxlan_alloc());
    rtnl_link_vxlan_set_id(link.get(), static_cast<uint32_t>(v->id));
    if (v->local) rtnl_link_vxlan_set_local(link.get(), nl_ip(*v->local).get());
    if (v->remote) rtnl_link_vxlan_set_group(link.get(), nl_ip(*v->remote).get());
    if (v->group) rtnl_link_vxlan_set_group(link.get(), nl_ip(*v->group).get());
    // Made where its socket is to be and born in its own namespace (IFLA_NET_NS_FD): the
    // socket stays in the namespace the request was made in.
    made_in = v->socket_netns(netns);
    if (!v->dev.empty()) rtnl_link_vxlan_set_link(link.get(), static_cast<uint32_t>(ifindex(made_in, v->dev)));
    rtnl_link_vxlan_set_port(link.get(), static_cast<uint32_t>(v->port));
    if (made_in != netns) rtnl_link_set_ns_fd(link.get(), ns(netns).fd.get());
  } else if (const MacvlanState* m = l.macvlan()) {
    // Made next to its parent and born in its own namespace (IFLA_NET_NS_FD).
    link.reset(rtnl_link_macvlan_alloc());
    rtnl_link_macvlan_set_mode(link.get(), static_cast<uint32_t>(rtnl_link_macvlan_str2mode(m->mode.c_str())));
    made_in = m->parent_netns;
    rtnl_link_set_link(link.get(), ifindex(made_in, m->parent));
    if (made_in != netns) rtnl_link_set_ns_fd(link.get(), ns(netns).fd.get());
  } else {
    link.reset(rtnl_link_alloc());
    check(rtnl_link_set_type(link.get(), std::string(l.kind_name()).c_str()), "creating", object);
  }
  if (!link) throw std::bad_alloc();
  set_basics(link.get(), l);
  // Born in its group, up, and on its bridge (the kernel brings it up first), where it is
  // born where it lives: a request fewer each, and no window where it is made but down.
  if (l.group) rtnl_link_set_group(link.get(), l.group);
  bool born_settled = made_in == netns;
  if (born_settled && l.up && l.link_local) rtnl_link_set_flags(link.get(), IFF_UP);
  if (born_settled && !l.master.empty()) rtnl_link_set_master(link.get(), ifindex(netns, l.master));
  nl_msg* raw = nullptr;
  check(rtnl_link_build_add_request(link.get(), NLM_F_CREATE | NLM_F_EXCL, &raw), "building", object);
  Batch make;
  make.add(nl::Msg(raw), "creating", object);
  // NLM_F_ECHO: the kernel answers with the new link, index and (a veth's) peer's index, so
  // that nothing needs looking up before its mark and addresses go on.
  nlmsg_hdr(raw)->nlmsg_flags |= NLM_F_ECHO;
  int index = 0, peer_index = 0;
  send(made_in, make, [&](const nlmsghdr* h) {
    auto [i, link_index] = announced(h, l.name);
    if (i) index = i, peer_index = link_index;
  });
  // Made, and not yet marked: from here on a failure deletes it again. Each end's requests
  // go after the creation's ACK, never in its batch: the kernel would run them even if the
  // creation failed, on whatever else has that name.
  try {
    if (index && born_settled) ifindexes_[{netns, l.name}] = index;
    if (peer && peer_index) ifindexes_[{veth->peer_netns, veth->peer_name}] = peer_index;
    settle(netns, l, born_settled);
    if (peer) settle(veth->peer_netns, *peer, false);
    if (l.qdisc) set_qdisc(netns, l.name, l.qdisc);
    if (peer && peer->qdisc) set_qdisc(veth->peer_netns, peer->name, peer->qdisc);
    set_remotes(netns, l.name, {}, l.remotes());
  } catch (...) {
    // Whole or nothing: what this step made goes (a veth's peer with it).
    forget(netns, l.name);
    if (peer) forget(veth->peer_netns, veth->peer_name);
    nl::Link gone(rtnl_link_alloc());
    rtnl_link_set_name(gone.get(), l.name.c_str());
    rtnl_link_delete(sock(netns), gone.get());
    throw;
  }
}

// After creation, in one batch: no link-local address if so; the mark; up (before joining
// a bridge, which then has nothing to wait for), group and bridge unless it was born so;
// the addresses.
void NetlinkKernel::settle(const std::string& netns, const LinkState& l, bool born_settled) {
  const std::string object = "interface " + where(netns, l.name);
  int index = ifindex(netns, l.name);
  Batch b;
  // A bridge born one byte below an mtu of 1280 has no IPv6 until it gets its mtu.
  bool mtu_first = !l.link_local && mtu_after_birth(l);
  if (mtu_first) b.add(change_request(index, "", 0, false, static_cast<uint32_t>(l.mtu)), "setting the mtu of", object);
  if (!l.link_local) b.add(no_link_local_request(index), "turning off the link-local address of", object);
  bool up_now = l.up && (!born_settled || !l.link_local);
  b.add(change_request(index, l.alias.empty() ? mark_ : l.alias, born_settled ? 0 : l.group, up_now,
                       mtu_after_birth(l) && !mtu_first ? static_cast<uint32_t>(l.mtu) : 0),
        "marking and bringing up", object);
  if (!born_settled && !l.master.empty())
    b.add(master_request(index, ifindex(netns, l.master)), "attaching to bridge " + l.master, object);
  for (const IpPrefix& a : l.addresses)
    b.add(address_request(index, a, true), "adding", fmt::format("address {} on {}", a, where(netns, l.name)));
  send(netns, b);
}

void NetlinkKernel::set_master(const std::string& netns, const std::string& dev, const std::string& master) {
  Batch b;
  b.add(master_request(ifindex(netns, dev), master.empty() ? 0 : ifindex(netns, master)),
        master.empty() ? "releasing from its bridge" : "attaching to bridge " + master,
        "interface " + where(netns, dev));
  send(netns, b);
}

void NetlinkKernel::address(const std::string& netns, const std::string& dev, const IpPrefix& a, bool add) {
  Batch b;
  b.add(address_request(ifindex(netns, dev), a, add), add ? "adding" : "removing",
        fmt::format("address {} on {}", a, where(netns, dev)));
  send(netns, b);
}

// The link's root qdisc made `q`, in place, or the kernel's default again. A kernel without
// that kind says so in its own words; the message adds the option it was built without.
void NetlinkKernel::set_qdisc(const std::string& netns, const std::string& dev, const std::optional<Qdisc>& q) {
  std::vector<std::byte> request = qdisc_request(ifindex(netns, dev), q);
  nl::Msg msg(nlmsg_convert(reinterpret_cast<nlmsghdr*>(request.data())));
  if (!msg) throw std::bad_alloc();
  Batch b;
  b.add(std::move(msg), q ? "setting" : "deleting",
        fmt::format("{} qdisc of interface {}", q ? qdisc_kind(*q) : "the root", where(netns, dev)));
  try {
    send(netns, b);
  } catch (const KernelError& e) {
    if (!q || e.error() != ENOENT) throw;
    std::string kind = qdisc_kind(*q);
    throw KernelError(e.step(), e.object(),
                      fmt::format("{}; this kernel has no {} qdisc: it is built without {}", e.reason(), kind,
                                  qdisc_config_option(kind)),
                      e.error());
  }
}

// The qdisc first, and put back if the rest fails: the step is whole or nothing.
void NetlinkKernel::modify_link(const std::string& netns, const LinkState& b, const LinkState& a) {
  bool reshaped = a.qdisc != b.qdisc;
  if (reshaped) set_qdisc(netns, a.name, a.qdisc);
  bool reflooded = false;
  try {
    reflooded = set_remotes(netns, a.name, b.remotes(), a.remotes());
    modify_link_itself(netns, b, a);
  } catch (const KernelError&) {
    try {  // the check after the rollback finds what is left
      if (reflooded) set_remotes(netns, a.name, a.remotes(), b.remotes());
      if (reshaped) set_qdisc(netns, a.name, b.qdisc);
    } catch (const KernelError&) {
    }
    throw;
  }
}

// A VXLAN's flooding list from `before` to `after` on the live link, in one batch: the new
// entries, then the old ones deleted. Whether there was anything to do.
bool NetlinkKernel::set_remotes(const std::string& netns, const std::string& dev, const std::vector<IpAddress>& before,
                                const std::vector<IpAddress>& after) {
  Batch b;
  auto entry = [&](const IpAddress& r, bool add) {
    std::vector<std::byte> request = fdb_request(ifindex(netns, dev), r, add);
    nl::Msg msg(nlmsg_convert(reinterpret_cast<nlmsghdr*>(request.data())));
    if (!msg) throw std::bad_alloc();
    b.add(std::move(msg), add ? "adding" : "deleting",
          fmt::format("the flooding entry to {} of vxlan {}", r, where(netns, dev)));
  };
  for (const IpAddress& r : after)
    if (std::find(before.begin(), before.end(), r) == before.end()) entry(r, true);
  for (const IpAddress& r : before)
    if (std::find(after.begin(), after.end(), r) == after.end()) entry(r, false);
  if (b.msgs.empty()) return false;
  send(netns, b);
  return true;
}

void NetlinkKernel::modify_link_itself(const std::string& netns, const LinkState& b, const LinkState& a) {
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
  if (any) {
    nl_msg* raw = nullptr;
    check(rtnl_link_build_change_request(orig.get(), change.get(), 0, &raw), "building", object);
    Batch changing;
    changing.add(nl::Msg(raw), "changing", object);
    send(netns, changing);
  }
  AddressChange addresses = address_change(b, a);  // its order, and why, in state.h
  for (const IpPrefix& p : addresses.first) address(netns, a.name, p, false);
  for (const IpPrefix& p : addresses.added) address(netns, a.name, p, true);
  {
    std::optional<PromotedSecondaries> promoted;
    if (addresses.promote) promoted.emplace(ns(netns).fd, a.name);
    for (const IpPrefix& p : addresses.then) address(netns, a.name, p, false);
  }
  for (const IpPrefix& p : addresses.again) address(netns, a.name, p, true);
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
                                    : r.has_gateway()          ? RT_SCOPE_UNIVERSE
                                                               : RT_SCOPE_LINK);
  // One path, or several: libnl writes RTA_MULTIPATH for more than one next hop.
  auto add_hop = [&](const std::optional<IpAddress>& via, const std::string& dev, int weight) {
    rtnl_nexthop* nh = rtnl_route_nh_alloc();
    if (!dev.empty()) rtnl_route_nh_set_ifindex(nh, ifindex(s.netns, dev));
    if (via) rtnl_route_nh_set_gateway(nh, nl_ip(*via).get());
    rtnl_route_nh_set_weight(nh, static_cast<uint8_t>(weight - 1));
    rtnl_route_add_nexthop(route.get(), nh);  // the route owns it from here
  };
  if (r.multipath.empty()) add_hop(r.via, r.dev, 1);
  for (const NextHop& h : r.multipath) add_hop(h.via, h.dev, h.weight);
  std::string object = "route " + describe(r).substr(6) + " in " + s.netns;
  // libnl builds the request; send_all reads the answer, so that a refusal carries the
  // kernel's own words (errno and extended ack), not libnl's paraphrase.
  nl_msg* raw = nullptr;
  check(s.action == Action::remove
            ? rtnl_route_build_del_request(route.get(), 0, &raw)
            : rtnl_route_build_add_request(route.get(), s.action == Action::modify ? NLM_F_REPLACE : NLM_F_EXCL, &raw),
        "building", object);
  Batch b;
  b.add(nl::Msg(raw),
        s.action == Action::remove   ? "deleting"
        : s.action == Action::modify ? "replacing"
                                     : "adding",
        object);
  send(s.netns, b);
}

namespace {

// The conf directory a key propagates to ("net/ipv4/conf"), or "" when it does not.
// conf.default.forwarding is not copied to the interfaces there, but those made while it
// is set take its value: its first setting notes what there was, so that putting it back
// knows which interfaces came since.
std::string propagates_to(const std::string& key) {
  if (key == "net.ipv4.ip_forward" || key == "net.ipv4.conf.all.forwarding" ||
      key == "net.ipv4.conf.default.forwarding")
    return "net/ipv4/conf";
  if (key == "net.ipv6.conf.all.forwarding" || key == "net.ipv6.conf.default.forwarding") return "net/ipv6/conf";
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
    if (n > 0)
      out[key_prefix(dir) + dev + ".forwarding"] = std::string(buf, static_cast<size_t>(n) - (buf[n - 1] == '\n'));
  }
  return out;
}

namespace {

// "net.ipv4.ip_forward" -> "/proc/sys/net/ipv4/ip_forward".
std::string sysctl_path(const std::string& key) {
  std::string path = "/proc/sys/" + key;
  std::replace(path.begin() + 10, path.end(), '.', '/');
  return path;
}

}  // namespace

std::optional<std::string> NetlinkKernel::read_sysctl(const std::string& netns, const std::string& key) {
  try {
    InNetns inside(ns(netns).fd);
    Fd fd(::open(sysctl_path(key).c_str(), O_RDONLY | O_CLOEXEC));
    std::string out;
    char buf[512];
    for (ssize_t n; fd && (n = ::read(fd.get(), buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
    if (!fd || out.empty()) return std::nullopt;
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  } catch (const KernelError&) {
    return std::nullopt;  // the step itself will say why
  }
}

void NetlinkKernel::run_sysctl(const Step& s, const SysctlDelta& d) {
  if (!d.after) return;  // undoing a value that could not be read: nothing to put back
  std::string path = sysctl_path(d.key);
  InNetns inside(ns(s.netns).fd);  // /proc/sys/net is the namespace of the thread that opens it
  Fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  std::string object = "sysctl " + d.key + " in " + s.netns;
  if (!fd) throw KernelError("setting", object, std::strerror(errno), errno);
  std::string value = *d.after + "\n";
  if (::write(fd.get(), value.data(), value.size()) < 0)
    throw KernelError("setting", object, std::strerror(errno), errno);
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
  // Writing conf.all (ip_forward) resets every interface itself; conf.default does not, and
  // an interface made since it was set forwards by inheritance: it gets the original too.
  if (d.key.find(".default.") == std::string::npos) return;
  std::unique_ptr<DIR, int (*)(DIR*)> conf(::opendir(("/proc/sys/" + dir).c_str()), ::closedir);
  while (dirent* e = conf ? ::readdir(conf.get()) : nullptr) {
    std::string dev = e->d_name;
    if (dev == "." || dev == ".." || dev == "all" || dev == "default" ||
        overwritten_->count({netns, prefix + dev + ".forwarding"}))
      continue;
    Fd fd(::open(("/proc/sys/" + dir + "/" + dev + "/forwarding").c_str(), O_WRONLY | O_CLOEXEC));
    std::string text = *d.after + "\n";
    if (fd && ::write(fd.get(), text.data(), text.size()) < 0)
      throw KernelError("putting back", prefix + dev + ".forwarding in " + netns, std::strerror(errno), errno);
  }
}

// The table goes from before to after in one batch (delete, then make again with its
// chains and rules), which the kernel commits whole or not at all: a refused rule leaves the
// old table in force. A socket of its own per batch, so that no earlier answer is read as
// this batch's; removing a namespace's table with the namespace needs no batch (the kernel
// deletes it with the namespace; see remove_namespace).
void NetlinkKernel::run_nat(const Step& s, const TableDelta& d) {
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
