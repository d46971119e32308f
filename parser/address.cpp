#include "parser/address.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

namespace topo {

std::string_view family_name(Family f) { return f == Family::v4 ? "IPv4" : "IPv6"; }

bool IpAddress::is_multicast() const { return family == Family::v4 ? (bytes[0] & 0xF0) == 0xE0 : bytes[0] == 0xFF; }

bool IpAddress::is_unspecified() const {
  return std::all_of(bytes.begin(), bytes.begin() + static_cast<long>(size()), [](uint8_t b) { return b == 0; });
}

bool IpAddress::is_link_local() const { return family == Family::v6 && bytes[0] == 0xFE && (bytes[1] & 0xC0) == 0x80; }

namespace {

// Bit `i` (0 = most significant) of the address.
bool bit(const IpAddress& a, int i) { return (a.bytes[static_cast<size_t>(i / 8)] >> (7 - i % 8)) & 1; }

}  // namespace

bool IpPrefix::is_network() const { return network() == address; }

IpAddress IpPrefix::network() const {
  IpAddress n = address;
  for (int i = length; i < max_length(); ++i)
    n.bytes[static_cast<size_t>(i / 8)] &= static_cast<uint8_t>(~(0x80 >> (i % 8)));
  return n;
}

bool IpPrefix::contains(const IpAddress& a) const {
  if (a.family != address.family) return false;
  for (int i = 0; i < length; ++i)
    if (bit(a, i) != bit(address, i)) return false;
  return true;
}

bool IpPrefix::is_network_or_broadcast_host() const {
  if (address.family != Family::v4 || length >= 31) return false;
  bool all_zero = true, all_one = true;
  for (int i = length; i < 32; ++i) (bit(address, i) ? all_zero : all_one) = false;
  return all_zero || all_one;
}

std::optional<IpAddress> IpPrefix::broadcast() const {
  if (address.family != Family::v4 || length >= 31) return std::nullopt;
  IpAddress b = address;
  for (int i = length; i < 32; ++i) b.bytes[static_cast<size_t>(i / 8)] |= static_cast<uint8_t>(0x80 >> (i % 8));
  return b;
}

bool MacAddress::is_zero() const {
  return std::all_of(bytes.begin(), bytes.end(), [](uint8_t b) { return b == 0; });
}

std::optional<IpAddress> parse_ip(std::string_view text) {
  // inet_pton needs a NUL-terminated string and must not see embedded NULs.
  if (text.empty() || text.size() > 45 || text.find('\0') != std::string_view::npos) return {};
  std::string s(text);
  IpAddress a;
  if (s.find(':') == std::string::npos) {
    a.family = Family::v4;
    if (inet_pton(AF_INET, s.c_str(), a.bytes.data()) != 1) return {};
  } else {
    a.family = Family::v6;
    if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) != 1) return {};
  }
  return a;
}

std::optional<IpPrefix> parse_prefix(std::string_view text) {
  auto slash = text.find('/');
  if (slash == std::string_view::npos) return {};
  auto addr = parse_ip(text.substr(0, slash));
  if (!addr) return {};
  std::string_view len = text.substr(slash + 1);
  // Only plain decimal: "24", not "+24", " 24" or "024".
  if (len.empty() || len.size() > 3 || (len.size() > 1 && len[0] == '0')) return {};
  int n = 0;
  auto [end, ec] = std::from_chars(len.data(), len.data() + len.size(), n);
  if (ec != std::errc() || end != len.data() + len.size()) return {};
  IpPrefix p{*addr, n};
  if (n < 0 || n > p.max_length()) return {};
  return p;
}

std::optional<MacAddress> parse_mac(std::string_view text) {
  if (text.size() != 17) return {};
  MacAddress m;
  for (size_t i = 0; i < 6; ++i) {
    std::string_view octet = text.substr(i * 3, 2);
    if (i < 5 && text[i * 3 + 2] != ':') return {};
    unsigned v = 0;
    auto [end, ec] = std::from_chars(octet.data(), octet.data() + 2, v, 16);
    if (ec != std::errc() || end != octet.data() + 2) return {};
    m.bytes[i] = static_cast<uint8_t>(v);
  }
  return m;
}

std::string to_string(const IpAddress& a) {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(a.family == Family::v4 ? AF_INET : AF_INET6, a.bytes.data(), buf, sizeof buf);
  return buf;
}

std::string to_string(const IpPrefix& p) { return to_string(p.address) + "/" + std::to_string(p.length); }

std::string to_string(const MacAddress& m) {
  return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", m.bytes[0], m.bytes[1], m.bytes[2], m.bytes[3],
                     m.bytes[4], m.bytes[5]);
}

}  // namespace topo
