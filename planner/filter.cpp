#include "planner/filter.h"

#include <fmt/format.h>

#include <algorithm>

#include "planner/nat.h"

namespace topo {
namespace {

constexpr std::string_view kChains[] = {"forward", "input", "output"};

NftChain chain(std::string_view name, const std::optional<Located<std::string>>& policy) {
  NftChain c;
  c.name = "filter-" + std::string(name);
  c.type = "filter";
  c.hook = std::string(name);
  c.priority = kFilterPriority;
  c.policy = policy ? policy->value : "accept";
  return c;
}

const std::optional<Located<std::string>>& policy_for(const FilterPolicy& p, std::string_view chain) {
  return chain == "forward" ? p.forward : chain == "input" ? p.input : p.output;
}

std::vector<NftRule> rules_of(const Filter& f) {
  NftRule r;
  r.kind = rule_kind_named(f.action.value).value_or(RuleKind::foreign);  // validated: accept, drop, reject
  if (f.source) r.source = f.source->value;
  if (f.destination) r.destination = f.destination->value;
  if (r.source)
    r.family = r.source->address.family;
  else if (r.destination)
    r.family = r.destination->address.family;
  if (f.in) r.in = f.in->value;
  if (f.out) r.out = f.out->value;
  r.not_in = f.not_in;
  r.not_out = f.not_out;
  r.not_source = f.not_source;
  r.not_destination = f.not_destination;
  if (f.proto) r.proto = f.proto->value;
  for (std::string_view s : {"established", "related", "new"})
    if (std::any_of(f.state.begin(), f.state.end(), [&](const auto& x) { return x.value == s; }))
      r.state.emplace_back(s);
  if (f.ports.empty()) return {r};
  std::vector<NftRule> out;
  for (const Located<PortRange>& p : f.ports) {
    r.port = p.value.lo;
    r.port_max = p.value.hi == p.value.lo ? 0 : p.value.hi;
    out.push_back(r);
  }
  return out;
}

std::string negated(bool neg, const std::string& s) { return (neg ? "!" : "") + s; }

std::string ports(const NftRule& r) {
  return r.port_max ? fmt::format("{}-{}", r.port, r.port_max) : fmt::format("{}", r.port);
}

// What one namespace's chains are made of: its policy, its [[filter]] entries and its bridges.
struct Parts {
  const FilterPolicy* policy = nullptr;
  std::vector<const Filter*> filters;
  std::vector<const Interface*> bridges;
};

// Every ordered pair of the bridges that must not reach each other, in file order: any two
// with `isolate = true`, and each bridge with those its `isolate` list names.
std::vector<std::pair<std::string, std::string>> isolated_pairs(const std::vector<const Interface*>& bridges) {
  auto names = [](const Bridge& b, const std::string& other) {
    return std::any_of(b.isolate_from.begin(), b.isolate_from.end(), [&](const auto& n) { return n.value == other; });
  };
  std::vector<std::pair<std::string, std::string>> out;
  for (const Interface* ia : bridges)
    for (const Interface* ib : bridges) {
      if (ia == ib) continue;
      const Bridge &ba = std::get<Bridge>(ia->spec), &bb = std::get<Bridge>(ib->spec);
      const std::string &a = ia->name.value, &b = ib->name.value;
      if ((ba.isolate && bb.isolate) || names(ba, b) || names(bb, a)) out.push_back({a, b});
    }
  return out;
}

std::vector<NftChain> chains_of(const Parts& in) {
  static const FilterPolicy none;
  const FilterPolicy& p = in.policy ? *in.policy : none;
  std::vector<NftChain> out;
  for (std::string_view name : kChains) {
    NftChain c = chain(name, policy_for(p, name));
    for (const Filter* f : in.filters)
      if (f->chain.value == name)
        for (NftRule& r : rules_of(*f)) c.rules.push_back(std::move(r));
    if (name == "forward") {
      for (const auto& [a, b] : isolated_pairs(in.bridges)) {
        NftRule r;
        r.kind = RuleKind::drop;
        r.in = a;
        r.out = b;
        c.rules.push_back(r);
      }
    }
    if (!c.rules.empty() || c.policy != "accept") out.push_back(std::move(c));
  }
  return out;
}

}  // namespace

// One pass over the lab, then each namespace on its own: a lab of 1000 namespaces would
// otherwise scan every interface and rule once per namespace.
std::map<std::string, std::vector<NftChain>> filter_chains(const Lab& lab) {
  std::map<std::string, Parts> parts;
  parts[std::string(kHostNetns)].policy = &lab.host_policy;
  for (const Netns& n : lab.netns) parts[n.name.value].policy = &n.policy;
  for (const Filter& f : lab.filters) parts[f.netns.value].filters.push_back(&f);
  for (const Interface& i : lab.interfaces)
    if (std::holds_alternative<Bridge>(i.spec)) parts[i.netns.value].bridges.push_back(&i);
  std::map<std::string, std::vector<NftChain>> out;
  for (const auto& [netns, in] : parts)
    if (auto chains = chains_of(in); !chains.empty()) out.emplace(netns, std::move(chains));
  return out;
}

std::string filter_chain_short(std::string_view chain) {
  if (chain.substr(0, 7) != "filter-") return "";
  return std::string(chain.substr(7));
}

std::string describe_filter(const NftRule& r) {
  std::string out(to_string(r.kind));
  if (!r.proto.empty()) out += " " + r.proto;
  if (r.port) out += " dport " + ports(r);
  if (r.source) out += " from " + negated(r.not_source, fmt::format("{}", *r.source));
  if (r.destination) out += " to " + negated(r.not_destination, fmt::format("{}", *r.destination));
  if (!r.in.empty()) out += " in " + negated(r.not_in, r.in);
  if (!r.out.empty()) out += " out " + negated(r.not_out, r.out);
  if (!r.state.empty()) out += fmt::format(" state {}", fmt::join(r.state, ","));
  return out;
}

std::optional<std::string> filter_nft_syntax(const NftRule& r) {
  std::vector<std::string> parts;
  const char* ip = r.family == Family::v6 ? "ip6" : "ip";
  if (r.family) parts.push_back(r.family == Family::v6 ? "meta nfproto ipv6" : "meta nfproto ipv4");
  if (r.source) parts.push_back(fmt::format("{} saddr {}{}", ip, r.not_source ? "!= " : "", *r.source));
  if (r.destination) parts.push_back(fmt::format("{} daddr {}{}", ip, r.not_destination ? "!= " : "", *r.destination));
  for (auto [key, name, neg] : {std::tuple{"iifname", &r.in, r.not_in}, std::tuple{"oifname", &r.out, r.not_out}}) {
    if (name->empty()) continue;
    auto quoted = nft_name(*name);
    if (!quoted) return std::nullopt;
    parts.push_back(fmt::format("{} {}{}", key, neg ? "!= " : "", *quoted));
  }
  if (r.port)
    parts.push_back(fmt::format("{} dport {}", r.proto, ports(r)));
  else if (!r.proto.empty())
    parts.push_back(fmt::format("meta l4proto {}", r.proto == "icmpv6" ? "ipv6-icmp" : r.proto));
  if (!r.state.empty()) parts.push_back(fmt::format("ct state {}", fmt::join(r.state, ",")));
  parts.push_back(r.kind == RuleKind::reject ? "reject with icmpx port-unreachable" : std::string(to_string(r.kind)));
  return fmt::format("{}", fmt::join(parts, " "));
}

}  // namespace topo
