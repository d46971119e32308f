// The labs present on this machine, found from the kernel's marks alone (docs/design.md):
// a namespace under /run/netns whose lo's alias is topo:LAB is LAB's, and so is every link
// with that alias, in host or in any named namespace. No file topo keeps is needed.
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <vector>

namespace topo {

struct LabOnMachine {
  std::string name;
  std::vector<std::string> namespaces;  // the named namespaces it made, sorted
  size_t links = 0;                     // links carrying its mark, in every namespace
  /// When it was last applied or destroyed: the mtime of /run/topo/LAB (where apply and
  /// destroy keep their journal); nullopt when that is gone.
  std::optional<std::time_t> applied;
};

/// Every lab with a mark somewhere, by name. Throws KernelError.
std::vector<LabOnMachine> labs_on_machine();

/// The lab whose mark /run/netns/NAME's lo carries ("" when none); throws KernelError when
/// there is no such namespace.
std::string lab_of_namespace(const std::string& name);

}  // namespace topo
