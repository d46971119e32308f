#include "planner/qdisc.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "parser/shape.h"

namespace topo {
namespace {

// tc's tick: the kernel's psched tick is 64 ns (PSCHED_SHIFT 6), which tc reads from
// /proc/net/psched as 15.625 ticks a microsecond.
constexpr double kTicksPerMicrosecond = 15.625;

// The bucket and queue topo gives a rate (docs/format.md): 10 ms of the rate (tc-tbf(8): at
// least rate/HZ), at least ten full frames; and 50 ms of the rate waiting at most.
constexpr uint64_t kMinBurst = 15000;
constexpr uint64_t kEthernetHeader = 14;
uint32_t burst_for(uint64_t rate, int64_t mtu) {
  uint64_t frame = mtu > 0 ? static_cast<uint64_t>(mtu) + kEthernetHeader : 0;
  return static_cast<uint32_t>(std::max({rate / 100, kMinBurst, frame}));
}
uint32_t limit_for(uint64_t rate, int64_t mtu) {
  return static_cast<uint32_t>(rate * 50 / 1000 + burst_for(rate, mtu));
}

uint64_t microseconds(uint64_t ns) { return (ns + 500) / 1000; }

// A tbf whose bucket or queue is not what topo gives its rate: said too.
std::string tbf_extra(const TbfQdisc& t) {
  if (tbf_is_topos(t)) return "";
  return fmt::format(" bucket {} limit {}b", time_text(microseconds(uint64_t{t.buffer} * 64)), t.limit);
}

}  // namespace

std::string qdisc_kind(const Qdisc& q) {
  if (std::holds_alternative<TbfQdisc>(q)) return "tbf";
  if (std::holds_alternative<NetemQdisc>(q)) return "netem";
  return std::get<OtherQdisc>(q).kind;
}

uint32_t tc_ticks(uint64_t rate, uint64_t size) {
  auto us = static_cast<uint32_t>(1e6 * (static_cast<double>(size) / static_cast<double>(rate)));
  return static_cast<uint32_t>(us * kTicksPerMicrosecond);
}

uint32_t kernel_ticks(uint64_t rate, uint32_t burst) {
  // psched_ratecfg_precompute: time = len * mult >> shift, mult as large as fits 32 bits.
  uint64_t factor = 1'000'000'000;
  uint32_t mult = 1, shift = 0;
  for (;;) {
    mult = static_cast<uint32_t>(factor / rate);
    if ((mult & (1u << 31)) || (factor & (1ull << 63))) break;
    factor <<= 1;
    ++shift;
  }
  uint64_t ns = (uint64_t{burst} * mult) >> shift;
  return static_cast<uint32_t>(ns >> 6);
}

uint32_t probability(uint32_t ten_thousandths) {
  // tc's get_percent: the percentage over 100, times UINT32_MAX, rounded to even.
  double percent = ten_thousandths / 10000.0;
  return static_cast<uint32_t>(std::rint(percent / 100. * UINT32_MAX));
}

uint32_t ten_thousandths(uint32_t probability) {
  return static_cast<uint32_t>(std::llround(static_cast<double>(probability) * 1e6 / UINT32_MAX));
}

Qdisc qdisc_of(const Shape& s, int64_t mtu) {
  if (!s.netem()) {
    TbfQdisc t;
    t.rate = *s.rate;
    t.burst = burst_for(t.rate, mtu);
    t.buffer = kernel_ticks(t.rate, t.burst);
    t.limit = limit_for(t.rate, mtu);
    return t;
  }
  NetemQdisc n;
  auto ns = [](std::optional<uint64_t> us) {
    return us ? uint64_t{static_cast<uint32_t>(static_cast<double>(*us) * kTicksPerMicrosecond)} * 64 : 0;
  };
  auto p = [](std::optional<uint32_t> v) { return v ? probability(*v) : 0; };
  n.delay = ns(s.delay);
  n.jitter = ns(s.jitter);
  n.limit = s.limit.value_or(1000);
  n.loss = p(s.loss);
  n.duplicate = p(s.duplicate);
  n.corrupt = p(s.corrupt);
  n.reorder = p(s.reorder);
  n.gap = n.reorder ? 1 : 0;
  n.rate = s.rate.value_or(0);
  return n;
}

bool tbf_is_topos(const TbfQdisc& t) {
  // The queue is 50 ms of the rate more than the bucket, and the bucket topo's for no mtu
  // or a larger one.
  uint64_t queue = t.rate * 50 / 1000;
  if (!t.rate || t.limit < queue) return false;
  uint64_t burst = t.limit - queue;
  return burst >= burst_for(t.rate, 0) && burst <= UINT32_MAX &&
         t.buffer == kernel_ticks(t.rate, static_cast<uint32_t>(burst));
}

std::optional<Shape> shape_of(const Qdisc& q) {
  Shape s;
  if (const auto* t = std::get_if<TbfQdisc>(&q)) {
    s.rate = t->rate;
    return s;
  }
  const auto* n = std::get_if<NetemQdisc>(&q);
  if (!n) return std::nullopt;
  auto us = [](uint64_t ns) { return ns ? std::optional<uint64_t>(microseconds(ns)) : std::nullopt; };
  auto pc = [](uint32_t p) { return p ? std::optional<uint32_t>(ten_thousandths(p)) : std::nullopt; };
  s.delay = us(n->delay);
  s.jitter = us(n->jitter);
  s.loss = pc(n->loss);
  s.duplicate = pc(n->duplicate);
  s.corrupt = pc(n->corrupt);
  s.reorder = pc(n->reorder);
  if (n->limit != 1000 || !s.netem()) s.limit = n->limit;  // a netem with nothing else says its limit
  if (n->rate) s.rate = n->rate;
  return s;
}

std::string describe(const Qdisc& q) {
  auto s = shape_of(q);
  if (!s) return qdisc_kind(q) + " (not topo's)";
  std::string out = shape_text(*s);
  if (const auto* t = std::get_if<TbfQdisc>(&q)) out += tbf_extra(*t);
  return out;
}

std::string qdisc_change(const std::optional<Qdisc>& before, const std::optional<Qdisc>& after) {
  auto b = before ? shape_of(*before) : std::nullopt;
  auto a = after ? shape_of(*after) : std::nullopt;
  bool same_kind = before && after && before->index() == after->index();
  if (!same_kind || !a || !b || *a == *b)
    return fmt::format("{} -> {}", before ? describe(*before) : "none", after ? describe(*after) : "none");
  // One kind both sides: each key that changes.
  std::vector<std::pair<std::string, std::string>> was = shape_words(*b), now = shape_words(*a);
  auto value = [](const auto& words, const std::string& key) -> std::string {
    for (const auto& [k, v] : words)
      if (k == key) return v;
    return "none";
  };
  std::vector<std::string> parts;
  for (const std::string key : {"rate", "delay", "jitter", "loss", "duplicate", "corrupt", "reorder", "limit"}) {
    std::string x = value(was, key), y = value(now, key);
    if (x != y) parts.push_back(fmt::format("{} {} -> {}", key, x, y));
  }
  return fmt::format("{}", fmt::join(parts, ", "));
}

std::vector<std::string> tc_words(const Qdisc& q) {
  if (const auto* t = std::get_if<TbfQdisc>(&q)) {
    uint64_t burst = t->burst ? t->burst : t->rate * t->buffer * 64 / 1'000'000'000;
    return {"tbf", fmt::format("rate {}bit", t->rate * 8), fmt::format("burst {}", burst),
            fmt::format("limit {}", t->limit)};
  }
  const auto* n = std::get_if<NetemQdisc>(&q);
  if (!n) return {qdisc_kind(q)};
  std::vector<std::string> out = {"netem"};
  if (n->delay || n->jitter) {
    std::string delay = fmt::format("delay {}us", microseconds(n->delay));
    if (n->jitter) delay += fmt::format(" {}us", microseconds(n->jitter));
    out.push_back(delay);
  }
  auto percent = [&](std::string_view key, uint32_t p) {
    if (p) out.push_back(fmt::format("{} {}", key, percent_text(ten_thousandths(p))));
  };
  percent("loss", n->loss);
  percent("duplicate", n->duplicate);
  percent("corrupt", n->corrupt);
  percent("reorder", n->reorder);
  out.push_back(fmt::format("limit {}", n->limit));
  if (n->rate) out.push_back(fmt::format("rate {}bit", n->rate * 8));
  return out;
}

}  // namespace topo
