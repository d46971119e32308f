#include "lower/subnet_pool.h"

namespace topo {

IpAddress plus(IpAddress base, uint64_t n) {
  for (size_t i = base.size(); i-- > 0 && n;) {
    uint64_t sum = base.bytes[i] + (n & 0xff);
    base.bytes[i] = static_cast<uint8_t>(sum);
    n = (n >> 8) + (sum >> 8);
  }
  return base;
}

SubnetPool::SubnetPool(const IpPrefix& subnet, bool gateway) : subnet_(subnet) {
  int host_bits = subnet.max_length() - subnet.length;
  uint64_t size = host_bits >= 64 ? UINT64_MAX : (uint64_t{1} << host_bits);
  if (host_bits <= 1)
    hosts_ = size;  // a /31 or /127 (RFC 3021, 6164) has no network, broadcast or anycast address
  else if (subnet.address.family == Family::v4)
    hosts_ = size - 2;
  else
    hosts_ = size - 1;  // the network address is the subnet-router anycast address
  if (gateway) take(this->gateway());
}

IpAddress SubnetPool::nth(uint64_t i) const {
  int host_bits = subnet_.max_length() - subnet_.length;
  bool skip_network = host_bits > 1;
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
