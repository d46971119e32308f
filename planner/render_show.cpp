#include "planner/render_show.h"

#include <fmt/format.h>

#include <set>

#include "parser/diagnostics.h"
#include "planner/render_json.h"
#include "planner/render_text.h"

namespace topo {
namespace {

// Host first, then the others by name.
std::vector<std::string> order(const State& s) {
  std::vector<std::string> out;
  if (s.find("host")) out.push_back("host");
  for (const auto& [name, ns] : s.namespaces)
    if (name != "host") out.push_back(name);
  return out;
}

std::string protocol_name(int protocol) {
  switch (protocol) {
    case 2: return "kernel";
    case 3: return "boot";
    case 4: return "static";
    case kRouteProtocol: return "topo";
    default: return std::to_string(protocol);
  }
}

std::string link_line(const LinkState& l) {
  std::string out = link_identity(l);
  if (!l.master.empty()) out += " master " + l.master;
  out += fmt::format(" {} mtu {}", l.up ? "up" : "down", l.mtu);
  if (l.mac) out += fmt::format(" mac {}", *l.mac);
  for (const IpPrefix& a : l.addresses) out += fmt::format(" {}", a);
  if (!l.link_local) out += " link_local false";
  if (l.qdisc) out += " shape " + describe(*l.qdisc);
  return out;
}

std::string route_line(const RouteState& r) {
  std::string out = "route " + ip_destination(r.to) + route_paths(r);
  if (r.metric) out += fmt::format(" metric {}", r.metric);
  return out + " proto " + protocol_name(r.protocol);
}

}  // namespace

State lab_view(const State& observed, std::string_view lab, const std::set<RouteKey>& lab_routes) {
  std::string mark = ownership_mark(lab);
  State out;
  for (const auto& [name, ns] : observed.namespaces) {
    if (!ns.exists) continue;
    if (ns.mark == mark) {
      out.namespaces[name] = ns;
      continue;
    }
    NamespaceState part;
    part.exists = true;
    part.mark = ns.mark;
    std::set<std::string> mine;
    for (const LinkState& l : ns.links)
      if (l.alias == mark) {
        part.links.push_back(l);
        mine.insert(l.name);
      }
    for (const RouteState& r : ns.routes)
      if ((r.protocol == kRouteProtocol && lab_routes.count({name, r.to, r.metric})) || mine.count(r.dev))
        part.routes.push_back(r);
    if (ns.nat && ns.nat->mark == mark) part.nat = ns.nat;
    if (name == "host" || !part.links.empty() || !part.routes.empty() || part.nat) out.namespaces[name] = part;
  }
  return out;
}

std::string show_text(const State& view, std::string_view lab) {
  std::string out = fmt::format("lab {}\n", lab);
  for (const std::string& name : order(view)) {
    const NamespaceState& ns = view.namespaces.at(name);
    out += "netns " + name + (ns.mark.empty() ? "" : " (" + ns.mark + ")") + "\n";
    for (const LinkState& l : ns.links) out += "  " + link_line(l) + "\n";
    for (const RouteState& r : ns.routes) out += "  " + route_line(r) + "\n";
    if (ns.nat) {
      size_t rules = 0;
      for (const NftChain& c : ns.nat->chains) rules += c.rules.size();
      out += fmt::format("  nft table inet {}: {} rule{}\n", ns.nat->name, rules, rules == 1 ? "" : "s");
    }
  }
  return shown(out);  // names others gave their links, as the kernel has them
}

std::string show_json(const State& view, std::string_view lab) {
  std::string out = fmt::format(R"({{"format_version":1,"lab":{},"namespaces":[)", json_quote(lab));
  bool first_ns = true;
  for (const std::string& name : order(view)) {
    const NamespaceState& ns = view.namespaces.at(name);
    out += fmt::format(R"({}
{{"name":{},"mark":{},"interfaces":[)",
                       first_ns ? "" : ",", json_quote(name), ns.mark.empty() ? "null" : json_quote(ns.mark));
    first_ns = false;
    for (size_t i = 0; i < ns.links.size(); ++i) out += (i ? "," : "") + json_of(ns.links[i]);
    out += R"(],"routes":[)";
    for (size_t i = 0; i < ns.routes.size(); ++i) out += (i ? "," : "") + json_of(ns.routes[i]);
    out += fmt::format(R"(],"nat":{}}})", ns.nat ? json_of(*ns.nat) : "null");
  }
  return out + "\n]}\n";
}

}  // namespace topo
