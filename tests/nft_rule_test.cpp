// The nftables rule encoding without a kernel: every rule shape topo makes is encoded into
// netlink bytes as a batch carries them, parsed back as a dump gives them, and decoded; it
// must come back as the same rule (the reader then sees what the planner made, and a plan
// after apply is empty). The kernel tests compare the same rules with nft's own.
#include <catch2/catch.hpp>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include <vector>

#include "executor/nft.h"
#include "planner/expected.h"
#include "planner/render_text.h"
#include "tests/lab_text.h"
#include "tests/rule_shapes.h"

using namespace topo::test;

namespace {

// `r` through the wire: encoded into a NEWRULE message, parsed back, decoded.
NftRule round_trip(const NftRule& r) {
  nft::Rule out(nftnl_rule_alloc());
  REQUIRE(out);
  nftnl_rule_set_u32(out.get(), NFTNL_RULE_FAMILY, NFPROTO_INET);
  nftnl_rule_set_str(out.get(), NFTNL_RULE_TABLE, "topo-rich");
  nftnl_rule_set_str(out.get(), NFTNL_RULE_CHAIN, "c");
  nft::encode(r, out.get());
  std::vector<char> buf(1 << 16);
  nlmsghdr* h = nftnl_nlmsg_build_hdr(buf.data(), NFT_MSG_NEWRULE, NFPROTO_INET, NLM_F_CREATE, 1);
  nftnl_rule_nlmsg_build_payload(h, out.get());
  nft::Rule in(nftnl_rule_alloc());
  REQUIRE(in);
  REQUIRE(nftnl_rule_nlmsg_parse(h, in.get()) == 0);
  return nft::decode(in.get());
}

// Every rule of every table the lab's file makes, with where it is.
std::vector<std::pair<std::string, NftRule>> rules_of(const char* toml) {
  std::vector<std::pair<std::string, NftRule>> out;
  State s = expected_state(lab(toml));
  for (const auto& [name, ns] : s.namespaces)
    if (ns.nat)
      for (const NftChain& c : ns.nat->chains)
        for (size_t i = 0; i < c.rules.size(); ++i)
          out.emplace_back(name + " " + c.name + " rule " + std::to_string(i + 1), c.rules[i]);
  return out;
}

// Each of `rules` comes back from the wire as it was, and as a rule topo makes.
void check_round_trips(const std::vector<std::pair<std::string, NftRule>>& rules) {
  for (const auto& [where, r] : rules) {
    INFO(where);
    NftRule back = round_trip(r);
    CHECK(back.foreign == "");
    CHECK(back == r);
  }
}

}  // namespace

TEST_CASE("nft rules: every NAT shape comes back from its netlink encoding as it was", "[nat]") {
  auto rules = rules_of(kNatShapes);
  CHECK(rules.size() >= 14);
  check_round_trips(rules);
}

TEST_CASE("nft rules: every filter shape comes back from its netlink encoding as it was", "[filter]") {
  auto rules = rules_of(kFilterShapes);
  CHECK(rules.size() >= 7);
  check_round_trips(rules);
}

TEST_CASE("nft rules: a rule topo would not make decodes as foreign, saying what it is", "[nat]") {
  nft::Rule rule(nftnl_rule_alloc());
  REQUIRE(rule);
  nftnl_rule_set_u32(rule.get(), NFTNL_RULE_FAMILY, NFPROTO_INET);
  nft::Expr counter(nftnl_expr_alloc("counter"));
  REQUIRE(counter);
  nftnl_rule_add_expr(rule.get(), counter.release());
  NftRule r = nft::decode(rule.get());
  CHECK(r.kind == RuleKind::foreign);
  CHECK(r.foreign != "");
}
