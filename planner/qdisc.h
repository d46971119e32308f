// A link's root qdisc as the kernel holds it, and how the file's `shape` becomes one. The
// values are the kernel's own (ticks, probabilities out of 2^32 - 1), computed from the file
// with tc's arithmetic, so that what topo sends is byte for byte what `tc` sends for the
// same words (tests/qdisc_test.cpp holds tc's bytes) and what the kernel dumps back compares
// equal; plans turn them back into the file's words.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "parser/model.h"

namespace topo {

/// A token bucket filter: a rate alone (tc-tbf(8)).
struct TbfQdisc {
  uint64_t rate = 0;    // bytes per second
  uint32_t buffer = 0;  // the bucket: how long it takes to fill at the rate, in the kernel's ticks (64 ns)
  uint32_t limit = 0;   // bytes that may wait in the queue
  /// The bucket in bytes, as asked for (TCA_TBF_BURST, as tc sends it); 0 in what the kernel
  /// dumps, which has the time only. Not compared: `buffer` is what the kernel keeps of it.
  uint32_t burst = 0;
  bool operator==(const TbfQdisc& o) const { return rate == o.rate && buffer == o.buffer && limit == o.limit; }
};

/// The network emulator (tc-netem(8)): delay, jitter, loss, duplication, corruption,
/// reordering, and a rate of its own.
struct NetemQdisc {
  uint64_t delay = 0, jitter = 0;                              // nanoseconds
  uint32_t limit = 1000;                                       // packets
  uint32_t loss = 0, duplicate = 0, corrupt = 0, reorder = 0;  // probabilities out of UINT32_MAX
  uint32_t gap = 0;                                            // tc makes it 1 with a reorder probability
  uint64_t rate = 0;                                           // bytes per second; 0: none
  bool operator==(const NetemQdisc&) const = default;
};

/// A root qdisc that topo does not make (fq, htb...): its kind only.
struct OtherQdisc {
  std::string kind;
  bool operator==(const OtherQdisc&) const = default;
};

using Qdisc = std::variant<TbfQdisc, NetemQdisc, OtherQdisc>;

/// The kernel's name for it: "tbf", "netem", or the other one's.
std::string qdisc_kind(const Qdisc& q);

/// The qdisc a shape makes on a link of mtu `mtu` (0: the kernel's default): tbf for a rate
/// alone, with a bucket of 10 ms of the rate, at least 15000 bytes (ten full frames) and one
/// frame of the mtu (tbf drops a frame larger than its bucket), and room for 50 ms more in
/// its queue; netem for any other key.
Qdisc qdisc_of(const Shape& s, int64_t mtu = 0);

/// tc's time in ticks for `size` bytes at `rate` bytes per second (tc_calc_xmittime: whole
/// microseconds first, then 15.625 ticks each).
uint32_t tc_ticks(uint64_t rate, uint64_t size);
/// What the kernel keeps of a bucket of `burst` bytes at `rate`, in ticks as it dumps it
/// (psched_l2t_ns with the rate's reciprocal, then 64 ns a tick).
uint32_t kernel_ticks(uint64_t rate, uint32_t burst);
/// A percentage (ten-thousandths of one) as tc gives it to the kernel, and back.
uint32_t probability(uint32_t ten_thousandths);
uint32_t ten_thousandths(uint32_t probability);

/// The file's words for what the kernel holds: nullopt for a kind topo does not make. A
/// tbf's bucket and queue are left out (they follow from the rate and the link's mtu);
/// tbf_is_topos says whether they are those topo gives a rate on some mtu.
std::optional<Shape> shape_of(const Qdisc& q);
bool tbf_is_topos(const TbfQdisc& t);

/// "rate 20mbit", "delay 40ms jitter 5ms loss 0.5%", "fq (not topo's)".
std::string describe(const Qdisc& q);
/// What changes from one to the other, in the file's words: "delay 40ms -> 20ms",
/// "rate 20mbit -> delay 40ms", "none -> rate 5mbit".
std::string qdisc_change(const std::optional<Qdisc>& before, const std::optional<Qdisc>& after);
/// The words after `tc qdisc replace dev X root` that make it: {"tbf", "rate", ...}.
std::vector<std::string> tc_words(const Qdisc& q);

}  // namespace topo
