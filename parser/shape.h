// The values of a `shape` table (docs/format.md): rates, times and percentages in tc's
// notation, read into the units tc itself would send (parser/model.h's Shape), and written
// back the same way for plans and `topo expand`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "parser/fields.h"
#include "parser/model.h"

namespace topo {

/// "10mbit" in bytes per second, as tc reads a rate: bit, kbit, mbit, gbit, tbit (powers of
/// 1000), kibit... (of 1024), and bps, kbps, mbps... for bytes per second (case aside, as tc).
/// nullopt when it is no rate.
std::optional<uint64_t> parse_rate(std::string_view s);
/// "40ms" in microseconds: a number and s, ms or us; nullopt when it is no time, or not a
/// whole number of microseconds.
std::optional<uint64_t> parse_time(std::string_view s);
/// "0.5%" in ten-thousandths of a percent: 0 to 100, at most four decimals, the % sign
/// required; nullopt otherwise.
std::optional<uint32_t> parse_percent(std::string_view s);

/// The file's words for a value: "10mbit" (in bits, the largest unit that keeps it whole),
/// "40ms", "0.5%".
std::string rate_text(uint64_t bytes_per_second);
std::string time_text(uint64_t microseconds);
std::string percent_text(uint32_t ten_thousandths);

/// "rate = \"10mbit\", delay = \"40ms\"": the shape as the keys of a TOML inline table.
std::string shape_keys(const Shape& s);
/// Its keys and values in the file's words, in the file format's order: {"rate", "10mbit"}...
std::vector<std::pair<std::string, std::string>> shape_words(const Shape& s);
/// "rate 10mbit delay 40ms": the same on a line, for plans and graphs.
std::string shape_text(const Shape& s);

/// The `shape` table of the table `f` reads, checked whole (units, ranges, jitter and
/// reorder without delay) with every problem reported; nullopt when absent or unusable.
std::optional<Located<Shape>> read_shape(Fields& f);

/// The limits the file's values must keep within (docs/format.md).
inline constexpr uint64_t kMinRate = 125;              // bytes per second: 1kbit
inline constexpr uint64_t kMaxRate = 12'500'000'000;   // 100gbit
inline constexpr uint64_t kMaxDelay = 60'000'000;      // microseconds: a minute
inline constexpr int64_t kMaxQueueLimit = 10'000'000;  // packets

}  // namespace topo
