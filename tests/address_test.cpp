#include <catch2/catch.hpp>

#include "parser/address.h"

using namespace topo;

TEST_CASE("addresses parse strictly and print canonically", "[address]") {
  CHECK(to_string(*parse_ip("10.0.0.1")) == "10.0.0.1");
  CHECK(to_string(*parse_ip("FD00:0::1")) == "fd00::1");
  CHECK_FALSE(parse_ip("10.0.0.256"));
  CHECK_FALSE(parse_ip("10.0.0"));
  CHECK_FALSE(parse_ip(" 10.0.0.1"));
  CHECK_FALSE(parse_ip("fe80::1%eth0"));
  CHECK_FALSE(parse_ip(std::string_view("10.0.0.1\0x", 10)));
  CHECK_FALSE(parse_ip(""));
}

TEST_CASE("prefixes need a plain decimal length within the family's size", "[address]") {
  CHECK(to_string(*parse_prefix("10.0.0.2/24")) == "10.0.0.2/24");
  CHECK(to_string(*parse_prefix("fd00::1/64")) == "fd00::1/64");
  CHECK(parse_prefix("0.0.0.0/0")->length == 0);
  CHECK_FALSE(parse_prefix("10.0.0.2"));
  CHECK_FALSE(parse_prefix("10.0.0.2/33"));
  CHECK_FALSE(parse_prefix("fd00::1/129"));
  CHECK_FALSE(parse_prefix("10.0.0.2/024"));
  CHECK_FALSE(parse_prefix("10.0.0.2/+4"));
  CHECK_FALSE(parse_prefix("10.0.0.2/"));
  CHECK_FALSE(parse_prefix("10.0.0.2/24 "));
}

TEST_CASE("prefix arithmetic", "[address]") {
  IpPrefix host = *parse_prefix("10.0.0.2/24");
  CHECK_FALSE(host.is_network());
  CHECK(to_string(host.network()) == "10.0.0.0");
  CHECK(host.contains(*parse_ip("10.0.0.200")));
  CHECK_FALSE(host.contains(*parse_ip("10.0.1.1")));
  CHECK_FALSE(host.contains(*parse_ip("fd00::1")));
  CHECK(parse_prefix("10.0.0.0/24")->is_network_or_broadcast_host());
  CHECK(parse_prefix("10.0.0.255/24")->is_network_or_broadcast_host());
  CHECK_FALSE(parse_prefix("10.0.0.0/31")->is_network_or_broadcast_host());
  CHECK_FALSE(parse_prefix("fd00::/64")->is_network_or_broadcast_host());
  CHECK(parse_prefix("fd00::1:0/112")->contains(*parse_ip("fd00::1:ff")));
}

TEST_CASE("MAC addresses", "[address]") {
  CHECK(to_string(*parse_mac("02:00:00:AB:cd:01")) == "02:00:00:ab:cd:01");
  CHECK(parse_mac("01:00:5e:00:00:01")->is_multicast());
  CHECK(parse_mac("00:00:00:00:00:00")->is_zero());
  CHECK_FALSE(parse_mac("02:00:00:00:00"));
  CHECK_FALSE(parse_mac("02-00-00-00-00-01"));
  CHECK_FALSE(parse_mac("02:00:00:00:00:0g"));
  CHECK_FALSE(parse_mac("02:00:00:00:00:001"));
}
