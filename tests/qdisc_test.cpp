// Link impairments (`shape`): the file's words read as tc reads them, the requests byte for
// byte what tc sends for the same words (tests/qdisc/tc-bytes.txt, made by
// scripts/tc-bytes.sh from Debian's tc), what the kernel dumps read back, and the plans.
#include <fmt/format.h>
#include <linux/netlink.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <fstream>
#include <map>

#include "executor/qdisc_message.h"
#include "parser/shape.h"
#include "planner/expected.h"
#include "planner/render_json.h"
#include "planner/render_shell.h"
#include "planner/render_text.h"
#include "tests/files.h"
#include "tests/lab_text.h"
#include "tests/plans.h"
#include "tests/states.h"

using namespace topo;
using namespace topo::test;

namespace {

// A lab of one veth whose end a has the shape `keys` (an inline table's inside).
std::string shaped(const std::string& keys) {
  return fmt::format(
      "lab = \"wan\"\n[[netns]]\nname = \"r1\"\n[[netns]]\nname = \"r2\"\n[[veth]]\n"
      "a = {{ netns = \"r1\", name = \"wan0\", addresses = [\"10.9.0.1/31\"]{} }}\n"
      "b = {{ netns = \"r2\", name = \"wan0\", addresses = [\"10.9.0.0/31\"] }}\n",
      keys.empty() ? "" : ", shape = { " + keys + " }");
}

Qdisc qdisc_of_keys(const std::string& keys) {
  Lab l = lab(shaped(keys));
  REQUIRE(l.interfaces.at(0).shape);
  return qdisc_of(l.interfaces.at(0).shape->value);
}

std::string hex(std::span<const std::byte> bytes) {
  std::string out;
  for (std::byte b : bytes) out += fmt::format("{:02x}", static_cast<unsigned>(b));
  return out;
}

// tc's bytes by its words, from the file scripts/tc-bytes.sh made.
std::map<std::string, std::string> tc_bytes() {
  std::ifstream in(source_dir() / "tests/qdisc/tc-bytes.txt");
  std::map<std::string, std::string> out;
  for (std::string line; std::getline(in, line);) {
    size_t bar = line.find(" | ");
    if (bar != std::string::npos) out[line.substr(0, bar)] = line.substr(bar + 3);
  }
  return out;
}

// The file's words -> tc's words for them (what the shell plan writes).
const std::pair<const char*, const char*> kShapes[] = {
    {R"(rate = "20mbit")", "tbf rate 20000000bit burst 25000 limit 150000"},
    {R"(rate = "1kbit")", "tbf rate 1000bit burst 15000 limit 15006"},
    {R"(rate = "1.5mbps")", "tbf rate 12000000bit burst 15000 limit 90000"},
    {R"(rate = "40gbit")", "tbf rate 40000000000bit burst 50000000 limit 300000000"},
    {R"(rate = "100gbit")", "tbf rate 100000000000bit burst 125000000 limit 750000000"},
    {R"(rate = "3kibit")", "tbf rate 3072bit burst 15000 limit 15019"},
    {R"(delay = "40ms", jitter = "5ms", loss = "0.5%")", "netem delay 40000us 5000us loss 0.5% limit 1000"},
    {R"(delay = "40ms", rate = "10mbit")", "netem delay 40000us limit 1000 rate 10000000bit"},
    {R"(delay = "10ms", reorder = "25%", duplicate = "1%", corrupt = "0.1%", limit = 500)",
     "netem delay 10000us duplicate 1% corrupt 0.1% reorder 25% limit 500"},
    {R"(delay = "10ms", jitter = "1ms", loss = "2%", duplicate = "1%", corrupt = "0.1%", reorder = "25%", limit = 500, rate = "10mbit")",
     "netem delay 10000us 1000us loss 2% duplicate 1% corrupt 0.1% reorder 25% limit 500 rate 10000000bit"},
    {R"(delay = "250us")", "netem delay 250us limit 1000"},
    {R"(delay = "1s", rate = "40gbit")", "netem delay 1000000us limit 1000 rate 40000000000bit"},
    {R"(delay = "60s")", "netem delay 60000000us limit 1000"},
    {R"(loss = "0.0001%")", "netem loss 0.0001% limit 1000"},
    {R"(loss = "100%")", "netem loss 100% limit 1000"},
    {R"(limit = 100)", "netem limit 100"},
};

// The plan from `observed` to `expected`, for lab "wan".
Plan plan_of(const State& expected, const State& observed) { return make_plan(diff(expected, observed, "wan")); }

// A kernel's dump message of the root qdisc `q` of link 7 (handle 8001:): the request's
// kind and options, as a dump carries them too.
std::vector<std::byte> dumped(const Qdisc& q, uint32_t handle = 0x80010000, uint32_t parent = TC_H_ROOT) {
  std::vector<std::byte> m = qdisc_request(7, q);
  nlmsghdr h;
  std::memcpy(&h, m.data(), sizeof h);
  h.nlmsg_flags = NLM_F_MULTI;
  std::memcpy(m.data(), &h, sizeof h);
  tcmsg t;
  std::memcpy(&t, m.data() + NLMSG_HDRLEN, sizeof t);
  t.tcm_handle = handle;
  t.tcm_parent = parent;
  std::memcpy(m.data() + NLMSG_HDRLEN, &t, sizeof t);
  return m;
}

}  // namespace

TEST_CASE("shape: rates, times and percentages read as tc reads them", "[shape]") {
  CHECK(parse_rate("10mbit") == 1'250'000);
  CHECK(parse_rate("10Mbit") == 1'250'000);
  CHECK(parse_rate("1.5mbit") == 187'500);
  CHECK(parse_rate("1kibit") == 128);
  CHECK(parse_rate("1mbps") == 1'000'000);  // tc: bytes per second
  CHECK(parse_rate("1001bit") == 125);      // cut to whole bytes
  CHECK(parse_rate("10") == std::nullopt);  // no unit
  CHECK(parse_rate("10mbits") == std::nullopt);
  CHECK(parse_rate("mbit") == std::nullopt);
  CHECK(parse_rate("1.mbit") == std::nullopt);
  CHECK(parse_time("40ms") == 40'000);
  CHECK(parse_time("1.5ms") == 1'500);
  CHECK(parse_time("2s") == 2'000'000);
  CHECK(parse_time("250us") == 250);
  CHECK(parse_time("0.5us") == std::nullopt);  // whole microseconds
  CHECK(parse_time("40") == std::nullopt);
  CHECK(parse_percent("0.5%") == 5'000);
  CHECK(parse_percent("100%") == 1'000'000);
  CHECK(parse_percent("0.0001%") == 1);
  CHECK(parse_percent("0.00001%") == std::nullopt);
  CHECK(parse_percent("100.1%") == std::nullopt);
  CHECK(parse_percent("5") == std::nullopt);
  CHECK(rate_text(1'250'000) == "10mbit");
  CHECK(rate_text(187'500) == "1500kbit");
  CHECK(rate_text(125) == "1kbit");
  CHECK(rate_text(1) == "8bit");
  CHECK(time_text(40'000) == "40ms");
  CHECK(time_text(1'500) == "1.5ms");
  CHECK(time_text(2'000'000) == "2s");
  CHECK(time_text(250) == "250us");
  CHECK(percent_text(5'000) == "0.5%");
  CHECK(percent_text(1) == "0.0001%");
}

TEST_CASE("shape: each value out of its rules is an error at it, all at once", "[shape]") {
  CHECK(
      errors(shaped(R"(rate = "10mbits", delay = "40", loss = "0.00001%", limt = 5)")) ==
      std::vector<std::string>{
          "7:82: 'rate' in [[veth]] end 'a' shape is \"10mbits\": not a rate: a number and a unit, bit, kbit, mbit, "
          "gbit (or bps, kbps, mbps, gbps: bytes per second), like \"10mbit\"",
          "7:101: 'delay' in [[veth]] end 'a' shape is \"40\": not a time: a number and a unit, s, ms or us, in whole "
          "microseconds, like \"40ms\"",
          "7:114: 'loss' in [[veth]] end 'a' shape is \"0.00001%\": not a percentage: 0% to 100% with at most four "
          "decimals, like \"0.5%\"",
          "7:126: unknown key 'limt' in [[veth]] end 'a' shape (did you mean 'limit'?)"});
  CHECK(errors(shaped(R"(rate = "100tbit", delay = "2min")")).size() == 2);
  CHECK(errors(shaped(R"(reorder = "1%")")) ==
        std::vector<std::string>{"7:75: 'reorder' in [[veth]] end 'a' shape needs a 'delay': netem reorders packets "
                                 "only as it delays them"});
  CHECK(errors(shaped(R"(jitter = "1ms")")) ==
        std::vector<std::string>{"7:75: 'jitter' in [[veth]] end 'a' shape needs a 'delay': netem varies the delay of "
                                 "packets only as it delays them"});
  CHECK(errors(shaped(R"(rate = "5mbit")") + "[[veth]]\na = { name = \"x\", shape = {} }\nb = { name = \"y\" }\n") ==
        std::vector<std::string>{"10:19: 'shape' in [[veth]] end 'a' is empty: give it a rate, a delay, a loss... or "
                                 "leave it out"});
  CHECK(errors(shaped(R"(limit = 0)")) ==
        std::vector<std::string>{"7:83: 'limit' in [[veth]] end 'a' shape is 0; it must be between 1 and 10000000"});
}

TEST_CASE("shape: each shape is asked for with the very bytes tc sends for its words", "[shape]") {
  std::map<std::string, std::string> tc = tc_bytes();
  REQUIRE(tc.size() == std::size(kShapes));
  for (const auto& [keys, words] : kShapes) {
    INFO(keys);
    Qdisc q = qdisc_of_keys(keys);
    CHECK(fmt::format("{}", fmt::join(tc_words(q), " ")) == words);
    std::vector<std::byte> request = qdisc_request(7, q);
    nlmsghdr h;
    tcmsg t;
    std::memcpy(&h, request.data(), sizeof h);
    std::memcpy(&t, request.data() + NLMSG_HDRLEN, sizeof t);
    CHECK(h.nlmsg_len == request.size());
    CHECK(h.nlmsg_type == RTM_NEWQDISC);
    CHECK(h.nlmsg_flags == (NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE));  // tc qdisc replace
    CHECK(t.tcm_ifindex == 7);
    CHECK(t.tcm_parent == TC_H_ROOT);
    CHECK(t.tcm_handle == 0);
    CHECK(hex(std::span(request).subspan(NLMSG_LENGTH(sizeof(tcmsg)))) == tc[words]);
  }
}

TEST_CASE("shape: a tbf's bucket holds a whole frame of its link", "[shape]") {
  Shape s;
  s.rate = 125'000;  // 1mbit: 10 ms of it is 1250 bytes
  CHECK(std::get<TbfQdisc>(qdisc_of(s)).burst == 15'000);
  CHECK(std::get<TbfQdisc>(qdisc_of(s, 9000)).burst == 15'000);
  auto jumbo = std::get<TbfQdisc>(qdisc_of(s, 65535));
  CHECK(jumbo.burst == 65'549);  // the mtu and an ethernet header: tbf drops what does not fit
  CHECK(jumbo.limit == 6'250 + 65'549);
  CHECK(tbf_is_topos(jumbo));
  CHECK(describe(Qdisc(jumbo)) == "rate 1mbit");
  jumbo.limit += 1;  // by hand
  CHECK(describe(Qdisc(jumbo)) == "rate 1mbit bucket 524.392ms limit 71800b");
}

TEST_CASE("shape: deleting a root qdisc is tc qdisc del dev X root", "[shape]") {
  std::vector<std::byte> request = qdisc_request(3, std::nullopt, 9);
  CHECK(hex(request) ==
        "24000000"
        "2500"
        "0500"
        "09000000"
        "00000000"  // RTM_DELQDISC, REQUEST | ACK, seq 9
        "00000000"
        "03000000"
        "00000000"
        "ffffffff"
        "00000000");
}

TEST_CASE("shape: what the kernel dumps reads back as the qdisc it was asked for", "[shape]") {
  for (const auto& [keys, words] : kShapes) {
    INFO(keys);
    Qdisc q = qdisc_of_keys(keys);
    if (auto* t = std::get_if<TbfQdisc>(&q)) t->burst = 0;  // as read: the bucket's time alone
    auto root = decode_qdisc(dumped(q));
    REQUIRE(root);
    CHECK(root->ifindex == 7);
    CHECK(root->qdisc == q);
    CHECK(shape_of(root->qdisc) == shape_of(q));
  }
  // The kernel's own: its default (handle 0), a child's, ingress.
  CHECK_FALSE(decode_qdisc(dumped(qdisc_of_keys(R"(rate = "1mbit")"), 0)));
  CHECK_FALSE(decode_qdisc(dumped(qdisc_of_keys(R"(rate = "1mbit")"), 0x80020000, 0x80010001)));
  CHECK_FALSE(decode_qdisc(dumped(qdisc_of_keys(R"(rate = "1mbit")"), 0xffff0000, TC_H_INGRESS)));
  // A kind topo does not make, and one with settings it does not make.
  CHECK(decode_qdisc(dumped(OtherQdisc{"fq_codel"}))->qdisc == Qdisc(OtherQdisc{"fq_codel"}));
  NetemQdisc gap;
  gap.delay = 64'000;
  gap.gap = 5;  // a gap without reordering: tc's "gap 5"
  CHECK(decode_qdisc(dumped(gap))->qdisc == Qdisc(OtherQdisc{"netem"}));
  // Truncated anywhere: nothing, or a qdisc of its kind alone; never a read past the end.
  std::vector<std::byte> whole = dumped(qdisc_of_keys(R"(delay = "1ms", rate = "40gbit")"));
  for (size_t n = 0; n < whole.size(); ++n) {
    std::vector<std::byte> part(whole.begin(), whole.begin() + static_cast<long>(n));
    if (n >= sizeof(nlmsghdr)) {
      uint32_t len = static_cast<uint32_t>(n);
      std::memcpy(part.data(), &len, sizeof len);
    }
    auto root = decode_qdisc(part);
    if (root) CHECK(qdisc_kind(root->qdisc) == "netem");
  }
}

TEST_CASE("shape: the kernel keeps a tbf's bucket as time, and says it back so", "[shape]") {
  // 25000 bytes at 2.5 MB/s are 10 ms: 156250 ticks of 64 ns. tc counts whole microseconds
  // first; the kernel, given the bytes, times them with its reciprocal of the rate.
  CHECK(kernel_ticks(2'500'000, 25'000) == 156'250);
  CHECK(tc_ticks(2'500'000, 25'000) == 156'250);
  CHECK(tc_ticks(125, 15'000) == 1'875'000'000);  // 120 s at 1kbit
  CHECK(kernel_ticks(125, 15'000) == 1'875'000'000);
  CHECK(tc_ticks(3'000'000, 1'000) == 5'203);      // 333 us, cut
  CHECK(kernel_ticks(3'000'000, 1'000) == 5'208);  // 333333 ns
  CHECK(probability(5'000) == 21'474'836);         // tc's 0.5%
  CHECK(ten_thousandths(21'474'836) == 5'000);
  for (uint32_t p : {0u, 1u, 3u, 5'000u, 123'457u, 999'999u, 1'000'000u}) CHECK(ten_thousandths(probability(p)) == p);
}

TEST_CASE("shape: plans say what changes in the file's words, and the shell plan writes tc", "[shape]") {
  State before = applied(expected_state(lab(shaped(R"(rate = "20mbit")"))));
  SECTION("a rate changed: the qdisc alone, in place") {
    Plan p = plan_of(expected_state(lab(shaped(R"(rate = "5mbit")"))), before);
    CHECK(plan_text(p) ==
          "namespace r1\n"
          "  ~ shape wan0: rate 20mbit -> 5mbit\n"
          "\n"
          "Plan: 0 to add, 1 to change, 0 to destroy.\n");
    CHECK(steps_text(p) == "r1: ~ shape wan0: rate 20mbit -> 5mbit\n");
    CHECK(inverses_text(p) == "r1: ~ shape wan0: rate 5mbit -> 20mbit\n");
    CHECK(plan_shell(p, expected_state(lab(shaped(R"(rate = "5mbit")"))), "wan")
              .find("tc -n r1 qdisc replace dev wan0 root tbf rate 5000000bit burst 15000 limit 46250\n") !=
          std::string::npos);
  }
  SECTION("netem instead, then several keys") {
    Plan p = plan_of(expected_state(lab(shaped(R"(delay = "40ms", loss = "1%")"))), before);
    CHECK(steps_text(p) == "r1: ~ shape wan0: rate 20mbit -> delay 40ms loss 1%\n");
    State netem = applied(expected_state(lab(shaped(R"(delay = "40ms", loss = "1%")"))));
    Plan q = plan_of(expected_state(lab(shaped(R"(delay = "20ms", jitter = "2ms", loss = "1%")"))), netem);
    CHECK(steps_text(q) == "r1: ~ shape wan0: delay 40ms -> 20ms, jitter none -> 2ms\n");
    CHECK(plan_json(q, "wan").find(R"("shape":{"qdisc":"netem","delay":"20ms","jitter":"2ms","loss":"1%"})") !=
          std::string::npos);
  }
  SECTION("shape taken out of the file: the kernel's default again") {
    State want = expected_state(lab(shaped("")));
    Plan p = plan_of(want, before);
    CHECK(steps_text(p) == "r1: ~ shape wan0: rate 20mbit -> none\n");
    CHECK(plan_shell(p, want, "wan").find("tc -n r1 qdisc del dev wan0 root\n") != std::string::npos);
  }
  SECTION("with another change of the link, on its line") {
    Plan p = plan_of(expected_state(lab(shaped(R"(rate = "5mbit")") + "mtu = 9000\n")), before);
    CHECK(steps_text(p).find("r1: ~ veth wan0: mtu 1500 -> 9000, shape rate 20mbit -> 5mbit\n") != std::string::npos);
  }
  SECTION("made with the link, and a qdisc someone else put there is a conflict") {
    Plan made = plan_of(expected_state(lab(shaped(R"(rate = "5mbit")"))), empty_kernel());
    CHECK(steps_text(made).find("shape rate 5mbit") != std::string::npos);
    State by_hand = before;
    for (LinkState& l : by_hand.namespaces["r1"].links) l.qdisc = OtherQdisc{"fq"};
    Plan p = plan_of(expected_state(lab(shaped(R"(rate = "5mbit")"))), by_hand);
    REQUIRE(p.conflicts.size() == 1);
    CHECK(p.conflicts[0].message ==
          "interface 'wan0' has a root qdisc fq that topo does not make, and could not put back if the apply failed: "
          "remove it (tc qdisc del dev wan0 root) for the lab's shape");
  }
}
