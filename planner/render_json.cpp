#include "planner/render_json.h"

#include <fmt/format.h>

namespace topo {
namespace {

std::string quote(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20)
          out += fmt::format("\\u{:04x}", c);
        else
          out += static_cast<char>(c);
    }
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

std::string json(const LinkState& l) {
  std::string out = fmt::format(R"({{"name":{},"kind":{},"alias":{},"mtu":{},"mac":{},"up":{},"master":{})",
                                quote(l.name), quote(l.kind), str_or_null(l.alias),
                                l.mtu ? std::to_string(l.mtu) : "null", opt(l.mac),
                                l.up ? "true" : "false", str_or_null(l.master));
  if (l.kind == "veth")
    out += fmt::format(R"(,"peer":{{"netns":{},"name":{}}})", quote(l.peer_netns), quote(l.peer_name));
  if (l.kind == "vxlan")
    out += fmt::format(R"(,"vxlan":{{"id":{},"local":{},"remote":{},"group":{},"dev":{},"port":{}}})",
                       l.vxlan_id, opt(l.vxlan_local), opt(l.vxlan_remote), opt(l.vxlan_group),
                       str_or_null(l.vxlan_dev), l.vxlan_port);
  if (l.kind == "macvlan")
    out += fmt::format(R"(,"macvlan":{{"mode":{},"parent":{},"parent_netns":{}}})", quote(l.macvlan_mode),
                       quote(l.macvlan_parent), quote(l.macvlan_parent_netns));
  out += R"(,"addresses":[)";
  for (size_t i = 0; i < l.addresses.size(); ++i)
    out += (i ? "," : "") + quote(fmt::format("{}", l.addresses[i]));
  return out + "]}";
}

std::string json(const RouteState& r) {
  return fmt::format(R"({{"to":{},"via":{},"dev":{},"metric":{},"protocol":{}}})",
                     quote(fmt::format("{}", r.to)), opt(r.via), str_or_null(r.dev), r.metric,
                     r.protocol);
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
        return out + fmt::format(R"(,"before":{},"after":{})", side(d.before), side(d.after));
      },
      s);
}

Action undoing(Action a) { return a == Action::create ? Action::remove : a == Action::remove ? Action::create : a; }

std::string step_json(const Step& s) {
  std::string out = fmt::format(R"({{"action":{},"inverse":{},"netns":{},"replace":{},{})",
                                quote(action_name(s.action)), quote(action_name(undoing(s.action))),
                                quote(s.netns), s.half_of_replace ? "true" : "false", object(s.subject));
  if (s.peer)
    out += fmt::format(R"(,"peer":{{"before":{},"after":{}}})", side(s.peer->before), side(s.peer->after));
  if (!s.contents.empty()) {
    out += R"(,"contents":[)";
    for (size_t i = 0; i < s.contents.size(); ++i) out += (i ? "," : "") + step_json(s.contents[i]);
    out += "]";
  }
  return out + "}";
}

}  // namespace

std::string plan_json(const Plan& p, std::string_view lab) {
  std::string out = fmt::format(
      R"({{"format_version":1,"lab":{},"summary":{{"add":{},"change":{},"destroy":{}}},"conflicts":[)",
      quote(lab), p.to_add, p.to_change, p.to_destroy);
  for (size_t i = 0; i < p.conflicts.size(); ++i)
    out += fmt::format(R"({}{{"netns":{},"message":{}}})", i ? "," : "", quote(p.conflicts[i].netns),
                       quote(p.conflicts[i].message));
  out += R"(],"steps":[)";
  for (size_t i = 0; i < p.steps.size(); ++i) out += (i ? ",\n" : "\n") + step_json(p.steps[i]);
  return out + "\n]}\n";
}

}  // namespace topo
