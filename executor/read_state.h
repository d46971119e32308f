// The state reader: what the kernel has now, in the planner's vocabulary. One netlink
// socket per namespace, opened inside it; one dump per kind (links, addresses, routes) per
// namespace, never a request per object; and a netfilter socket for the lab's NAT table
// (executor/nft.h).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "planner/state.h"

namespace topo {

/// Reads the host namespace, every namespace `expected` names (missing ones come back with
/// exists = false), and every namespace under /run/netns whose lo carries `lab`'s mark
/// (namespaces the file no longer has). Sysctls are read for the keys `expected` names, and
/// for those `also` names (what the lab set before: executor/lab_record.h);
/// /etc/netns/NAME files for every namespace but host; the nftables table named
/// nat_table_name(lab) in each, whoever made it (the differ checks its mark). Throws
/// KernelError.
State read_state(const State& expected, std::string_view lab,
                 const std::map<std::pair<std::string, std::string>, std::string>& also = {});

/// The addresses of the namespace topo runs in: what tells which [[machine]] this is.
/// Throws KernelError.
std::vector<IpAddress> host_addresses();

/// The kernel as apply and plan read it (executor/apply.h); tests have fakes.
class StateReader {
 public:
  virtual ~StateReader() = default;
  /// What the kernel holds for the lab whose file gives `expected`; sysctls of `also` too.
  virtual State read(const State& expected, const std::map<std::pair<std::string, std::string>, std::string>& also) = 0;
};

/// read_state for one lab.
class KernelReader : public StateReader {
 public:
  explicit KernelReader(std::string lab) : lab_(std::move(lab)) {}
  State read(const State& expected, const std::map<std::pair<std::string, std::string>, std::string>& also) override {
    return read_state(expected, lab_, also);
  }

 private:
  std::string lab_;
};

}  // namespace topo
