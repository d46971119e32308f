#include "executor/read_state.h"

#include <fcntl.h>
#include <netlink/route/addr.h>
#include <netlink/route/route.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <exception>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "executor/decode_state.h"
#include "executor/etc_netns.h"
#include "executor/kernel_error.h"
#include "executor/netlink.h"
#include "executor/netns.h"
#include "executor/nft.h"

namespace topo {
namespace {

struct Reading {
  std::string name;
  Fd fd;
  nl::Socket sock;
  nft::Socket nft;  // null when this kernel has no nfnetlink (and so no table)
  NamespaceState state;
  RawNamespace raw;                       // its dumps, decoded (executor/decode_state.h)
  std::map<int, std::string> nsid_names;  // this namespace's ids for the others
};

// Links and addresses as their dumps give them (nl::each_object), not through libnl's
// caches, which duplicate what an interrupted dump held.
void read_links(Reading& ns) {
  nl::each_object(nl_socket_get_fd(ns.sock.get()), RTM_GETLINK, "the links of namespace " + ns.name, [&](nl_object* o) {
    if (std::strcmp(nl_object_get_type(o), "route/link") == 0) ns.raw.add_link(reinterpret_cast<rtnl_link*>(o));
  });
  ns.state.mark = ns.raw.mark;
}

void read_addresses(Reading& ns) {
  nl::each_object(nl_socket_get_fd(ns.sock.get()), RTM_GETADDR, "the addresses of namespace " + ns.name,
                  [&](nl_object* o) {
                    if (std::strcmp(nl_object_get_type(o), "route/addr") == 0)
                      ns.raw.add_address(reinterpret_cast<rtnl_addr*>(o));
                  });
  ns.raw.order_addresses();
}

// The root qdiscs of its links: where `shape` is, and where someone put one by hand.
void read_qdiscs(Reading& ns) {
  nl::each_qdisc(nl_socket_get_fd(ns.sock.get()), "namespace " + ns.name,
                 [&](std::span<const std::byte> message) { ns.raw.add_qdisc(message); });
}

void read_routes(Reading& ns) {
  nl::each_route(ns.sock.get(), "namespace " + ns.name, [&](rtnl_route* r) { ns.raw.add_route(r); });
  ns.raw.order_routes();
  ns.state.routes = std::move(ns.raw.routes);
}

std::optional<std::string> read_small_file(const std::string& path, int dir = AT_FDCWD) {
  // O_NOFOLLOW: a symlink planted where topo keeps its files is not followed.
  Fd fd(::openat(dir, path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return std::nullopt;
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd.get(), buf, sizeof buf)) > 0;) {
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > (1 << 20)) return std::nullopt;
  }
  return out;
}

void read_sysctls(Reading& ns, const NamespaceState* want,
                  const std::map<std::pair<std::string, std::string>, std::string>& also) {
  std::set<std::string> keys;
  if (want)
    for (const auto& [key, value] : want->sysctls) keys.insert(key);
  for (auto it = also.lower_bound({ns.name, ""}); it != also.end() && it->first.first == ns.name; ++it)
    keys.insert(it->first.second);
  if (keys.empty()) return;
  InNetns inside(ns.fd);  // /proc/sys/net shows the namespace of the thread that opens it
  for (const std::string& key : keys) {
    std::string path = "/proc/sys/" + key;
    std::replace(path.begin() + 10, path.end(), '.', '/');
    if (auto text = read_small_file(path)) {
      while (!text->empty() && text->back() == '\n') text->pop_back();
      ns.state.sysctls[key] = *text;
    }
  }
}

// The flooding lists of its VXLANs (`remotes`): one dump of the bridge forwarding entries,
// only where a VXLAN floods to no group or single remote (a bridge's dump lists every
// address it learnt).
void read_flood_lists(Reading& ns) {
  bool any = std::any_of(ns.raw.links.begin(), ns.raw.links.end(), [](const RawLink& l) {
    const VxlanState* v = l.state.vxlan();
    return v && !v->remote && !v->group;
  });
  if (!any) return;
  nl::each_fdb_entry(nl_socket_get_fd(ns.sock.get()), "namespace " + ns.name,
                     [&](std::span<const std::byte> message) { ns.raw.add_flood_entry(message); });
}

// The lab's NAT table, over a NETLINK_NETFILTER socket opened inside the namespace: one
// dump of the inet tables, and two more (chains, rules) only where the table is.
void read_nat(Reading& ns, const std::string& table) {
  if (ns.nft) ns.state.nat = nft::read_table(ns.nft.get(), table, "namespace " + ns.name);
}

void read_files(Reading& ns) {
  if (ns.name != "host") ns.state.files = read_netns_files(ns.name);
}

// Names for the ids this namespace gives the others it links to. Asking costs a request per
// namespace tried, so host (the usual other end) goes first and asking stops once all are known.
void resolve_nsids(Reading& ns, const std::vector<Reading*>& all) {
  std::set<int> wanted;
  for (const RawLink& l : ns.raw.links)
    if (l.link_nsid && *l.link_nsid >= 0) wanted.insert(*l.link_nsid);
  for (const Reading* other : all) {
    if (wanted.empty()) return;
    if (other == &ns) continue;
    int id = nl::nsid_of(ns.sock.get(), other->fd, "namespace " + other->name + " from " + ns.name);
    if (wanted.erase(id)) ns.nsid_names[id] = other->name;
  }
}

const Reading* find(const std::vector<Reading*>& all, const std::string& name) {
  for (const Reading* r : all)
    if (r->name == name) return r;
  return nullptr;
}

// Turns ifindexes and namespace ids into the names the planner compares: those of the
// namespace itself, then the other ends that are in another.
void name_references(Reading& ns, const std::vector<Reading*>& all) {
  ns.raw.name_local_references(ns.name);
  for (RawLink& l : ns.raw.links) {
    if (!l.link_nsid || (!l.state.veth() && !l.state.macvlan() && !l.state.vxlan())) continue;
    std::string other_ns(kUnknownNetns);  // a namespace topo did not read: never the lab's
    if (auto it = ns.nsid_names.find(*l.link_nsid); it != ns.nsid_names.end()) other_ns = it->second;
    const Reading* other = find(all, other_ns);
    // A VXLAN moved from where it was made keeps its socket and underlay device there.
    if (VxlanState* v = l.state.vxlan()) {
      v->underlay_netns = other_ns;
      v->dev = other && l.vxlan_dev_ifindex ? other->raw.name_of(l.vxlan_dev_ifindex) : "";
      continue;
    }
    set_other_end(l.state, other_ns, other ? other->raw.name_of(l.link_ifindex) : "");
  }
}

// Runs work(0..n-1) on as many threads as there are CPUs (each namespace's reading is a few
// netlink dumps on its own socket: most of the time is the kernel's, and it scales); the
// first exception is thrown again once all are done.
template <class Work>
void in_parallel(size_t n, Work&& work) {
  size_t threads = std::min<size_t>(std::max(1u, std::thread::hardware_concurrency()), n);
  std::atomic<size_t> next{0};
  std::exception_ptr failure;
  std::mutex failure_lock;
  auto worker = [&] {
    for (size_t i; (i = next++) < n;) {
      try {
        work(i);
      } catch (...) {
        std::lock_guard<std::mutex> hold(failure_lock);
        if (!failure) failure = std::current_exception();
      }
    }
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (std::thread& t : pool) t.join();
  if (failure) std::rethrow_exception(failure);
}

// The namespace's route and netfilter sockets, both opened in one visit to it.
void open_sockets(Reading& r) {
  InNetns inside(r.fd);
  r.sock = nl::route_socket_here("namespace " + r.name);
  try {
    r.nft = nft::socket_here("namespace " + r.name);
  } catch (const KernelError& e) {
    if (e.error() != EPROTONOSUPPORT) throw;  // no nfnetlink in this kernel: no table either
  }
}

// Opens the namespace and dumps its links; nullptr when it does not exist.
std::unique_ptr<Reading> open_reading(const std::string& name, const std::string& path) {
  auto r = std::make_unique<Reading>();
  r->name = name;
  // A name but no namespace: a killed run's file, or another run's namespace being made or
  // removed this very moment (the reader looks at every name in /run/netns).
  r->fd = path.empty() ? open_netns(path) : open_netns_if_mounted(path);
  if (!r->fd) return nullptr;
  open_sockets(*r);
  r->state.exists = true;
  read_links(*r);
  return r;
}

// A namespace to read: one the lab expects (path "" for host), or another named one that
// may carry the lab's mark.
struct Candidate {
  std::string name, path;
  bool expected;
};

// Each namespace the lab expects must be one namespace of its own. The namespace topo runs
// in is "host": adopted under another name (a --network host container's pid), it was read
// twice and its links made again at every apply. Nor can two entries be one namespace.
// Compared by the namespace file's device and inode, as `ip netns identify` does.
void refuse_aliases(const std::vector<Candidate>& candidates, const std::vector<std::unique_ptr<Reading>>& opened) {
  std::map<std::pair<dev_t, ino_t>, size_t> seen;
  for (size_t i = 0; i < candidates.size(); ++i) {
    if (!opened[i] || !candidates[i].expected) continue;
    struct stat st {};
    if (::fstat(opened[i]->fd.get(), &st) != 0)
      throw KernelError("reading", "namespace " + candidates[i].name, std::strerror(errno), errno);
    auto [first, fresh] = seen.emplace(std::pair{st.st_dev, st.st_ino}, i);
    if (fresh) continue;
    const Candidate& a = candidates[first->second];
    const Candidate& b = candidates[i];
    if (a.name == "host" || b.name == "host") {
      const Candidate& adopted = a.name == "host" ? b : a;
      throw KernelError("adopting", fmt::format("netns '{}' ({})", adopted.name, adopted.path),
                        "it is the namespace topo runs in: put its links in \"host\" instead of adopting it", EINVAL);
    }
    throw KernelError(
        "adopting", fmt::format("netns '{}' ({})", b.name, b.path),
        fmt::format("it is the same namespace as netns '{}' ({}): a namespace is adopted once", a.name, a.path),
        EINVAL);
  }
}

}  // namespace

std::vector<IpAddress> host_addresses() {
  nl::Socket sock = nl::route_socket_here("namespace host");
  std::vector<IpAddress> out;
  nl::each_object(nl_socket_get_fd(sock.get()), RTM_GETADDR, "the addresses of namespace host", [&](nl_object* o) {
    if (std::strcmp(nl_object_get_type(o), "route/addr") != 0) return;
    if (auto a = address_of(rtnl_addr_get_local(reinterpret_cast<rtnl_addr*>(o)))) out.push_back(*a);
  });
  return out;
}

State read_state(const State& expected, std::string_view lab,
                 const std::map<std::pair<std::string, std::string>, std::string>& also) {
  State out;
  // The namespaces to read: those the lab expects (host among them), and any other named
  // one that turns out to carry the lab's mark (what the file no longer has).
  std::vector<Candidate> candidates;
  for (const auto& [name, want] : expected.namespaces) {
    if (want.files_only) {  // the namespace itself is read under the file's name for it
      NamespaceState& old = out.namespaces[name];
      old.exists = true;
      old.files = read_netns_files(name);
      continue;
    }
    candidates.push_back({name, name == "host" ? "" : want.path, true});
  }
  if (!expected.find("host")) candidates.push_back({"host", "", true});
  for (const std::string& name : named_namespaces())
    if (!expected.find(name)) candidates.push_back({name, named_netns_path(name), false});
  std::vector<std::unique_ptr<Reading>> opened(candidates.size());
  in_parallel(candidates.size(), [&](size_t i) { opened[i] = open_reading(candidates[i].name, candidates[i].path); });
  refuse_aliases(candidates, opened);
  std::string mark = ownership_mark(lab);
  std::vector<std::unique_ptr<Reading>> readings;
  for (size_t i = 0; i < candidates.size(); ++i) {
    if (!opened[i] && candidates[i].expected) out.namespaces[candidates[i].name].exists = false;
    if (opened[i] && (candidates[i].expected || opened[i]->state.mark == mark))
      readings.push_back(std::move(opened[i]));
  }
  // Host first: the other end of most links, so nsid resolution usually stops at once.
  std::vector<Reading*> all;
  for (auto& r : readings) all.push_back(r.get());
  std::stable_partition(all.begin(), all.end(), [](const Reading* r) { return r->name == "host"; });
  in_parallel(all.size(), [&](size_t i) {
    Reading* r = all[i];
    read_addresses(*r);
    read_qdiscs(*r);
    read_flood_lists(*r);
    read_routes(*r);
    read_sysctls(*r, expected.find(r->name), also);
    read_files(*r);
    read_nat(*r, nat_table_name(lab));
    resolve_nsids(*r, all);
  });
  for (Reading* r : all) name_references(*r, all);
  for (Reading* r : all) {
    for (RawLink& l : r->raw.links) r->state.links.push_back(std::move(l.state));
    // By name, not by ifindex: a link made again (by a rollback) is the same link.
    std::sort(r->state.links.begin(), r->state.links.end(),
              [](const LinkState& a, const LinkState& b) { return a.name < b.name; });
    out.namespaces[r->name] = std::move(r->state);
  }
  return out;
}

}  // namespace topo
