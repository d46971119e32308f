// `topo graph --format dot|mermaid`: the lab's topology for a picture. Namespaces are
// boxes (DOT clusters, Mermaid subgraphs) holding their interfaces, each labelled with its
// name, kind and addresses; bridges are drawn apart from the other interfaces; edges join a
// veth's two ends, a bridge port to its bridge, a VXLAN to its underlay and a macvlan to
// its parent. A [[network]] is one node (its bridge's, labelled with the network) with its
// members' ends joined to it; its segment and the ends on its bridge are not drawn. Node
// ids are positional (ns0, if3), so any name is safe in either language.
#pragma once

#include <string>

#include "parser/model.h"

namespace topo {

std::string graph_dot(const Lab& lab);
std::string graph_mermaid(const Lab& lab);

}  // namespace topo
