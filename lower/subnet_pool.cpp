#include "lower/subnet_pool.h"

namespace topo {
namespace {

// The address `base` plus `n`, carrying across bytes from the last one.
IpAddress plus(IpAddress base, uint64_t n) {
  for (size_t i = base.size(); i-- > 0 && n;) {
    uint64_t sum = base.bytes[i] + (n & 0xff);
    base.bytes[i] = static_cast<uint8_t>(sum);
    n = (n >> 8) + (sum >> 8);
  }
  return base;
}

}  // namespace

SubnetPool::SubnetPool(const IpPrefix& subnet, bool gateway) : subnet_(subnet) {
  int host_bits = subnet.max_length() - subnet.length;
  uint64_t size = host_bits >= 64 ? UINT64_MAX : (uint64_t{1} << host_bits);
  if (subnet.address.family == Family::v4)
    hosts_ = host_bits <= 1 ? size : size - 2;  // a /31 or /32 has no network and broadcast address
  else
    hosts_ = size - 1;  // the network address is the subnet-router anycast address
  if (gateway) take(this->gateway());
}

IpAddress SubnetPool::nth(uint64_t i) const {
  int host_bits = subnet_.max_length() - subnet_.length;
  bool skip_network = subnet_.address.family == Family::v6 || host_bits > 1;
  return plus(subnet_.network(), i + (skip_network ? 1 : 0));
}

std::optional<IpAddress> SubnetPool::next() {
  while (cursor_ < hosts_) {
    IpAddress a = nth(cursor_++);
    if (taken_.insert(a).second) return a;
  }
  return std::nullopt;
}

}  // namespace topo
