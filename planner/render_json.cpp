#include "planner/render_json.h"

#include <fmt/format.h>

#include <cstdint>

#include "parser/shape.h"
#include "parser/utf8.h"

namespace topo {
namespace {

// A JSON string of `s`, which may hold what the kernel gave topo (names of interfaces made
// by others): valid UTF-8 whatever the bytes (a broken sequence becomes U+FFFD), and what
// drives a terminal (control and bidirectional characters) escaped, so that `jq` or a
// terminal showing the output reads the name, not its effect.
std::string quote(std::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    Utf8Char c = utf8_at(s, i);
    if (c.length == 0) {
      out += "\\ufffd";
      ++i;
      continue;
    }
    if (c.code == '"')
      out += "\\\"";
    else if (c.code == '\\')
      out += "\\\\";
    else if (c.code == '\n')
      out += "\\n";
    else if (c.code == '\t')
      out += "\\t";
    else if (drives_terminal(c.code))
      out += fmt::format("\\u{:04x}", static_cast<uint32_t>(c.code));
    else
      out += s.substr(i, c.length);
    i += c.length;
  }
  return out + "\"";
}

std::string str_or_null(const std::string& s) { return s.empty() ? "null" : quote(s); }

template <class T>
std::string opt(const std::optional<T>& v) {
  return v ? quote(fmt::format("{}", *v)) : "null";
}

std::string action_name(Action a) {
  switch (a) {
    case Action::create: return "create";
    case Action::modify: return "modify";
    case Action::replace: return "replace";
    case Action::remove: return "remove";
  }
  return "?";
}

// null for a namespace topo did not read (kUnknownNetns).
std::string netns_or_null(const std::string& netns) { return netns == kUnknownNetns ? "null" : quote(netns); }

// A root qdisc in the file's words ({"rate":"20mbit","delay":"40ms"}), with its kind; one
// topo does not make has its kind alone.
std::string json(const Qdisc& q) {
  std::string out = fmt::format(R"({{"qdisc":{})", quote(qdisc_kind(q)));
  if (auto s = shape_of(q))
    for (const auto& [key, value] : shape_words(*s))
      out += fmt::format(R"(,"{}":{})", key, key == "limit" ? value : quote(value));
  return out + "}";
}

std::string json(const LinkState& l) {
  std::string out =
      fmt::format(R"({{"name":{},"kind":{},"alias":{},"mtu":{},"mac":{},"up":{},"master":{},"link_local":{})",
                  quote(l.name), quote(l.kind_name()), str_or_null(l.alias), l.mtu ? std::to_string(l.mtu) : "null",
                  opt(l.mac), l.up ? "true" : "false", str_or_null(l.master), l.link_local ? "true" : "false");
  if (const VethState* v = l.veth())
    out += fmt::format(R"(,"peer":{{"netns":{},"name":{}}})", netns_or_null(v->peer_netns), str_or_null(v->peer_name));
  if (const VxlanState* v = l.vxlan()) {
    std::vector<std::string> remotes;
    for (const IpAddress& r : v->remotes) remotes.push_back(quote(fmt::format("{}", r)));
    out += fmt::format(
        R"(,"vxlan":{{"id":{},"local":{},"remote":{},"group":{},"remotes":[{}],"dev":{},"underlay_netns":{},"port":{}}})",
        v->id, opt(v->local), opt(v->remote), opt(v->group), fmt::join(remotes, ","), str_or_null(v->dev),
        str_or_null(v->underlay_netns), v->port);
  }
  if (const MacvlanState* m = l.macvlan())
    out += fmt::format(R"(,"macvlan":{{"mode":{},"parent":{},"parent_netns":{}}})", quote(m->mode),
                       str_or_null(m->parent), netns_or_null(m->parent_netns));
  if (l.qdisc) out += R"(,"shape":)" + json(*l.qdisc);
  out += R"(,"addresses":[)";
  for (size_t i = 0; i < l.addresses.size(); ++i) out += (i ? "," : "") + quote(fmt::format("{}", l.addresses[i]));
  // Where the file makes it, when the lowering made it: "network front, member web".
  return out + "]" + (l.origin.text.empty() ? "" : R"(,"origin":)" + quote(l.origin.text)) + "}";
}

// A multipath route has null via and dev, and its paths in "nexthops" (as `ip -j route`).
std::string json(const RouteState& r) {
  std::string hops;
  for (const NextHop& h : r.multipath)
    hops += fmt::format(R"({}{{"via":{},"dev":{},"weight":{}}})", hops.empty() ? "" : ",", opt(h.via),
                        str_or_null(h.dev), h.weight);
  return fmt::format(R"({{"to":{},"via":{},"dev":{},"metric":{},"protocol":{}{}{}}})", quote(fmt::format("{}", r.to)),
                     opt(r.via), str_or_null(r.dev), r.metric, r.protocol,
                     r.multipath.empty() ? "" : R"(,"nexthops":[)" + hops + "]",
                     r.origin.text.empty() ? "" : R"(,"origin":)" + quote(r.origin.text));
}

std::string json(const NftRule& r) {
  if (r.kind == RuleKind::foreign) return fmt::format(R"({{"kind":null,"foreign":{}}})", quote(r.foreign));
  if (r.is_filter()) {
    std::string states;
    for (const std::string& s : r.state) states += (states.empty() ? "" : ",") + quote(s);
    return fmt::format(
        R"({{"kind":{},"family":{},"source":{},"not_source":{},"destination":{},"not_destination":{},"in":{},)"
        R"("not_in":{},"out":{},"not_out":{},"proto":{},"port":{},"port_max":{},"state":[{}]}})",
        quote(to_string(r.kind)),
        !r.family                ? "null"
        : r.family == Family::v4 ? R"("ipv4")"
                                 : R"("ipv6")",
        opt(r.source), r.not_source, opt(r.destination), r.not_destination, str_or_null(r.in), r.not_in,
        str_or_null(r.out), r.not_out, str_or_null(r.proto), r.port ? std::to_string(r.port) : "null",
        r.port_max ? std::to_string(r.port_max) : "null", states);
  }
  return fmt::format(
      R"({{"kind":{},"family":{},"source":{},"in":{},"not_in":{},"out":{},"not_out":{},"proto":{},"port":{},)"
      R"("to":{},"to_port":{}}})",
      quote(to_string(r.kind)),
      !r.family                ? "null"
      : r.family == Family::v4 ? R"("ipv4")"
                               : R"("ipv6")",
      opt(r.source), str_or_null(r.in), r.not_in, str_or_null(r.out), r.not_out, str_or_null(r.proto),
      r.port ? std::to_string(r.port) : "null", opt(r.to), r.to_port ? std::to_string(r.to_port) : "null");
}

std::string json(const NftTable& t) {
  std::string out = fmt::format(R"({{"family":"inet","name":{},"mark":{},"flags":{},"chains":[)", quote(t.name),
                                str_or_null(t.mark), t.flags);
  for (size_t i = 0; i < t.chains.size(); ++i) {
    const NftChain& c = t.chains[i];
    out += fmt::format(R"({}{{"name":{},"type":{},"hook":{},"priority":{},"policy":{},"rules":[)", i ? "," : "",
                       quote(c.name), quote(c.type), str_or_null(c.hook), c.priority, quote(c.policy));
    for (size_t j = 0; j < c.rules.size(); ++j) out += (j ? "," : "") + json(c.rules[j]);
    out += "]}";
  }
  return out + "]}";
}

std::string json(const NamespaceState& n) { return fmt::format(R"({{"mark":{}}})", str_or_null(n.mark)); }
std::string json(const std::string& s) { return quote(s); }
std::string json(const std::vector<std::string>& names) {
  std::string out = "[";
  for (size_t i = 0; i < names.size(); ++i) out += (i ? "," : "") + quote(names[i]);
  return out + "]";
}

template <class T>
std::string side(const std::optional<T>& v) {
  return v ? json(*v) : "null";
}

std::string object(const Subject& s) {
  return std::visit(
      [](const auto& d) -> std::string {
        using D = std::decay_t<decltype(d)>;
        std::string out;
        if constexpr (std::is_same_v<D, NamespaceDelta>) out = R"("object":"netns")";
        if constexpr (std::is_same_v<D, LinkDelta>) out = R"("object":"link")";
        if constexpr (std::is_same_v<D, RouteDelta>) out = R"("object":"route")";
        if constexpr (std::is_same_v<D, SysctlDelta>) out = R"("object":"sysctl","key":)" + quote(d.key);
        if constexpr (std::is_same_v<D, FileDelta>) out = R"("object":"file","file":)" + quote(d.file);
        if constexpr (std::is_same_v<D, LinkBatchDelta>) out = R"("object":"links")";
        if constexpr (std::is_same_v<D, LinkUpDelta>) out = R"("object":"links_up")";
        if constexpr (std::is_same_v<D, TableDelta>) out = R"("object":"nat")";
        return out + fmt::format(R"(,"before":{},"after":{})", side(d.before), side(d.after));
      },
      s);
}

Action undoing(Action a) { return a == Action::create ? Action::remove : a == Action::remove ? Action::create : a; }

std::string step_json(const Step& s) {
  std::string out = fmt::format(R"({{"action":{},"inverse":{},"netns":{},"replace":{},{})",
                                quote(action_name(s.action)), quote(action_name(undoing(s.action))), quote(s.netns),
                                s.half_of_replace ? "true" : "false", object(s.subject));
  if (s.peer) out += fmt::format(R"(,"peer":{{"before":{},"after":{}}})", side(s.peer->before), side(s.peer->after));
  if (!s.contents.empty()) {
    out += R"(,"contents":[)";
    for (size_t i = 0; i < s.contents.size(); ++i) out += (i ? "," : "") + step_json(s.contents[i]);
    out += "]";
  }
  return out + "}";
}

}  // namespace

std::string json_quote(std::string_view s) { return quote(s); }
std::string json_of(const LinkState& l) { return json(l); }
std::string json_of(const RouteState& r) { return json(r); }
std::string json_of(const NftTable& t) { return json(t); }

std::string plan_json(const Plan& p, std::string_view lab) {
  std::string out =
      fmt::format(R"({{"format_version":1,"lab":{},"summary":{{"add":{},"change":{},"destroy":{}}},"conflicts":[)",
                  quote(lab), p.to_add, p.to_change, p.to_destroy);
  for (size_t i = 0; i < p.conflicts.size(); ++i)
    out += fmt::format(R"({}{{"netns":{},"message":{}}})", i ? "," : "", quote(p.conflicts[i].netns),
                       quote(p.conflicts[i].message));
  out += R"(],"notes":[)";
  for (size_t i = 0; i < p.notes.size(); ++i)
    out += fmt::format(R"({}{{"netns":{},"message":{}}})", i ? "," : "", quote(p.notes[i].netns),
                       quote(p.notes[i].message));
  out += R"(],"steps":[)";
  for (size_t i = 0; i < p.steps.size(); ++i) out += (i ? ",\n" : "\n") + step_json(p.steps[i]);
  return out + "\n]}\n";
}

}  // namespace topo
