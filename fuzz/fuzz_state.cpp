// libFuzzer target: any bytes as the kernel's answers to the state reader. The kernel's
// answers are input too: an adopted namespace (a container's) can name and set up its links
// anyhow, and the reader must neither crash nor read out of bounds on them.
//
// The first byte says which answer. Even: the rest is a namespace's link, address and route
// dumps, decoded by decode_dump (the decoders read_state runs); the namespace decoded is put
// in a fixture kernel as the lab's "red", planned against, from the lab and to nothing, each
// plan rendered, and shown. Odd: the rest spells an nftables rule (fuzz/rule_program.h),
// decoded by nft::decode as the reader decodes the lab's table; a rule topo would make must
// come back the same through its encoding.
//
// Crashes, sanitizer reports and broken invariants are findings; scripts/fuzz.sh runs it.
// libnl is Debian's, not instrumented: a read past a message inside it is caught only
// where it leaves the message's allocation (decode_dump copies each into one of its exact
// length).
// glibc's headers first: they tell the kernel's headers which definitions they already have.
#include <net/if.h>
#include <netinet/in.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netlink.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "executor/decode_state.h"
#include "executor/nft.h"
#include "fuzz/invariant.h"
#include "fuzz/rule_program.h"
#include "parser/load.h"
#include "planner/diff.h"
#include "planner/expected.h"
#include "planner/nat.h"
#include "planner/plan.h"
#include "planner/render_json.h"
#include "planner/render_shell.h"
#include "planner/render_show.h"
#include "planner/render_text.h"
#include "tests/states.h"

using namespace topo;

namespace {

// The lab the decoded namespace is planned against: one of each kind topo makes there.
const char* kLab = R"(
lab = "web"
[[netns]]
name = "red"
[[bridge]]
netns = "red"
name = "br0"
addresses = ["10.0.1.1/24"]
[[veth]]
a = { netns = "red", name = "eth0", addresses = ["10.0.0.2/24", "2001:db8::2/64"], master = "br0" }
b = { netns = "red", name = "eth1" }
[[vxlan]]
netns = "red"
name = "vx0"
id = 42
group = "239.1.1.1"
dev = "eth1"
[[macvlan]]
netns = "red"
name = "mv0"
parent = "eth1"
[[route]]
netns = "red"
to = "default"
via = "10.0.1.9"
)";

const State& expected() {
  static const State s = [] {
    LoadedLab loaded = load_lab_text("fuzz.toml", kLab);
    require(loaded.ok(), "the fuzz target's lab validates", loaded.report());
    return expected_state(*loaded.lab);
  }();
  return s;
}

void render_all(const Plan& p, const State& want) {
  size_t n = plan_text(p).size() + plan_json(p, "web").size() + plan_shell(p, want, "web").size();
  for (const Step& s : p.steps) n += describe(s).size() + describe(s.inverse()).size();
  require(n > 0, "a plan renders as something", "");
}

void plan_against(const DecodedDump& d) {
  State observed = test::empty_kernel();
  NamespaceState& red = observed.namespaces["red"];
  red.exists = true;
  red.mark = d.ns.mark;
  for (const RawLink& l : d.ns.links) red.links.push_back(l.state);
  // As read_state leaves them: by name.
  std::stable_sort(red.links.begin(), red.links.end(),
                   [](const LinkState& a, const LinkState& b) { return a.name < b.name; });
  red.routes = d.ns.routes;
  render_all(make_plan(diff(expected(), observed, "web")), expected());
  render_all(make_plan(diff(destroyed_state(), observed, "web")), destroyed_state());
  State view = lab_view(observed, "web", {});
  require(!show_text(view, "web").empty() && !show_json(view, "web").empty(), "show renders", "");
}

// `r` through its encoding and back, as the nft rule tests do.
NftRule round_trip(const NftRule& r) {
  nft::Rule out(nftnl_rule_alloc());
  nftnl_rule_set_u32(out.get(), NFTNL_RULE_FAMILY, NFPROTO_INET);
  nftnl_rule_set_str(out.get(), NFTNL_RULE_TABLE, "topo-web");
  nftnl_rule_set_str(out.get(), NFTNL_RULE_CHAIN, "c");
  nft::encode(r, out.get());
  std::vector<char> buf(1 << 16);
  nlmsghdr* h = nftnl_nlmsg_build_hdr(buf.data(), NFT_MSG_NEWRULE, NFPROTO_INET, NLM_F_CREATE, 1);
  nftnl_rule_nlmsg_build_payload(h, out.get());
  nft::Rule in(nftnl_rule_alloc());
  require(nftnl_rule_nlmsg_parse(h, in.get()) == 0, "a rule topo encodes parses", "");
  return nft::decode(in.get());
}

// A rule built from the bytes (fuzz/rule_program.h), decoded as the reader decodes the
// lab's table.
void decode_rule(std::span<const std::byte> bytes) {
  nft::Rule rule(nftnl_rule_alloc());
  if (!rule) std::abort();
  fuzz::build_rule(bytes, rule.get());
  NftRule decoded = nft::decode(rule.get());
  require(decoded.kind != RuleKind::foreign || !decoded.foreign.empty(), "a foreign rule says what it is", "");
  if (decoded.kind == RuleKind::foreign) return;
  NftRule again = round_trip(decoded);
  require(again == decoded, "a rule topo would make comes back the same through its encoding",
          describe(decoded) + "\n" + describe(again));
}

}  // namespace

// The first byte says what the rest is: odd, a rule; even, dump answers.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data) + 1, size - 1);
  if (data[0] & 1) {
    decode_rule(bytes);
    return 0;
  }
  DecodedDump d = decode_dump(bytes, "red");
  for (const DumpError& e : d.errors) require(e.offset < bytes.size(), "an error is at a message", "");
  plan_against(d);
  return 0;
}
