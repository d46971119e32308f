#include "executor/qdisc_message.h"

#include <linux/netlink.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace topo {
namespace {

// Appends netlink's pieces to a message, each padded to 4 bytes as the kernel reads them.
class Writer {
 public:
  template <class T>
  void put(const T& value) {
    const auto* p = reinterpret_cast<const std::byte*>(&value);
    bytes_.insert(bytes_.end(), p, p + sizeof(T));
    pad();
  }
  void put_bytes(const void* data, size_t n) {
    const auto* p = static_cast<const std::byte*>(data);
    bytes_.insert(bytes_.end(), p, p + n);
    pad();
  }
  // An attribute holding `value`.
  template <class T>
  void attr(uint16_t type, const T& value) {
    attr_bytes(type, &value, sizeof(T));
  }
  void attr_bytes(uint16_t type, const void* data, size_t n) {
    nlattr a{static_cast<uint16_t>(NLA_HDRLEN + n), type};
    put(a);
    put_bytes(data, n);
  }
  // A nested attribute's header, its length set by end(): returns where it starts.
  size_t begin(uint16_t type) {
    size_t at = bytes_.size();
    put(nlattr{0, type});
    return at;
  }
  void end(size_t at) {
    auto len = static_cast<uint16_t>(bytes_.size() - at);
    std::memcpy(bytes_.data() + at, &len, sizeof len);
  }
  std::vector<std::byte> take() {
    auto len = static_cast<uint32_t>(bytes_.size());
    std::memcpy(bytes_.data(), &len, sizeof len);  // nlmsg_len
    return std::move(bytes_);
  }

 private:
  void pad() { bytes_.resize(NLMSG_ALIGN(bytes_.size())); }
  std::vector<std::byte> bytes_;
};

tc_ratespec ratespec(uint64_t rate) {
  tc_ratespec r{};
  r.cell_log = 3;  // tc's cells for its default mtu of 2047: 256 of 8 bytes
  r.linklayer = TC_LINKLAYER_ETHERNET;
  r.cell_align = -1;
  r.rate = static_cast<uint32_t>(std::min<uint64_t>(rate, UINT32_MAX));
  return r;
}

void tbf_options(Writer& w, const TbfQdisc& t) {
  tc_tbf_qopt opt{};
  opt.rate = ratespec(t.rate);
  opt.limit = t.limit;
  // tc times the bucket at the rate the 32 bits of its ratespec hold: above 4 GB/s the
  // kernel, given the burst in bytes, keeps its own.
  opt.buffer = t.burst ? tc_ticks(opt.rate.rate, t.burst) : t.buffer;
  w.attr(TCA_TBF_PARMS, opt);
  if (t.burst) w.attr(TCA_TBF_BURST, t.burst);
  if (t.rate > UINT32_MAX) w.attr(TCA_TBF_RATE64, t.rate);
  // tc's rate table (tc_calc_rtable): the time of each cell's size. The kernel reads only
  // its link layer from it, but it is part of what tc sends.
  uint32_t rtab[256];
  for (uint32_t i = 0; i < 256; ++i) rtab[i] = tc_ticks(opt.rate.rate, (i + 1) << opt.rate.cell_log);
  w.attr_bytes(TCA_TBF_RTAB, rtab, sizeof rtab);
}

// netem's options are its tc_netem_qopt with its attributes after it, not nested in.
void netem_options(Writer& w, const NetemQdisc& n) {
  tc_netem_qopt opt{};
  opt.latency = static_cast<uint32_t>(n.delay >> 6);  // ticks of 64 ns
  opt.jitter = static_cast<uint32_t>(n.jitter >> 6);
  opt.limit = n.limit;
  opt.loss = n.loss;
  opt.gap = n.gap;
  opt.duplicate = n.duplicate;
  w.put(opt);
  if (n.reorder) w.attr(TCA_NETEM_REORDER, tc_netem_reorder{n.reorder, 0});
  if (n.corrupt) w.attr(TCA_NETEM_CORRUPT, tc_netem_corrupt{n.corrupt, 0});
  if (n.rate) {
    if (n.rate > UINT32_MAX) w.attr(TCA_NETEM_RATE64, n.rate);
    tc_netem_rate r{};
    r.rate = static_cast<uint32_t>(std::min<uint64_t>(n.rate, UINT32_MAX));
    w.attr(TCA_NETEM_RATE, r);
  }
}

}  // namespace

std::vector<std::byte> qdisc_request(int ifindex, const std::optional<Qdisc>& q, uint32_t seq) {
  Writer w;
  nlmsghdr h{};
  h.nlmsg_type = q ? RTM_NEWQDISC : RTM_DELQDISC;
  h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | (q ? NLM_F_CREATE | NLM_F_REPLACE : 0);
  h.nlmsg_seq = seq;
  w.put(h);
  tcmsg t{};
  t.tcm_family = AF_UNSPEC;
  t.tcm_ifindex = ifindex;
  t.tcm_parent = TC_H_ROOT;
  w.put(t);
  if (!q) return w.take();
  std::string kind = qdisc_kind(*q);
  w.attr_bytes(TCA_KIND, kind.c_str(), kind.size() + 1);
  size_t options = w.begin(TCA_OPTIONS);
  if (const auto* tbf = std::get_if<TbfQdisc>(&*q)) tbf_options(w, *tbf);
  if (const auto* netem = std::get_if<NetemQdisc>(&*q)) netem_options(w, *netem);
  w.end(options);
  return w.take();
}

namespace {

// The attributes of `bytes` by type (the last of each), each as its payload.
using Attrs = std::vector<std::span<const std::byte>>;
Attrs attributes(std::span<const std::byte> bytes, size_t max_type) {
  Attrs out(max_type + 1);
  while (bytes.size() >= NLA_HDRLEN) {
    nlattr a;
    std::memcpy(&a, bytes.data(), sizeof a);
    if (a.nla_len < NLA_HDRLEN || a.nla_len > bytes.size()) break;
    size_t type = a.nla_type & NLA_TYPE_MASK;
    if (type <= max_type) out[type] = bytes.subspan(NLA_HDRLEN, a.nla_len - NLA_HDRLEN);
    bytes = bytes.subspan(std::min<size_t>(NLA_ALIGN(a.nla_len), bytes.size()));
  }
  return out;
}

template <class T>
std::optional<T> read(std::span<const std::byte> payload) {
  if (payload.size() < sizeof(T)) return std::nullopt;
  T v;
  std::memcpy(&v, payload.data(), sizeof(T));
  return v;
}

bool plain(const tc_ratespec& r) { return r.overhead == 0 && r.mpu == 0 && r.linklayer != TC_LINKLAYER_ATM; }

Qdisc decode_tbf(std::span<const std::byte> options) {
  Attrs a = attributes(options, TCA_TBF_MAX);
  auto opt = read<tc_tbf_qopt>(a[TCA_TBF_PARMS]);
  if (!opt || !plain(opt->rate) || opt->peakrate.rate || opt->mtu || !a[TCA_TBF_PRATE64].empty())
    return OtherQdisc{"tbf"};
  TbfQdisc t;
  t.rate = read<uint64_t>(a[TCA_TBF_RATE64]).value_or(opt->rate.rate);
  t.buffer = opt->buffer;
  t.limit = opt->limit;
  if (!t.rate) return OtherQdisc{"tbf"};
  return t;
}

template <class T>
bool zero(std::span<const std::byte> payload) {
  auto v = read<T>(payload);
  if (!v) return payload.empty();
  T none{};
  return std::memcmp(&*v, &none, sizeof(T)) == 0;
}

Qdisc decode_netem(std::span<const std::byte> options) {
  auto opt = read<tc_netem_qopt>(options);
  if (!opt) return OtherQdisc{"netem"};
  Attrs a = attributes(options.subspan(std::min(options.size(), NLA_ALIGN(sizeof(tc_netem_qopt)))), TCA_NETEM_MAX);
  NetemQdisc n;
  int64_t delay = read<int64_t>(a[TCA_NETEM_LATENCY64]).value_or(int64_t{opt->latency} << 6);
  int64_t jitter = read<int64_t>(a[TCA_NETEM_JITTER64]).value_or(int64_t{opt->jitter} << 6);
  if (delay < 0 || jitter < 0) return OtherQdisc{"netem"};
  n.delay = static_cast<uint64_t>(delay);
  n.jitter = static_cast<uint64_t>(jitter);
  n.limit = opt->limit;
  n.loss = opt->loss;
  n.gap = opt->gap;
  n.duplicate = opt->duplicate;
  auto reorder = read<tc_netem_reorder>(a[TCA_NETEM_REORDER]);
  auto corrupt = read<tc_netem_corrupt>(a[TCA_NETEM_CORRUPT]);
  auto rate = read<tc_netem_rate>(a[TCA_NETEM_RATE]);
  if (reorder) n.reorder = reorder->probability;
  if (corrupt) n.corrupt = corrupt->probability;
  if (rate) n.rate = rate->rate;
  if (auto r64 = read<uint64_t>(a[TCA_NETEM_RATE64])) n.rate = *r64;
  // What topo never sets: correlations, a loss model, slots, ECN, a delay distribution,
  // a rate's overheads; a gap without reordering.
  bool more = !zero<tc_netem_corr>(a[TCA_NETEM_CORR]) || (reorder && reorder->correlation) ||
              (corrupt && corrupt->correlation) ||
              (rate && (rate->packet_overhead || rate->cell_size || rate->cell_overhead)) ||
              !a[TCA_NETEM_LOSS].empty() || !a[TCA_NETEM_SLOT].empty() || !zero<uint32_t>(a[TCA_NETEM_ECN]) ||
              !a[TCA_NETEM_DELAY_DIST].empty() || n.gap != (n.reorder ? 1u : 0u);
  if (more) return OtherQdisc{"netem"};
  return n;
}

}  // namespace

std::optional<RootQdisc> decode_qdisc(std::span<const std::byte> message) {
  nlmsghdr h;
  if (message.size() < NLMSG_LENGTH(sizeof(tcmsg))) return std::nullopt;
  std::memcpy(&h, message.data(), sizeof h);
  if (h.nlmsg_type != RTM_NEWQDISC || h.nlmsg_len > message.size() || h.nlmsg_len < NLMSG_LENGTH(sizeof(tcmsg)))
    return std::nullopt;
  tcmsg t;
  std::memcpy(&t, message.data() + NLMSG_HDRLEN, sizeof t);
  if (t.tcm_parent != TC_H_ROOT || t.tcm_handle == 0 || t.tcm_ifindex <= 0) return std::nullopt;
  size_t at = NLMSG_LENGTH(NLMSG_ALIGN(sizeof(tcmsg)));
  Attrs a = attributes(
      message.subspan(std::min<size_t>(at, h.nlmsg_len), h.nlmsg_len - std::min<size_t>(at, h.nlmsg_len)), TCA_MAX);
  std::string kind;
  for (std::byte b : a[TCA_KIND]) {
    auto c = static_cast<char>(b);
    if (c == '\0') break;
    kind += std::isprint(static_cast<unsigned char>(c)) ? c : '?';
  }
  if (kind.empty()) return std::nullopt;
  RootQdisc out{t.tcm_ifindex, OtherQdisc{kind}};
  if (kind == "tbf") out.qdisc = decode_tbf(a[TCA_OPTIONS]);
  if (kind == "netem") out.qdisc = decode_netem(a[TCA_OPTIONS]);
  return out;
}

std::string qdisc_config_option(const std::string& kind) {
  std::string upper;
  for (char c : kind) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return "CONFIG_NET_SCH_" + upper;
}

}  // namespace topo
