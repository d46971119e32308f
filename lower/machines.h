// A lab over several machines ([[machine]]): which machine each object is on, the VXLAN
// numbers and mtus that join them, and the slice of the lab each machine applies. Pure:
// every machine computes the same from the file alone, so no machine needs another to
// agree on a name, an address or a VNI (docs/machines.md).
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "parser/diagnostics.h"
#include "parser/model.h"

namespace topo {

/// The machines' own rules (each name and address once, one address family) and every
/// `machine` key naming one of them. Before the lowering, which relies on both.
void check_machines(const Lab& lab, Diagnostics& d);

/// Drops each `machine` key that names no machine of the lab (check_machines said so): the
/// lowering goes on as if it were not there, to find the file's other mistakes.
void forget_unknown_machines(Lab& lab);

const Machine* find_machine(const Lab& lab, std::string_view name);
/// The machine namespace `ns` is on: its `machine`, or the lab's first; "" in a lab
/// without machines. "host" (and any name not the lab's) is the first machine's.
std::string machine_of(const Lab& lab, std::string_view ns);

/// What a VXLAN adds around each frame (outer Ethernet, IP, UDP and VXLAN headers): 50
/// bytes over IPv4, 70 over IPv6.
int64_t vxlan_overhead(Family underlay);
/// The largest mtu a tunnel among these machines carries without fragmenting: the least of
/// their underlays' mtus, less the overhead.
int64_t tunnel_mtu(const Lab& lab, const std::vector<std::string>& machines);

/// The UDP port of the lab's VXLANs between machines: IANA's.
inline constexpr int64_t kVxlanPort = 4789;

/// VXLAN network identifiers of the tunnels between machines: the file's `vni`, or one
/// derived from the lab's name and the network's or link's (a hash, then the next free
/// one), unique within the lab, the file's own [[vxlan]] ids included.
class Vnis {
 public:
  explicit Vnis(const Lab& lab);
  /// The identifier of what `key` names ("network front", "link a1 - b1"), `given` when
  /// the file gives one.
  int64_t take(const std::optional<Located<int64_t>>& given, std::string_view key);

 private:
  std::string lab_;
  std::set<int64_t> used_;
};

/// Puts each object the lowering left unplaced on its machine (that of its namespace; in
/// host, that of the namespace it is tied to, else the first), and refuses a [[veth]]
/// between machines. Nothing to do in a lab without machines.
void place_on_machines(Lab& lab, Diagnostics& d);
/// The same for the routes added since (those routing = "static" computes).
void place_routes(Lab& lab, Diagnostics& d);

/// The part of a lowered lab that `machine` applies: a lab of its own, without machines,
/// whose expectations are those from its namespaces (their addresses found in the whole).
Lab slice(const Lab& lab, std::string_view machine);

/// Which machine's slice a run works on: `given` (--machine) when set, else the one whose
/// address is among `local` (this host's). `error` says why none when there is no one
/// answer; a lab without machines has none to choose ("", no error, `given` unset).
struct MachineChoice {
  std::string machine, error;
};
MachineChoice choose_machine(const Lab& lab, const std::string& given, const std::vector<IpAddress>& local);

/// Each machine's slice size: namespaces and interfaces, for `topo machines`.
struct SliceSize {
  size_t namespaces = 0, interfaces = 0, routes = 0, expectations = 0;
};
std::map<std::string, SliceSize> slice_sizes(const Lab& lab);

}  // namespace topo
