#include "planner/nat.h"

#include "planner/filter.h"

#include <fmt/format.h>

#include <algorithm>

namespace topo {
namespace {

NftChain chain(std::string name, int priority) {
  NftChain c;
  c.hook = name;
  c.name = std::move(name);
  c.type = "nat";
  c.priority = priority;
  c.policy = "accept";
  return c;
}

NftRule rule_of(const Nat& n) {
  NftRule r;
  r.kind = *rule_kind_named(to_string(n.kind.value));  // the same words
  r.family = n.family();
  if (n.source) r.source = n.source->value;
  if (n.out) r.out = n.out->value;
  if (n.in) r.in = n.in->value;
  r.not_out = n.not_out;
  r.not_in = n.not_in;
  if (n.proto) r.proto = std::string(to_string(n.proto->value));
  if (n.port) r.port = n.port->value;
  if (n.to) r.to = n.to->value;
  if (n.to_port) r.to_port = n.to_port->value;
  return r;
}

std::string destination(const NftRule& r) {
  if (!r.to) return "";
  if (!r.to_port) return fmt::format(" -> {}", *r.to);
  if (r.to->family == Family::v6) return fmt::format(" -> [{}]:{}", *r.to, r.to_port);
  return fmt::format(" -> {}:{}", *r.to, r.to_port);
}

std::string chain_text(const NftChain& c) {
  return fmt::format("type {} hook {} priority {} policy {}", c.type, c.hook.empty() ? "none" : c.hook, c.priority,
                     c.policy);
}

// A filter chain as topo makes it, with the default policy, that comes or goes with its
// rules: the plan says it through those rules (taking out a chain's last rule is one line).
// An empty one is not topo's, and is said.
bool implied(const NftChain& c) {
  return !filter_chain_short(c.name).empty() && c.type == "filter" && c.hook == filter_chain_short(c.name) &&
         c.priority == kFilterPriority && c.policy == "accept" && !c.rules.empty();
}

// Why a table that exists is not as topo makes it, apart from its rules ("" when it is).
std::string table_difference(const NftTable& b, const NftTable& a) {
  std::vector<std::string> why;
  if (b.mark != a.mark) why.push_back(fmt::format("comment '{}' -> '{}'", b.mark, a.mark));
  if (b.flags != a.flags) why.push_back(fmt::format("flags {:#x} -> {:#x}", b.flags, a.flags));
  for (const NftChain& c : a.chains) {
    const NftChain* had = b.find_chain(c.name);
    if (!had) {
      if (!implied(c)) why.push_back(fmt::format("chain {} is missing", c.name));
    } else if (chain_text(*had) != chain_text(c)) {
      why.push_back(fmt::format("chain {}: {} -> {}", c.name, chain_text(*had), chain_text(c)));
    }
  }
  for (const NftChain& c : b.chains)
    if (!a.find_chain(c.name) && !implied(c)) why.push_back(fmt::format("chain {} is not topo's", c.name));
  if (why.empty()) {
    std::vector<std::string> order_b, order_a;
    for (const NftChain& c : b.chains)
      if (a.find_chain(c.name)) order_b.push_back(c.name);
    for (const NftChain& c : a.chains)
      if (b.find_chain(c.name)) order_a.push_back(c.name);
    if (order_b != order_a) why.push_back("chains in another order");
  }
  return fmt::format("{}", fmt::join(why, ", "));
}

// A table's rules as the file has them: each rule once, with the chains it is in.
struct Entry {
  NftRule rule;
  std::vector<std::string> chains;
  bool operator==(const Entry&) const = default;
};

std::vector<Entry> entries(const NftTable& t) {
  std::vector<Entry> out;
  for (const NftChain& c : t.chains)
    for (const NftRule& r : c.rules) {
      auto e = std::find_if(out.begin(), out.end(), [&](const Entry& x) {
        return x.rule == r && !r.is_filter() && std::find(x.chains.begin(), x.chains.end(), c.name) == x.chains.end();
      });
      if (e == out.end())
        out.push_back({r, {c.name}});
      else
        e->chains.push_back(c.name);
    }
  return out;
}

std::string line(const Entry& e) {
  if (e.rule.is_filter() && e.chains.size() == 1 && !filter_chain_short(e.chains[0]).empty())
    return fmt::format("filter {}: {}", filter_chain_short(e.chains[0]), describe_filter(e.rule));
  return fmt::format("nat {} ({})", describe(e.rule), fmt::join(e.chains, ", "));
}

// The entries of `from` that `other` does not have (as many times as they are missing).
std::vector<Entry> missing_from(std::vector<Entry> from, std::vector<Entry> other) {
  std::vector<Entry> out;
  for (Entry& e : from) {
    auto o = std::find(other.begin(), other.end(), e);
    if (o != other.end())
      other.erase(o);
    else
      out.push_back(std::move(e));
  }
  return out;
}

}  // namespace

std::optional<std::string> nft_name(const std::string& name) {
  if (name.find_first_of("\"\\*") != std::string::npos) return std::nullopt;
  return "\"" + name + "\"";
}

std::vector<NftChain> nat_chains() {
  return {chain("prerouting", -100), chain("output", -100), chain("postrouting", 100)};
}

std::optional<NftTable> expected_nat(const Lab& lab, std::string_view netns) {
  auto here = [&](const Nat& n) { return n.netns.value == netns; };
  if (std::none_of(lab.nats.begin(), lab.nats.end(), here)) return std::nullopt;  // most namespaces
  NftTable t;
  t.name = nat_table_name(lab.name.value);
  t.mark = ownership_mark(lab.name.value);
  t.chains = nat_chains();
  for (const Nat& n : lab.nats) {
    if (!here(n)) continue;
    NftRule r = rule_of(n);
    if (n.kind.value != NatKind::dnat) {
      t.chains[2].rules.push_back(r);
      continue;
    }
    t.chains[0].rules.push_back(r);
    if (r.in.empty()) t.chains[1].rules.push_back(r);
  }
  return t;
}

std::string describe(const NftRule& r) {
  if (r.kind == RuleKind::foreign) return "rule topo does not make: " + r.foreign;
  if (r.is_filter()) return describe_filter(r);
  std::string out(to_string(r.kind));
  if (!r.proto.empty()) out += " " + r.proto;
  if (r.port) out += fmt::format(" {}", r.port);
  if (r.source) out += fmt::format(" {}", *r.source);
  out += destination(r);
  if (!r.in.empty()) out += fmt::format(" in {}{}", r.not_in ? "!" : "", r.in);
  if (!r.out.empty()) out += fmt::format(" out {}{}", r.not_out ? "!" : "", r.out);
  return out;
}

std::optional<std::string> nft_syntax(const NftRule& r) {
  if (r.kind == RuleKind::foreign) return std::nullopt;
  if (r.is_filter()) return filter_nft_syntax(r);
  std::vector<std::string> parts;
  const char* ip = r.family == Family::v6 ? "ip6" : "ip";
  if (r.family) parts.push_back(r.family == Family::v6 ? "meta nfproto ipv6" : "meta nfproto ipv4");
  if (r.source) parts.push_back(fmt::format("{} saddr {}", ip, *r.source));
  if (r.kind == RuleKind::dnat) parts.push_back("fib daddr type local");
  for (auto [key, name, neg] : {std::tuple{"iifname", &r.in, r.not_in}, std::tuple{"oifname", &r.out, r.not_out}}) {
    if (name->empty()) continue;
    auto quoted = nft_name(*name);
    if (!quoted) return std::nullopt;
    parts.push_back(fmt::format("{} {}{}", key, neg ? "!= " : "", *quoted));
  }
  if (!r.proto.empty()) parts.push_back(fmt::format("{} dport {}", r.proto, r.port));
  if (r.kind == RuleKind::masquerade) {
    parts.push_back("masquerade");
  } else if (r.to) {
    std::string to = fmt::format("{}", *r.to);
    if (r.to_port)
      to = r.to->family == Family::v6 ? fmt::format("[{}]:{}", to, r.to_port) : fmt::format("{}:{}", to, r.to_port);
    parts.push_back(fmt::format("{} {} to {}", to_string(r.kind), ip, to));
  }
  return fmt::format("{}", fmt::join(parts, " "));
}

std::vector<NatLine> nat_lines(const TableDelta& d) {
  std::vector<NatLine> out;
  const NftTable& shown = d.after ? *d.after : *d.before;
  std::string table = "nft table inet " + shown.name;
  if (!d.before) {
    out.push_back({Action::create, table});
  } else if (!d.after) {
    out.push_back({Action::remove, table});
  } else if (std::string why = table_difference(*d.before, *d.after); !why.empty()) {
    out.push_back({Action::modify, table + ": " + why});
  }
  std::vector<Entry> had = d.before ? entries(*d.before) : std::vector<Entry>{};
  std::vector<Entry> wants = d.after ? entries(*d.after) : std::vector<Entry>{};
  for (const Entry& e : missing_from(had, wants)) out.push_back({Action::remove, line(e)});
  for (const Entry& e : missing_from(wants, had)) out.push_back({Action::create, line(e)});
  if (out.empty() && d.before != d.after) out.push_back({Action::modify, table + ": rules in another order"});
  return out;
}

}  // namespace topo
