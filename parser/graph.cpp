#include "parser/graph.h"

#include <fmt/format.h>

#include "lower/machines.h"
#include "parser/shape.h"

#include <map>
#include <set>
#include <tuple>

namespace topo {
namespace {

// An edge between two interfaces (indexes into lab.interfaces) with what joins them.
struct Edge {
  size_t from, to;
  std::string label;
  bool dashed;  // a relation inside a namespace (port, underlay, parent), not a cable
};

// The interface of that name in namespace `ns` of machine `machine` (a lab over several
// machines has a host on each).
int index_of(const Lab& lab, const std::string& machine, std::string_view ns, std::string_view name) {
  for (size_t i = 0; i < lab.interfaces.size(); ++i) {
    const Interface& x = lab.interfaces[i];
    if (x.machine == machine && x.netns.value == ns && x.name.value == name) return static_cast<int>(i);
  }
  return -1;
}

// A [[link]]'s veth is drawn with its subnets and shape ("10.255.0.0/31 fd00:255::/127 rate
// 10mbit"), others as "veth".
std::string veth_label(const Interface& a) {
  if (!a.origin || a.origin->role != Origin::Role::link) return "veth";
  std::vector<std::string> words;
  for (const auto& p : a.addresses) words.push_back(to_string(IpPrefix{p.value.network(), p.value.length}));
  if (a.shape) words.push_back(shape_text(a.shape->value));
  return words.empty() ? "veth" : fmt::format("{}", fmt::join(words, " "));
}

std::vector<Edge> raw_edges(const Lab& lab) {
  std::vector<Edge> out;
  for (size_t i = 0; i < lab.interfaces.size(); ++i) {
    const Interface& itf = lab.interfaces[i];
    if (const auto* v = std::get_if<VethEnd>(&itf.spec); v && v->end == 'a')
      out.push_back({i, v->peer, veth_label(itf), false});
    if (itf.master)
      if (int m = index_of(lab, itf.machine, itf.netns.value, itf.master->value); m >= 0)
        out.push_back({i, static_cast<size_t>(m), "port", true});
    if (const auto* v = std::get_if<Vxlan>(&itf.spec); v && v->dev)
      if (int d =
              index_of(lab, itf.machine, v->underlay_netns ? v->underlay_netns->value : itf.netns.value, v->dev->value);
          d >= 0)
        out.push_back({i, static_cast<size_t>(d), fmt::format("vni {}", v->id.value), true});
    // A tunnel between machines: a [[link]]'s, or a network's to its first machine.
    if (const auto* v = std::get_if<Vxlan>(&itf.spec); v && v->peer && *v->peer < i)
      out.push_back({*v->peer, i, fmt::format("vxlan {}", v->id.value), false});
    if (const auto* m = std::get_if<Macvlan>(&itf.spec))
      if (int p = index_of(lab, itf.machine, m->parent_netns.value, m->parent.value); p >= 0)
        out.push_back({i, static_cast<size_t>(p), fmt::format("macvlan {}", to_string(m->mode)), true});
  }
  return out;
}

// A network is drawn as one node, its bridge's, with its members around it: the pieces of
// its segment and the members' ends on the bridge are not drawn, and what joins them is
// drawn to the network's node. Returns the node that stands for interface `i`.
bool is_drawn(const Lab& lab, size_t i) {
  const std::optional<Origin>& o = lab.interfaces[i].origin;
  return !o || o->role == Origin::Role::bridge || o->role == Origin::Role::inside;
}

// A network's node on each of its machines: its bridge there.
using NetworkNodes = std::map<std::pair<std::string, std::string>, size_t>;  // (network, machine)

size_t drawn_as(const Lab& lab, size_t i, const NetworkNodes& network_nodes) {
  if (is_drawn(lab, i)) return i;
  auto it = network_nodes.find({lab.interfaces[i].origin->network, lab.interfaces[i].machine});
  return it == network_nodes.end() ? i : it->second;
}

NetworkNodes network_nodes(const Lab& lab) {
  NetworkNodes out;
  for (size_t i = 0; i < lab.interfaces.size(); ++i)
    if (const auto& o = lab.interfaces[i].origin; o && o->role == Origin::Role::bridge)
      out.emplace(std::pair{o->network, lab.interfaces[i].machine}, i);
  return out;
}

// The edges between drawn nodes: each once, none from a node to itself.
std::vector<Edge> edges(const Lab& lab) {
  NetworkNodes nodes = network_nodes(lab);
  std::vector<Edge> out;
  std::set<std::tuple<size_t, size_t, std::string>> seen;
  for (Edge e : raw_edges(lab)) {
    e.from = drawn_as(lab, e.from, nodes);
    e.to = drawn_as(lab, e.to, nodes);
    if (e.from != e.to && seen.emplace(e.from, e.to, e.label).second) out.push_back(e);
  }
  return out;
}

// The lines of an interface's label: its name and kind, then its addresses; a network's
// bridge is labelled as the network.
std::vector<std::string> label_lines(const Interface& i) {
  std::vector<std::string> lines{i.origin && i.origin->role == Origin::Role::bridge
                                     ? (i.origin->network == i.name.value
                                            ? fmt::format("network {}", i.name.value)
                                            : fmt::format("network {} (bridge {})", i.origin->network, i.name.value))
                                     : fmt::format("{} ({})", i.name.value, to_string(i.kind()))};
  for (const auto& a : i.addresses) lines.push_back(to_string(a.value));
  if (i.shape) lines.push_back("shape " + shape_text(i.shape->value));  // what it sends
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

// A namespace as drawn: its name, and the machine whose it is ("" in a lab without them).
struct Place {
  std::string machine, netns;
};

bool has_interfaces(const Lab& lab, const Place& p) {
  for (const Interface& i : lab.interfaces)
    if (i.netns.value == p.netns && i.machine == p.machine) return true;
  return false;
}

// Host is drawn when the lab puts something there; a namespace of the lab always is, with
// its lo alone when it holds nothing else (Docker's none mode).
bool drawn(const Lab& lab, const Place& p) { return p.netns != kHostNetns || has_interfaces(lab, p); }

// Each machine's host and namespaces, in the lab's order; one machine "" without machines.
std::vector<std::vector<Place>> places(const Lab& lab) {
  std::vector<std::vector<Place>> out;
  if (lab.machines.empty()) {
    out.emplace_back();
    for (const std::string& ns : lab.namespace_names()) out.back().push_back({"", ns});
    return out;
  }
  for (const Machine& m : lab.machines) {
    out.emplace_back();
    out.back().push_back({m.name.value, std::string(kHostNetns)});
    for (const Netns& ns : lab.netns)
      if (machine_of(lab, ns.name.value) == m.name.value) out.back().push_back({m.name.value, ns.name.value});
  }
  return out;
}

std::string machine_label(const Lab& lab, const std::string& machine) {
  const Machine* m = find_machine(lab, machine);
  return m ? fmt::format("machine {} ({})", machine, m->address.value) : machine;
}

}  // namespace

std::string graph_dot(const Lab& lab) {
  std::string out =
      fmt::format("graph {} {{\n  node [shape=box, fontname=\"monospace\"];\n", dot_quote("lab " + lab.name.value));
  size_t n = 0;
  std::vector<std::vector<Place>> all = places(lab);
  for (size_t k = 0; k < all.size(); ++k) {
    bool machine = !all[k].empty() && !all[k].front().machine.empty();
    std::string in = machine ? "    " : "  ";
    if (machine)
      out += fmt::format("  subgraph cluster_m{} {{\n    label={};\n", k,
                         dot_quote(machine_label(lab, all[k].front().machine)));
    for (const Place& p : all[k]) {
      size_t id = n++;
      if (!drawn(lab, p)) continue;
      out += fmt::format("{}subgraph cluster_ns{} {{\n{}  label={};\n", in, id, in,
                         dot_quote(namespace_label(lab, p.netns)));
      if (!has_interfaces(lab, p)) out += fmt::format("{}  ns{}_lo [label=\"lo\", shape=plaintext];\n", in, id);
      for (size_t i = 0; i < lab.interfaces.size(); ++i) {
        const Interface& itf = lab.interfaces[i];
        if (itf.netns.value != p.netns || itf.machine != p.machine || !is_drawn(lab, i)) continue;
        std::string label;  // DOT's "\n" breaks the line
        for (const std::string& l : label_lines(itf)) label += (label.empty() ? "" : "\\n") + dot_escape(l);
        out += fmt::format("{}  if{} [label=\"{}\"{}];\n", in, i, label,
                           itf.kind() == LinkKind::bridge ? ", shape=component" : "");
      }
      out += in + "}\n";
    }
    if (machine) out += "  }\n";
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
  size_t n = 0;
  std::vector<std::vector<Place>> all = places(lab);
  for (size_t k = 0; k < all.size(); ++k) {
    bool machine = !all[k].empty() && !all[k].front().machine.empty();
    std::string in = machine ? "    " : "  ";
    if (machine) out += fmt::format("  subgraph m{}[\"{}\"]\n", k, text(machine_label(lab, all[k].front().machine)));
    for (const Place& p : all[k]) {
      size_t id = n++;
      if (!drawn(lab, p)) continue;
      out += fmt::format("{}subgraph ns{}[\"{}\"]\n", in, id, text(namespace_label(lab, p.netns)));
      if (!has_interfaces(lab, p)) out += fmt::format("{}  ns{}_lo[\"lo\"]\n", in, id);
      for (size_t i = 0; i < lab.interfaces.size(); ++i) {
        const Interface& itf = lab.interfaces[i];
        if (itf.netns.value != p.netns || itf.machine != p.machine || !is_drawn(lab, i)) continue;
        std::string label;
        for (const std::string& l : label_lines(itf)) label += (label.empty() ? "" : "<br/>") + text(l);
        // A bridge is a switch: drawn as a hexagon, the rest as boxes.
        out += itf.kind() == LinkKind::bridge ? fmt::format("{}  if{}{{{{\"{}\"}}}}\n", in, i, label)
                                              : fmt::format("{}  if{}[\"{}\"]\n", in, i, label);
      }
      out += in + "end\n";
    }
    if (machine) out += "  end\n";
  }
  for (const Edge& e : edges(lab))
    out += fmt::format("  if{} {}|{}| if{}\n", e.from, e.dashed ? "-.-" : "---", text(e.label), e.to);
  return out;
}

}  // namespace topo
