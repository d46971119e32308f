#include "lower/routing.h"

#include <fmt/format.h>

#include <algorithm>
#include <deque>
#include <map>
#include <numeric>
#include <set>

namespace topo {
namespace {

constexpr size_t kFar = SIZE_MAX;

// Layer-2 segments: veth ends joined to their peers, ports to their bridges.
class Segments {
 public:
  explicit Segments(const Lab& lab) : parent_(lab.interfaces.size()) {
    std::iota(parent_.begin(), parent_.end(), size_t{0});
    // Machine too: each machine of a network across machines has a bridge of its name in host.
    std::map<std::tuple<std::string, std::string, std::string>, size_t> by_name;
    for (size_t i = 0; i < lab.interfaces.size(); ++i)
      by_name[{lab.interfaces[i].machine, lab.interfaces[i].netns.value, lab.interfaces[i].name.value}] = i;
    for (size_t i = 0; i < lab.interfaces.size(); ++i) {
      const Interface& x = lab.interfaces[i];
      if (const auto* v = std::get_if<VethEnd>(&x.spec)) join(i, v->peer);
      if (const auto* v = std::get_if<Vxlan>(&x.spec); v && v->peer) join(i, *v->peer);
      if (!x.master) continue;
      if (auto m = by_name.find({x.machine, x.netns.value, x.master->value}); m != by_name.end()) join(i, m->second);
    }
  }

  size_t of(size_t i) { return parent_[i] == i ? i : parent_[i] = of(parent_[i]); }

 private:
  void join(size_t a, size_t b) { parent_[of(a)] = of(b); }
  std::vector<size_t> parent_;
};

// A namespace's address on a subnet of a segment.
struct OnSubnet {
  size_t node = 0;
  IpAddress address;
};

// A neighbour over one subnet of one family: where to send, and to whom.
struct Edge {
  size_t to = 0;
  IpAddress via;
};

class Router {
 public:
  Router(Lab& lab, Diagnostics& d) : lab_(lab), d_(d) {}

  void run() {
    find_nodes();
    find_edges();
    // At most a route per namespace and subnet: said before any is made.
    if (names_.size() * subnets_.size() > kMaxComputedRoutes) {
      d_.error(lab_.routing.pos,
               fmt::format("routing = \"static\" would compute up to {} routes ({} routing namespaces, {} subnets); "
                           "topo computes at most {}",
                           names_.size() * subnets_.size(), names_.size(), subnets_.size(), kMaxComputedRoutes),
               8);
      return;
    }
    for (const auto& [subnet, on] : subnets_) route_to(subnet, on);
    // Grouped by namespace, in the lab's order, as `topo expand` writes them.
    std::stable_sort(computed_.begin(), computed_.end(),
                     [&](const Route& a, const Route& b) { return index_[a.netns.value] < index_[b.netns.value]; });
    for (Route& r : computed_) lab_.routes.push_back(std::move(r));
    for (Family f : {Family::v4, Family::v6})
      for (size_t n : forwarders_[static_cast<int>(f)]) turn_on_forwarding(names_[n], f);
  }

 private:
  // Routing namespaces, in the lab's order (host first), each with its segments.
  void find_nodes() {
    std::map<std::string, bool> member_only;  // namespace -> all its addresses are memberships'
    for (const Interface& i : lab_.interfaces) {
      if (i.addresses.empty()) continue;
      bool inside = i.origin && i.origin->role == Origin::Role::inside;
      auto [it, fresh] = member_only.emplace(i.netns.value, inside);
      if (!fresh) it->second = it->second && inside;
    }
    for (const std::string& ns : lab_.namespace_names())
      if (auto m = member_only.find(ns); m != member_only.end() && !m->second) {
        index_[ns] = names_.size();
        names_.push_back(ns);
      }
    segments_of_.resize(names_.size());
  }

  // Neighbours: two routing namespaces with addresses on one subnet of one segment.
  void find_edges() {
    Segments segments(lab_);
    std::map<std::pair<size_t, IpPrefix>, std::vector<OnSubnet>> on;  // (segment, subnet) -> who
    for (size_t i = 0; i < lab_.interfaces.size(); ++i) {
      const Interface& x = lab_.interfaces[i];
      auto node = index_.find(x.netns.value);
      if (node == index_.end()) continue;
      size_t seg = segments.of(i);
      for (const auto& a : x.addresses) {
        IpPrefix subnet{a.value.network(), a.value.length};
        on[{seg, subnet}].push_back({node->second, a.value.address});
        subnets_[subnet].insert(node->second);
        segments_of_[node->second].insert(seg);
      }
    }
    edges_.resize(names_.size());
    for (const auto& [key, attached] : on)
      for (const OnSubnet& from : attached)
        for (const OnSubnet& to : attached)
          if (from.node != to.node) edges_[from.node].push_back({to.node, to.address});
    for (auto& e : edges_)
      std::sort(e.begin(), e.end(),
                [](const Edge& a, const Edge& b) { return std::tie(a.to, a.via) < std::tie(b.to, b.via); });
  }

  // Whether namespace `n` may carry others' packets of family `f`: it joins two segments or
  // more, and the file leaves its forwarding on or to topo.
  bool transit(size_t n, Family f) const {
    if (segments_of_[n].size() < 2) return false;
    const std::vector<Sysctl>* list = lab_.sysctls_of(names_[n]);
    if (!list) return false;  // not a namespace of the lab: the validator says so
    for (const Sysctl& s : *list)
      if (s.key.value == forwarding_key(f) || s.key.value == all_forwarding_key(f)) return s.value.value != "0";
    return true;
  }

  static std::string forwarding_key(Family f) {
    return f == Family::v4 ? "net.ipv4.ip_forward" : "net.ipv6.conf.all.forwarding";
  }
  static std::string all_forwarding_key(Family f) {
    return f == Family::v4 ? "net.ipv4.conf.all.forwarding" : "net.ipv6.conf.all.forwarding";
  }

  // Breadth first from the namespaces on `subnet`, through those that forward; then each
  // namespace further away takes every neighbour one hop nearer as a next hop.
  void route_to(const IpPrefix& subnet, const std::set<size_t>& on) {
    Family f = subnet.address.family;
    std::vector<size_t> dist(names_.size(), kFar);
    std::deque<size_t> queue;
    for (size_t n : on) {
      dist[n] = 0;
      queue.push_back(n);
    }
    while (!queue.empty()) {
      size_t u = queue.front();
      queue.pop_front();
      if (!transit(u, f)) continue;
      for (const Edge& e : edges_[u])
        if (e.via.family == f && dist[e.to] == kFar) {
          dist[e.to] = dist[u] + 1;
          queue.push_back(e.to);
        }
    }
    for (size_t n = 0; n < names_.size(); ++n) {
      if (dist[n] == 0 || dist[n] == kFar || written(names_[n], subnet)) continue;
      std::vector<IpAddress> hops;
      for (const Edge& e : edges_[n])
        if (e.via.family == f && dist[e.to] != kFar && dist[e.to] + 1 == dist[n] && transit(e.to, f)) {
          hops.push_back(e.via);
          forwarders_[static_cast<int>(f)].insert(e.to);
        }
      add_route(names_[n], subnet, hops);
    }
  }

  bool written(const std::string& ns, const IpPrefix& to) {
    if (written_.empty())
      for (const Route& r : lab_.routes) written_.insert({r.netns.value, r.to.value});
    return written_.count({ns, to}) > 0;
  }

  void add_route(const std::string& ns, const IpPrefix& to, std::vector<IpAddress> hops) {
    std::sort(hops.begin(), hops.end());
    hops.erase(std::unique(hops.begin(), hops.end()), hops.end());
    Route r;
    r.netns = {ns, lab_.routing.pos};
    r.to = {to, lab_.routing.pos};
    r.pos = lab_.routing.pos;
    r.computed = true;
    if (hops.size() == 1) r.via = Located<IpAddress>{hops[0], lab_.routing.pos};
    if (hops.size() > 1)
      for (const IpAddress& h : hops) r.multipath.push_back({h, lab_.routing.pos});
    computed_.push_back(std::move(r));
  }

  void turn_on_forwarding(const std::string& ns, Family f) {
    std::vector<Sysctl>* list = lab_.sysctls_of(ns);
    std::string key = forwarding_key(f);
    if (list && std::none_of(list->begin(), list->end(), [&](const Sysctl& s) { return s.key.value == key; }))
      list->push_back({{key, lab_.routing.pos}, {"1", lab_.routing.pos}, {}});
  }

  Lab& lab_;
  Diagnostics& d_;
  std::vector<std::string> names_;                // routing namespaces
  std::map<std::string, size_t> index_;           // name -> node
  std::vector<std::set<size_t>> segments_of_;     // node -> its segments
  std::vector<std::vector<Edge>> edges_;          // node -> neighbours, sorted
  std::map<IpPrefix, std::set<size_t>> subnets_;  // every lab subnet -> the nodes on it
  std::set<size_t> forwarders_[2];                // per family: the nodes some route goes through
  std::vector<Route> computed_;
  std::set<std::pair<std::string, IpPrefix>> written_;  // (namespace, to) of the file's routes
};

}  // namespace

void add_static_routes(Lab& lab, Diagnostics& diags) {
  if (lab.routing.value == Routing::static_) Router(lab, diags).run();
}

}  // namespace topo
