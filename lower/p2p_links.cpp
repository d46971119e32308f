#include "lower/p2p_links.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "lower/link_names.h"
#include "lower/subnet_pool.h"
#include "parser/names.h"
#include "parser/suggest.h"

namespace topo {
namespace {

// The length of a link's subnet from a pool: two addresses, no more (RFC 3021, RFC 6164).
int link_length(Family f) { return f == Family::v4 ? 31 : 127; }

int prefix_width(const IpPrefix& p) { return static_cast<int>(to_string(p).size()) + 2; }

// One pool's cursor: the next /31 (or /127) block to offer, and how many it gave.
struct P2pPool {
  Located<IpPrefix> prefix;
  uint64_t next = 0, given = 0;
};

class LinkLowering {
 public:
  LinkLowering(Lab& lab, Diagnostics& d) : lab_(lab), d_(d) {}

  void run() {
    if (lab_.links.empty()) return;
    read_pools();
    note_used();
    for (size_t i = 0; i < lab_.links.size(); ++i) lower(lab_.links[i], i);
    lab_.links.clear();
  }

 private:
  void read_pools() {
    std::vector<Located<IpPrefix>> given = lab_.p2p_pools;
    if (given.empty())
      for (const char* p : kDefaultP2pPools) given.push_back({*parse_prefix(p), {}});
    for (const Located<IpPrefix>& p : given) {
      bool ok = true;
      if (p.value.length > link_length(p.value.address.family)) {
        d_.error(p.pos,
                 fmt::format("pool {} is too small for a link: each takes a /{}", p.value,
                             link_length(p.value.address.family)),
                 prefix_width(p.value));
        ok = false;
      }
      for (const Network& n : lab_.networks)
        for (const Located<IpPrefix>& s : n.subnets)
          if (p.value.overlaps(s.value)) {
            // The default pools have no place in the file: the network's subnet is said.
            d_.error(p.pos.known() ? p.pos : s.pos,
                     fmt::format("the p2p pool {} ([addressing]{}) overlaps subnet {} of network '{}'", p.value,
                                 p.pos.known() ? "" : ", by default", s.value, n.name.value),
                     prefix_width(p.pos.known() ? p.value : s.value));
            ok = false;
          }
      if (ok) pools_.push_back({p, 0, 0});
    }
  }

  // What a pool skips: the links' own subnets and the addresses the file gives links itself.
  void note_used() {
    for (const Link& l : lab_.links)
      for (const auto& s : l.subnets) used_.push_back(s.value);
    for (const Interface& i : lab_.interfaces)
      for (const auto& a : i.addresses) used_.push_back({a.value.network(), a.value.length});
  }

  void lower(const Link& l, size_t index) {
    bool ok = check_end(l.ends[0]);
    ok = check_end(l.ends[1]) && ok;
    if (l.ends[0].value == l.ends[1].value) {
      d_.error(l.ends[1].pos, fmt::format("[[link]] joins namespace '{}' to itself", l.ends[1].value),
               static_cast<int>(l.ends[1].value.size()) + 2);
      ok = false;
    }
    std::vector<IpPrefix> subnets;
    for (const Located<IpPrefix>& s : l.subnets) {
      if (s.value.length >= s.value.max_length()) {
        d_.error(s.pos,
                 fmt::format("subnet {} has room for fewer than the two addresses of a link (a /{} at most)", s.value,
                             link_length(s.value.address.family)),
                 prefix_width(s.value));
        ok = false;
      }
      subnets.push_back(s.value);
    }
    for (P2pPool& p : pools_) {
      if (!l.subnets.empty()) break;
      if (auto s = take(p)) {
        subnets.push_back(*s);
        continue;
      }
      d_.error(l.pos, fmt::format("[[link]] {} - {} finds no /{} left in the p2p pool {} ({} link{} took it)",
                                  l.ends[0].value, l.ends[1].value, link_length(p.prefix.value.address.family),
                                  p.prefix.value, p.given, p.given == 1 ? "" : "s"));
      ok = false;
    }
    if (ok) make_ends(l, index, subnets);
  }

  bool check_end(const Located<std::string>& end) {
    if (end.value == kHostNetns || lab_.find_netns(end.value)) return true;
    std::vector<std::string_view> names = {kHostNetns};
    for (const Netns& n : lab_.netns) names.push_back(n.name.value);
    d_.error(end.pos,
             fmt::format("[[link]] end {} is not a namespace of the lab{}", quoted(end.value),
                         did_you_mean(end.value, names)),
             static_cast<int>(end.value.size()) + 2);
    return false;
  }

  // The pool's next block that nothing else in the file uses.
  std::optional<IpPrefix> take(P2pPool& p) {
    Family f = p.prefix.value.address.family;
    int bits = link_length(f) - p.prefix.value.length;
    uint64_t blocks = bits >= 63 ? UINT64_MAX : uint64_t{1} << bits;
    int step_bits = p.prefix.value.max_length() - link_length(f);  // 1: two addresses a block
    while (p.next < blocks) {
      IpPrefix s{plus(p.prefix.value.network(), p.next++ << step_bits), link_length(f)};
      if (std::any_of(used_.begin(), used_.end(), [&](const IpPrefix& u) { return u.overlaps(s); })) continue;
      ++p.given;
      return s;
    }
    return std::nullopt;
  }

  void make_ends(const Link& l, size_t index, const std::vector<IpPrefix>& subnets) {
    Interface ends[2];
    size_t first = lab_.interfaces.size();
    for (int e = 0; e < 2; ++e) {
      Interface& end = ends[e];
      const Located<std::string>& self = l.ends[e];
      const Located<std::string>& peer = l.ends[1 - e];
      end.netns = self;
      end.name =
          l.names.size() == 2 ? l.names[e] : Located<std::string>{end_name(self.value, peer.value, index), l.pos};
      end.mtu = l.mtu;
      end.shape = l.shape;
      end.pos = l.pos;
      end.where = fmt::format("[[link]] {} - {}", l.ends[0].value, l.ends[1].value);
      end.origin = Origin{fmt::format("{} - {}", l.ends[0].value, l.ends[1].value), Origin::Role::link, ""};
      for (const IpPrefix& s : subnets) end.addresses.push_back({{address(s, e), s.length}, l.pos});
      end.spec = VethEnd{first + 1 - e, e == 0 ? 'a' : 'b'};
      taken_[self.value].insert(end.name.value);
    }
    lab_.interfaces.push_back(std::move(ends[0]));
    lab_.interfaces.push_back(std::move(ends[1]));
  }

  // The e-th address (0 or 1) a link has on subnet `s`: both of a /31 or /127, otherwise the
  // first two host addresses.
  static IpAddress address(const IpPrefix& s, int e) {
    SubnetPool pool(s, false);
    IpAddress a = *pool.next();
    return e == 0 ? a : *pool.next();
  }

  // The peer's name where it is an interface name that no other interface in the namespace
  // has; a second link to the same peer is "PEER-2"; otherwise a hash of the link.
  std::string end_name(const std::string& self, const std::string& peer, size_t index) {
    std::string name = peer;
    for (int k = 2; !free(self, name); ++k) name = fmt::format("{}-{}", peer, k);
    if (check_interface_name(name).empty()) return name;
    return hashed_end_name(lab_.name.value, peer, fmt::format("{}#{}", self, index));
  }

  bool free(const std::string& ns, const std::string& name) {
    if (taken_[ns].count(name)) return false;
    return !lab_.find_interface(ns, name);
  }

  Lab& lab_;
  Diagnostics& d_;
  std::vector<P2pPool> pools_;
  std::vector<IpPrefix> used_;
  std::map<std::string, std::set<std::string>> taken_;  // namespace -> link end names given
};

}  // namespace

void lower_links(Lab& lab, Diagnostics& diags) { LinkLowering(lab, diags).run(); }

}  // namespace topo
