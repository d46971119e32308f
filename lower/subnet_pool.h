// Address allocation on one subnet: the gateway takes the first host address, members the
// next free ones in order, skipping those the file gives explicitly.
#pragma once

#include <cstdint>
#include <optional>
#include <set>

#include "parser/address.h"

namespace topo {

/// The address `base` plus `n`, carrying across bytes from the last one (no wrap check).
IpAddress plus(IpAddress base, uint64_t n);

class SubnetPool {
 public:
  /// With `gateway`, the first host address is taken from the start.
  SubnetPool(const IpPrefix& subnet, bool gateway);

  /// The first host address (a /31, /32, /127 or /128's first address; otherwise IPv6's
  /// network address is the subnet-router anycast, so ::1).
  IpAddress gateway() const { return nth(0); }
  /// How many host addresses the subnet has, the gateway's included (capped: IPv6 subnets are
  /// counted up to 2^64).
  uint64_t hosts() const { return hosts_; }
  /// Marks an address as taken (the gateway's, or one a member gives itself).
  void take(const IpAddress& a) { taken_.insert(a); }
  /// The next address not taken, in order; nullopt when the subnet is full.
  std::optional<IpAddress> next();
  /// The subnet's length on an interface address: "172.20.0.5/24".
  IpPrefix on_link(const IpAddress& a) const { return {a, subnet_.length}; }

 private:
  IpAddress nth(uint64_t i) const;  // the i-th host address, from 0

  IpPrefix subnet_;
  uint64_t hosts_ = 0;
  uint64_t cursor_ = 0;
  std::set<IpAddress> taken_;
};

}  // namespace topo
