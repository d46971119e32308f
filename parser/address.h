// IP addresses, prefixes and MAC addresses as values, parsed strictly and printed canonically.
#pragma once

#include <fmt/format.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace topo {

enum class Family { v4, v6 };

std::string_view family_name(Family f);  // "IPv4" / "IPv6"

struct IpAddress {
  Family family = Family::v4;
  std::array<uint8_t, 16> bytes{};  // network order; IPv4 uses the first 4

  size_t size() const { return family == Family::v4 ? 4 : 16; }
  bool is_multicast() const;
  bool is_unspecified() const;
  bool is_link_local() const;  // fe80::/10 (IPv4 169.254/16 is treated as ordinary)
  friend auto operator<=>(const IpAddress&, const IpAddress&) = default;
};

/// An address with a prefix length: an interface address ("10.0.0.2/24") or a
/// network ("10.0.0.0/24").
struct IpPrefix {
  IpAddress address;
  int length = 0;

  int max_length() const { return address.family == Family::v4 ? 32 : 128; }
  /// True when the bits past the prefix length are all zero (a network, not a host).
  bool is_network() const;
  /// The address with the host bits cleared.
  IpAddress network() const;
  /// True when `a` is inside this prefix.
  bool contains(const IpAddress& a) const;
  /// True when the two share an address: one contains the other's network.
  bool overlaps(const IpPrefix& o) const { return contains(o.address) || o.contains(address); }
  /// IPv4 only: the host part is all zeros or all ones on a subnet with a broadcast address.
  bool is_network_or_broadcast_host() const;
  /// IPv4 only: the subnet's broadcast address (host bits all ones), which /31 and /32 lack.
  std::optional<IpAddress> broadcast() const;
  friend auto operator<=>(const IpPrefix&, const IpPrefix&) = default;
};

struct MacAddress {
  std::array<uint8_t, 6> bytes{};
  bool is_multicast() const { return bytes[0] & 1; }
  bool is_zero() const;
  friend auto operator<=>(const MacAddress&, const MacAddress&) = default;
};

/// Each parser returns nullopt on anything but the exact form (no spaces, no zone ids).
std::optional<IpAddress> parse_ip(std::string_view text);
std::optional<IpPrefix> parse_prefix(std::string_view text);  // the "/len" is required
std::optional<MacAddress> parse_mac(std::string_view text);   // "02:00:00:00:00:01"

std::string to_string(const IpAddress& a);
std::string to_string(const IpPrefix& p);
std::string to_string(const MacAddress& m);

}  // namespace topo

template <>
struct fmt::formatter<topo::IpAddress> : fmt::formatter<std::string_view> {
  auto format(const topo::IpAddress& a, format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(topo::to_string(a), ctx);
  }
};
template <>
struct fmt::formatter<topo::IpPrefix> : fmt::formatter<std::string_view> {
  auto format(const topo::IpPrefix& p, format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(topo::to_string(p), ctx);
  }
};
template <>
struct fmt::formatter<topo::MacAddress> : fmt::formatter<std::string_view> {
  auto format(const topo::MacAddress& m, format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(topo::to_string(m), ctx);
  }
};
