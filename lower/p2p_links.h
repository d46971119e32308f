// [[link]] lowered: a veth between two namespaces (a VXLAN pair between two machines), its
// two addresses from the link's own subnets or the next /31 and /127 of the lab's pools
// ([addressing] p2p).
#pragma once

#include "lower/machines.h"
#include "parser/diagnostics.h"
#include "parser/model.h"

namespace topo {

/// The pools [[link]] takes its subnets from when [addressing] p2p is not given.
inline constexpr const char* kDefaultP2pPools[] = {"10.255.0.0/16", "fd00:255::/48"};

/// Adds a veth pair to `lab.interfaces` for each of `lab.links`, in file order, each end
/// named after its peer namespace where that fits and is free (docs/format.md, [[link]]).
/// Errors: an end that is no namespace of the lab, a link to itself, a subnet with room for
/// fewer than two addresses, a pool that overlaps a network's subnet or runs out. Expects
/// groups expanded and the networks' interfaces made; leaves `lab.links` empty. A link
/// whose ends are on two machines is a VXLAN at each end, in its namespace, its tunnel in
/// that machine's host, to the other machine's address, with a VNI from `vnis`.
void lower_links(Lab& lab, Diagnostics& diags, Vnis& vnis);

}  // namespace topo
