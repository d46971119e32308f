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
  LinkLowering(Lab& lab, Diagnostics& d, Vnis& vnis) : lab_(lab), d_(d), vnis_(vnis) {}

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

  // The machines of a link's ends: each namespace's; host is the other end's.
  std::pair<std::string, std::string> machines_of(const Link& l) const {
    std::string a = machine_of(lab_, l.ends[0].value), b = machine_of(lab_, l.ends[1].value);
    if (l.ends[0].value == kHostNetns) a = b;
    if (l.ends[1].value == kHostNetns) b = a;
    return {a, b};
  }

  // Across machines: the mtu the tunnel carries, or the link's own if it fits.
  std::optional<Located<int64_t>> tunnel_mtu_of(const Link& l, const std::string& a, const std::string& b) {
    int64_t room = tunnel_mtu(lab_, {a, b});
    if (!l.mtu) return Located<int64_t>{room, l.pos};
    if (l.mtu->value > room)
      d_.error(l.mtu->pos,
               fmt::format("mtu {} of [[link]] {} - {} is above {}, what the tunnel between machines '{}' and '{}' "
                           "carries after its headers",
                           l.mtu->value, l.ends[0].value, l.ends[1].value, room, a, b),
               static_cast<int>(std::to_string(l.mtu->value).size()));
    return l.mtu;
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
    auto [machine_a, machine_b] = machines_of(l);
    bool across = machine_a != machine_b;
    std::optional<Located<int64_t>> mtu = across ? tunnel_mtu_of(l, machine_a, machine_b) : l.mtu;
    int64_t vni = across ? vnis_.take(l.vni, vni_key(l, index)) : 0;
    if (l.vni && !across && !lab_.machines.empty())
      d_.error(l.vni->pos, fmt::format("'vni' in [[link]] {} - {} is for a link across machines; both ends are on "
                                       "machine '{}'",
                                       l.ends[0].value, l.ends[1].value, machine_a));
    for (int e = 0; e < 2; ++e) {
      Interface& end = ends[e];
      const Located<std::string>& self = l.ends[e];
      const Located<std::string>& peer = l.ends[1 - e];
      end.netns = self;
      end.name =
          l.names.size() == 2 ? l.names[e] : Located<std::string>{end_name(self.value, peer.value, index), l.pos};
      end.mtu = mtu;
      end.shape = l.shape;
      end.machine = e == 0 ? machine_a : machine_b;
      end.pos = l.pos;
      end.where = fmt::format("[[link]] {} - {}", l.ends[0].value, l.ends[1].value);
      end.origin = Origin{fmt::format("{} - {}", l.ends[0].value, l.ends[1].value), Origin::Role::link, ""};
      for (const IpPrefix& s : subnets) end.addresses.push_back({{address(s, e), s.length}, l.pos});
      end.spec = VethEnd{first + 1 - e, e == 0 ? 'a' : 'b'};
      if (across) {
        end.spec = tunnel_end(l, vni, end.machine, e == 0 ? machine_b : machine_a, first + 1 - e);
        if (self.value == kHostNetns) std::get<Vxlan>(end.spec).underlay_netns.reset();
      }
      taken_[self.value].insert(end.name.value);
    }
    lab_.interfaces.push_back(std::move(ends[0]));
    lab_.interfaces.push_back(std::move(ends[1]));
  }

  // What a link's derived VNI is a hash of: its ends, and how many links before it join the
  // same two (not its place in the file, which an edit elsewhere would change).
  std::string vni_key(const Link& l, size_t index) const {
    size_t before = 0;
    for (size_t i = 0; i < index; ++i)
      if (lab_.links[i].ends[0].value == l.ends[0].value && lab_.links[i].ends[1].value == l.ends[1].value) ++before;
    return fmt::format("link {} - {}#{}", l.ends[0].value, l.ends[1].value, before);
  }

  // One end of a link across machines: a VXLAN from this machine's address to the other's,
  // made in host and moved into the end's namespace, its tunnel staying in host.
  Vxlan tunnel_end(const Link& l, int64_t vni, const std::string& here, const std::string& there, size_t peer) {
    const Machine& m = *find_machine(lab_, here);
    Vxlan v;
    v.id = {vni, l.vni ? l.vni->pos : l.pos};
    v.local = m.address;
    v.remote = find_machine(lab_, there)->address;
    v.dev = m.dev;
    v.underlay_netns = Located<std::string>{std::string(kHostNetns), l.pos};
    v.port = {kVxlanPort, l.pos};
    v.peer = peer;
    return v;
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
  Vnis& vnis_;
  std::vector<P2pPool> pools_;
  std::vector<IpPrefix> used_;
  std::map<std::string, std::set<std::string>> taken_;  // namespace -> link end names given
};

}  // namespace

void lower_links(Lab& lab, Diagnostics& diags, Vnis& vnis) { LinkLowering(lab, diags, vnis).run(); }

}  // namespace topo
