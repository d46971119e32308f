#include "parser/shape.h"

#include <fmt/format.h>

#include <array>
#include <cctype>
#include <cmath>
#include <utility>

namespace topo {
namespace {

using u128 = unsigned __int128;

// A decimal number ("1.5", "40") split off the front of `s`: its digits as an integer and
// how many of them follow the point; nullopt when `s` does not start with one or has more
// digits than fit.
struct Decimal {
  u128 digits = 0;
  int decimals = 0;
};
std::optional<Decimal> leading_decimal(std::string_view& s) {
  Decimal d;
  size_t i = 0, count = 0;
  bool point = false;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c == '.' && !point) {
      point = true;
      continue;
    }
    if (!std::isdigit(static_cast<unsigned char>(c))) break;
    if (++count > 24) return std::nullopt;
    d.digits = d.digits * 10 + static_cast<unsigned>(c - '0');
    if (point) ++d.decimals;
  }
  if (count == 0 || (point && d.decimals == 0)) return std::nullopt;
  s.remove_prefix(i);
  return d;
}

u128 power10(int n) {
  u128 p = 1;
  while (n-- > 0) p *= 10;
  return p;
}

bool same_word(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

// tc's rate suffixes and what each multiplies by, in bits per second.
struct Unit {
  std::string_view name;
  u128 scale;
};
constexpr u128 kKi = 1024;
const std::array<Unit, 18> kRateUnits = {{
    {"bit", 1},
    {"kbit", 1000},
    {"mbit", 1000'000},
    {"gbit", 1000'000'000},
    {"tbit", 1000'000'000'000},
    {"kibit", kKi},
    {"mibit", kKi* kKi},
    {"gibit", kKi* kKi* kKi},
    {"tibit", kKi* kKi* kKi* kKi},
    {"bps", 8},
    {"kbps", 8'000},
    {"mbps", 8'000'000},
    {"gbps", 8'000'000'000},
    {"tbps", 8'000'000'000'000},
    {"kibps", 8 * kKi},
    {"mibps", 8 * kKi* kKi},
    {"gibps", 8 * kKi* kKi* kKi},
    {"tibps", 8 * kKi* kKi* kKi* kKi},
}};

const std::array<Unit, 9> kTimeUnits = {{
    {"s", 1000'000},
    {"sec", 1000'000},
    {"secs", 1000'000},
    {"ms", 1000},
    {"msec", 1000},
    {"msecs", 1000},
    {"us", 1},
    {"usec", 1},
    {"usecs", 1},
}};

template <size_t N>
const Unit* unit_named(const std::array<Unit, N>& units, std::string_view s) {
  for (const Unit& u : units)
    if (same_word(u.name, s)) return &u;
  return nullptr;
}

}  // namespace

std::optional<uint64_t> parse_rate(std::string_view s) {
  auto d = leading_decimal(s);
  const Unit* u = d ? unit_named(kRateUnits, s) : nullptr;
  if (!u) return std::nullopt;
  // tc: the number times the unit, in bits, over 8, cut to whole bytes.
  u128 bytes = d->digits * u->scale / (power10(d->decimals) * 8);
  if (bytes > UINT64_MAX) return std::nullopt;
  return static_cast<uint64_t>(bytes);
}

std::optional<uint64_t> parse_time(std::string_view s) {
  auto d = leading_decimal(s);
  const Unit* u = d ? unit_named(kTimeUnits, s) : nullptr;
  if (!u) return std::nullopt;
  u128 scaled = d->digits * u->scale, den = power10(d->decimals);
  if (scaled % den != 0 || scaled / den > UINT64_MAX) return std::nullopt;
  return static_cast<uint64_t>(scaled / den);
}

std::optional<uint32_t> parse_percent(std::string_view s) {
  auto d = leading_decimal(s);
  if (!d || s != "%" || d->decimals > 4) return std::nullopt;
  u128 v = d->digits * power10(4 - d->decimals);
  if (v > 1000'000) return std::nullopt;
  return static_cast<uint32_t>(v);
}

namespace {

// "1.5" from 15 and 1 decimal: the shortest decimal text of n / 10^decimals.
std::string decimal_text(uint64_t n, int decimals) {
  uint64_t unit = static_cast<uint64_t>(power10(decimals));
  std::string out = std::to_string(n / unit);
  uint64_t rest = n % unit;
  if (rest == 0) return out;
  std::string frac = fmt::format("{:0{}}", rest, decimals);
  while (frac.back() == '0') frac.pop_back();
  return out + "." + frac;
}

}  // namespace

std::string rate_text(uint64_t bytes_per_second) {
  u128 bits = static_cast<u128>(bytes_per_second) * 8;
  for (auto [name, scale] : {std::pair{"tbit", 1000'000'000'000ull}, std::pair{"gbit", 1000'000'000ull},
                             std::pair{"mbit", 1000'000ull}, std::pair{"kbit", 1000ull}})
    if (bits % scale == 0 && bits >= scale) return fmt::format("{}{}", static_cast<uint64_t>(bits / scale), name);
  return fmt::format("{}bit", static_cast<uint64_t>(bits));
}

std::string time_text(uint64_t us) {
  if (us >= 1000'000 && us % 1000 == 0) return decimal_text(us / 1000, 3) + "s";
  if (us >= 1000) return decimal_text(us, 3) + "ms";
  return fmt::format("{}us", us);
}

std::string percent_text(uint32_t ten_thousandths) { return decimal_text(ten_thousandths, 4) + "%"; }

std::vector<std::pair<std::string, std::string>> shape_words(const Shape& s) {
  std::vector<std::pair<std::string, std::string>> out;
  if (s.rate) out.emplace_back("rate", rate_text(*s.rate));
  if (s.delay) out.emplace_back("delay", time_text(*s.delay));
  if (s.jitter) out.emplace_back("jitter", time_text(*s.jitter));
  if (s.loss) out.emplace_back("loss", percent_text(*s.loss));
  if (s.duplicate) out.emplace_back("duplicate", percent_text(*s.duplicate));
  if (s.corrupt) out.emplace_back("corrupt", percent_text(*s.corrupt));
  if (s.reorder) out.emplace_back("reorder", percent_text(*s.reorder));
  if (s.limit) out.emplace_back("limit", std::to_string(*s.limit));
  return out;
}

std::string shape_keys(const Shape& s) {
  std::vector<std::string> keys;
  for (const auto& [key, value] : shape_words(s))
    keys.push_back(key == "limit" ? fmt::format("{} = {}", key, value) : fmt::format("{} = \"{}\"", key, value));
  return fmt::format("{}", fmt::join(keys, ", "));
}

std::string shape_text(const Shape& s) {
  std::vector<std::string> words;
  for (const auto& [key, value] : shape_words(s)) words.push_back(key + " " + value);
  return fmt::format("{}", fmt::join(words, " "));
}

namespace {

class ShapeReader {
 public:
  ShapeReader(Fields& f) : f_(f) {}

  Shape read() {
    Shape s;
    if (auto v = f_.string("rate")) {
      s.rate = parse_rate(v->value);
      if (!s.rate)
        bad(*v, "rate",
            "not a rate: a number and a unit, bit, kbit, mbit, gbit (or bps, kbps, mbps, gbps: bytes per second), "
            "like \"10mbit\"");
      else if (*s.rate < kMinRate || *s.rate > kMaxRate)
        bad(*v, "rate", "out of range: a rate is between 1kbit and 100gbit"), s.rate.reset();
    }
    s.delay = time("delay");
    s.jitter = time("jitter");
    s.loss = percent("loss");
    s.duplicate = percent("duplicate");
    s.corrupt = percent("corrupt");
    s.reorder = percent("reorder");
    if (auto limit = f_.integer("limit", 1, kMaxQueueLimit)) s.limit = static_cast<uint32_t>(limit->value);
    for (std::string_view key : {"jitter", "reorder"})
      if (f_.has(key) && !f_.has("delay"))
        f_.diags().error(f_.key_pos(key),
                         fmt::format("'{}' in {} needs a 'delay': netem {} packets only as it delays them", key,
                                     f_.where(), key == "jitter" ? "varies the delay of" : "reorders"),
                         static_cast<int>(key.size()));
    return s;
  }

 private:
  void bad(const Located<std::string>& v, std::string_view key, std::string_view why) {
    f_.diags().error(v.pos, fmt::format("'{}' in {} is \"{}\": {}", key, f_.where(), v.value, why),
                     static_cast<int>(v.value.size()) + 2);
  }

  std::optional<uint64_t> time(std::string_view key) {
    auto v = f_.string(key);
    if (!v) return std::nullopt;
    auto t = parse_time(v->value);
    if (!t) {
      bad(*v, key, "not a time: a number and a unit, s, ms or us, in whole microseconds, like \"40ms\"");
      return std::nullopt;
    }
    if (*t > kMaxDelay) {
      bad(*v, key, "more than a minute");
      return std::nullopt;
    }
    return t;
  }

  std::optional<uint32_t> percent(std::string_view key) {
    auto v = f_.string(key);
    if (!v) return std::nullopt;
    auto p = parse_percent(v->value);
    if (!p) bad(*v, key, "not a percentage: 0% to 100% with at most four decimals, like \"0.5%\"");
    return p;
  }

  Fields& f_;
};

}  // namespace

std::optional<Located<Shape>> read_shape(Fields& parent) {
  if (!parent.has("shape")) return std::nullopt;
  const toml::table* t = parent.table("shape");
  if (!t) return std::nullopt;
  Fields f(*t, table_spec("shape"), parent.where() + " shape", parent.diags());
  size_t errors = parent.diags().size();
  Shape s = ShapeReader(f).read();
  f.reject_unknown();
  if (t->empty())
    parent.diags().error(
        parent.key_pos("shape"),
        fmt::format("'shape' in {} is empty: give it a rate, a delay, a loss... or leave it out", parent.where()), 5);
  if (parent.diags().size() != errors) return std::nullopt;
  return Located<Shape>{s, f.pos()};
}

}  // namespace topo
