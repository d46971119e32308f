#include "parser/graph.h"

#include <fmt/format.h>

namespace topo {
namespace {

// An edge between two interfaces (indexes into lab.interfaces) with what joins them.
struct Edge {
  size_t from, to;
  std::string label;
  bool dashed;  // a relation inside a namespace (port, underlay, parent), not a cable
};

int index_of(const Lab& lab, std::string_view ns, std::string_view name) {
  for (size_t i = 0; i < lab.interfaces.size(); ++i)
    if (lab.interfaces[i].netns.value == ns && lab.interfaces[i].name.value == name) return static_cast<int>(i);
  return -1;
}

std::vector<Edge> edges(const Lab& lab) {
  std::vector<Edge> out;
  for (size_t i = 0; i < lab.interfaces.size(); ++i) {
    const Interface& itf = lab.interfaces[i];
    if (const auto* v = std::get_if<VethEnd>(&itf.spec); v && v->end == 'a') out.push_back({i, v->peer, "veth", false});
    if (itf.master)
      if (int m = index_of(lab, itf.netns.value, itf.master->value); m >= 0)
        out.push_back({i, static_cast<size_t>(m), "port", true});
    if (const auto* v = std::get_if<Vxlan>(&itf.spec); v && v->dev)
      if (int d = index_of(lab, itf.netns.value, v->dev->value); d >= 0)
        out.push_back({i, static_cast<size_t>(d), fmt::format("vni {}", v->id.value), true});
    if (const auto* m = std::get_if<Macvlan>(&itf.spec))
      if (int p = index_of(lab, m->parent_netns.value, m->parent.value); p >= 0)
        out.push_back({i, static_cast<size_t>(p), fmt::format("macvlan {}", to_string(m->mode)), true});
  }
  return out;
}

// The lines of an interface's label: its name and kind, then its addresses.
std::vector<std::string> label_lines(const Interface& i) {
  std::vector<std::string> lines{fmt::format("{} ({})", i.name.value, to_string(i.kind()))};
  for (const auto& a : i.addresses) lines.push_back(to_string(a.value));
  return lines;
}

std::string dot_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

std::string dot_quote(std::string_view s) { return "\"" + dot_escape(s) + "\""; }

std::string namespace_label(const Lab& lab, const std::string& ns) {
  const Netns* n = lab.find_netns(ns);
  if (!n) return "host";
  if (n->pid) return fmt::format("netns {} (pid {})", ns, n->pid->value);
  if (n->path) return fmt::format("netns {} ({})", ns, n->path->value);
  return "netns " + ns;
}

bool has_interfaces(const Lab& lab, const std::string& ns) {
  for (const Interface& i : lab.interfaces)
    if (i.netns.value == ns) return true;
  return false;
}

// Host is drawn when the lab puts something there; a namespace of the lab always is, with
// its lo alone when it holds nothing else (Docker's none mode).
bool drawn(const Lab& lab, const std::string& ns) { return ns != kHostNetns || has_interfaces(lab, ns); }

}  // namespace

std::string graph_dot(const Lab& lab) {
  std::string out =
      fmt::format("graph {} {{\n  node [shape=box, fontname=\"monospace\"];\n", dot_quote("lab " + lab.name.value));
  std::vector<std::string> names = lab.namespace_names();
  for (size_t n = 0; n < names.size(); ++n) {
    if (!drawn(lab, names[n])) continue;
    out += fmt::format("  subgraph cluster_ns{} {{\n    label={};\n", n, dot_quote(namespace_label(lab, names[n])));
    if (!has_interfaces(lab, names[n])) out += fmt::format("    ns{}_lo [label=\"lo\", shape=plaintext];\n", n);
    for (size_t i = 0; i < lab.interfaces.size(); ++i) {
      const Interface& itf = lab.interfaces[i];
      if (itf.netns.value != names[n]) continue;
      std::string label;  // DOT's "\n" breaks the line
      for (const std::string& l : label_lines(itf)) label += (label.empty() ? "" : "\\n") + dot_escape(l);
      out += fmt::format("    if{} [label=\"{}\"{}];\n", i, label,
                         itf.kind() == LinkKind::bridge ? ", shape=component" : "");
    }
    out += "  }\n";
  }
  for (const Edge& e : edges(lab))
    out += fmt::format("  if{} -- if{} [label={}{}];\n", e.from, e.to, dot_quote(e.label),
                       e.dashed ? ", style=dashed" : "");
  return out + "}\n";
}

std::string graph_mermaid(const Lab& lab) {
  // Mermaid labels are quoted text: a double quote becomes #quot; and lines break at <br/>.
  auto text = [](std::string_view s) {
    std::string out;
    for (char c : s) out += c == '"' ? std::string("#quot;") : std::string(1, c);
    return out;
  };
  std::string out = "flowchart LR\n";
  std::vector<std::string> names = lab.namespace_names();
  for (size_t n = 0; n < names.size(); ++n) {
    if (!drawn(lab, names[n])) continue;
    out += fmt::format("  subgraph ns{}[\"{}\"]\n", n, text(namespace_label(lab, names[n])));
    if (!has_interfaces(lab, names[n])) out += fmt::format("    ns{}_lo[\"lo\"]\n", n);
    for (size_t i = 0; i < lab.interfaces.size(); ++i) {
      const Interface& itf = lab.interfaces[i];
      if (itf.netns.value != names[n]) continue;
      std::string label;
      for (const std::string& l : label_lines(itf)) label += (label.empty() ? "" : "<br/>") + text(l);
      // A bridge is a switch: drawn as a hexagon, the rest as boxes.
      out += itf.kind() == LinkKind::bridge ? fmt::format("    if{}{{{{\"{}\"}}}}\n", i, label)
                                            : fmt::format("    if{}[\"{}\"]\n", i, label);
    }
    out += "  end\n";
  }
  for (const Edge& e : edges(lab))
    out += fmt::format("  if{} {}|{}| if{}\n", e.from, e.dashed ? "-.-" : "---", text(e.label), e.to);
  return out;
}

}  // namespace topo
