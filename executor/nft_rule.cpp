// A NAT rule as nftables expressions, both ways. topo makes exactly the expressions nft
// makes from nft_syntax() (planner/nat.h), so that `nft list` shows the same rule whoever
// made it, and the reader decodes both into the same NftRule.
//
// Why decode instead of keeping the rule's text in its userdata: the kernel runs the
// expressions, not a comment. A rule edited by hand in the lab's table, or one made by an
// older topo, must be seen as what it does; decoding the few shapes topo makes, and calling
// anything else foreign, gives that, and the differ then rewrites the table.
//
// Shape (each part optional unless said, in this order; registers 1 and 2):
//   meta nfproto == ipv4|ipv6                          family
//   payload network header saddr [bitwise mask] == net source (needs the family)
//   fib daddr type == local                            dnat only, always
//   meta iifname ==|!= "IN"  /  meta oifname ==|!= "OUT"   names, IFNAMSIZ bytes ("!eth0": !=)
//   meta l4proto == tcp|udp; payload th dport == PORT  dnat
//   masq  |  immediate reg1 addr [immediate reg2 port]; nat snat|dnat FAMILY reg1 [reg2]
// glibc's headers first: they tell the kernel's headers which definitions they already have.
#include <net/if.h>
#include <netinet/in.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/rtnetlink.h>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <tuple>
#include <vector>

#include "executor/nft.h"

namespace topo::nft {
namespace {

using Bytes = std::vector<uint8_t>;

constexpr uint32_t kSaddrOffset4 = 12;  // offsetof(struct iphdr, saddr)
constexpr uint32_t kSaddrOffset6 = 8;   // offsetof(struct ip6_hdr, ip6_src)
constexpr uint32_t kDportOffset = 2;    // the same for tcp and udp

Expr expr(const char* name) {
  Expr e(nftnl_expr_alloc(name));
  if (!e) throw std::bad_alloc();
  return e;
}

class Builder {
 public:
  explicit Builder(nftnl_rule* r) : rule_(r) {}

  void meta(uint32_t key) {
    Expr e = expr("meta");
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_META_KEY, key);
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_META_DREG, NFT_REG_1);
    add(std::move(e));
  }
  void cmp_eq(const void* data, uint32_t len, uint32_t op = NFT_CMP_EQ) {
    Expr e = expr("cmp");
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_CMP_SREG, NFT_REG_1);
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_CMP_OP, op);
    nftnl_expr_set(e.get(), NFTNL_EXPR_CMP_DATA, data, len);
    add(std::move(e));
  }
  void payload(uint32_t base, uint32_t offset, uint32_t len) {
    Expr e = expr("payload");
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_PAYLOAD_BASE, base);
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_PAYLOAD_OFFSET, offset);
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_PAYLOAD_LEN, len);
    add(std::move(e));
  }
  void bitwise(const void* mask, const void* zero, uint32_t len) {
    Expr e = expr("bitwise");
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_BITWISE_LEN, len);
    nftnl_expr_set(e.get(), NFTNL_EXPR_BITWISE_MASK, mask, len);
    nftnl_expr_set(e.get(), NFTNL_EXPR_BITWISE_XOR, zero, len);
    add(std::move(e));
  }
  void fib_daddr_type() {
    Expr e = expr("fib");
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE);
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_FIB_FLAGS, NFTA_FIB_F_DADDR);
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_FIB_DREG, NFT_REG_1);
    add(std::move(e));
  }
  void immediate(uint32_t reg, const void* data, uint32_t len) {
    Expr e = expr("immediate");
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_IMM_DREG, reg);
    nftnl_expr_set(e.get(), NFTNL_EXPR_IMM_DATA, data, len);
    add(std::move(e));
  }
  void add(Expr e) { nftnl_rule_add_expr(rule_, e.release()); }  // the rule owns it from here

 private:
  nftnl_rule* rule_;
};

uint8_t nfproto(Family f) { return f == Family::v4 ? NFPROTO_IPV4 : NFPROTO_IPV6; }

std::array<char, IFNAMSIZ> ifname(const std::string& name) {
  std::array<char, IFNAMSIZ> out{};
  std::memcpy(out.data(), name.data(), std::min(name.size(), out.size() - 1));
  return out;
}

// nft's way with a prefix: a whole number of bytes is loaded and compared as it is; any
// other length (0 included) loads the whole address and masks it first.
void match_prefix(Builder& b, const IpPrefix& p, uint32_t offset, uint32_t op = NFT_CMP_EQ) {
  uint32_t size = static_cast<uint32_t>(p.address.size());
  IpAddress net = p.network();
  if (p.length > 0 && p.length % 8 == 0) {
    uint32_t len = static_cast<uint32_t>(p.length / 8);
    b.payload(NFT_PAYLOAD_NETWORK_HEADER, offset, len);
    b.cmp_eq(net.bytes.data(), len, op);
    return;
  }
  std::array<uint8_t, 16> mask{}, zero{};
  for (int i = 0; i < p.length; ++i) mask[static_cast<size_t>(i / 8)] |= static_cast<uint8_t>(0x80 >> (i % 8));
  b.payload(NFT_PAYLOAD_NETWORK_HEADER, offset, size);
  b.bitwise(mask.data(), zero.data(), size);
  b.cmp_eq(net.bytes.data(), size, op);
}

void match_source(Builder& b, const IpPrefix& p) {
  match_prefix(b, p, p.address.family == Family::v4 ? kSaddrOffset4 : kSaddrOffset6);
}

// ---- decoding ----

class Exprs {
 public:
  explicit Exprs(nftnl_rule* r) {
    std::unique_ptr<nftnl_expr_iter, void (*)(nftnl_expr_iter*)> it(nftnl_expr_iter_create(r), nftnl_expr_iter_destroy);
    if (!it) throw std::bad_alloc();
    for (nftnl_expr* e = nftnl_expr_iter_next(it.get()); e; e = nftnl_expr_iter_next(it.get())) all_.push_back(e);
  }
  size_t size() const { return all_.size(); }
  nftnl_expr* at(size_t i) const { return all_[i]; }
  bool is(size_t i, const char* name) const {
    if (i >= all_.size()) return false;
    const char* n = nftnl_expr_get_str(all_[i], NFTNL_EXPR_NAME);
    return n && std::strcmp(n, name) == 0;
  }
  bool has(size_t i, uint16_t attr) const { return i < all_.size() && nftnl_expr_is_set(all_[i], attr); }
  uint32_t u32(size_t i, uint16_t attr) const { return has(i, attr) ? nftnl_expr_get_u32(all_[i], attr) : ~0u; }
  Bytes data(size_t i, uint16_t attr) const {
    uint32_t len = 0;
    const void* d = has(i, attr) ? nftnl_expr_get(all_[i], attr, &len) : nullptr;
    if (!d) return {};
    const auto* p = static_cast<const uint8_t*>(d);
    return Bytes(p, p + len);
  }
  // `meta KEY => reg 1`
  bool meta(size_t i, uint32_t key) const {
    return is(i, "meta") && u32(i, NFTNL_EXPR_META_KEY) == key && u32(i, NFTNL_EXPR_META_DREG) == NFT_REG_1;
  }
  // `cmp eq reg 1 DATA`: the data, or nullopt when expression i is not that.
  std::optional<Bytes> cmp_eq(size_t i) const {
    if (!is(i, "cmp") || u32(i, NFTNL_EXPR_CMP_SREG) != NFT_REG_1 || u32(i, NFTNL_EXPR_CMP_OP) != NFT_CMP_EQ)
      return std::nullopt;
    return data(i, NFTNL_EXPR_CMP_DATA);
  }
  // `cmp OP reg 1 DATA`, any op.
  std::optional<std::pair<uint32_t, Bytes>> cmp(size_t i) const {
    if (!is(i, "cmp") || u32(i, NFTNL_EXPR_CMP_SREG) != NFT_REG_1) return std::nullopt;
    return std::pair{u32(i, NFTNL_EXPR_CMP_OP), data(i, NFTNL_EXPR_CMP_DATA)};
  }
  bool payload(size_t i, uint32_t base, uint32_t offset) const {
    return is(i, "payload") && u32(i, NFTNL_EXPR_PAYLOAD_DREG) == NFT_REG_1 &&
           u32(i, NFTNL_EXPR_PAYLOAD_BASE) == base && u32(i, NFTNL_EXPR_PAYLOAD_OFFSET) == offset;
  }
  std::string text() const {
    std::string out;
    char buf[1024];
    for (nftnl_expr* e : all_) {
      nftnl_expr_snprintf(buf, sizeof buf, e, NFTNL_OUTPUT_DEFAULT, 0);
      const char* name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
      std::string part = fmt::format("[ {} {}]", name ? name : "?", buf);
      out += (out.empty() ? "" : " ") + part;
    }
    return out.empty() ? "(no expressions)" : out;
  }

 private:
  std::vector<nftnl_expr*> all_;  // owned by the rule
};

bool all_zero(const Bytes& b) {
  return std::all_of(b.begin(), b.end(), [](uint8_t c) { return c == 0; });
}

// The prefix length of a mask of leading ones, or -1 when it is not one.
int prefix_length(const Bytes& mask) {
  int len = 0;
  bool ended = false;
  for (uint8_t byte : mask)
    for (int bit = 7; bit >= 0; --bit) {
      bool one = byte & (1 << bit);
      if (one && ended) return -1;
      if (one)
        ++len;
      else
        ended = true;
    }
  return len;
}

std::optional<IpAddress> address(Family f, const Bytes& b) {
  IpAddress a;
  a.family = f;
  if (b.size() != a.size()) return std::nullopt;
  std::copy(b.begin(), b.end(), a.bytes.begin());
  return a;
}

std::string ifname_of(const Bytes& b) {
  if (b.size() != IFNAMSIZ || b.back() != 0) return "";
  return std::string(reinterpret_cast<const char*>(b.data()));
}

uint16_t port_of(const Bytes& b) { return b.size() == 2 ? static_cast<uint16_t>(b[0] << 8 | b[1]) : 0; }

// Decodes a rule of topo's shape; nullopt for anything else.
// A prefix match at expression i (payload [bitwise] cmp eq|neq); advances i.
std::optional<std::pair<IpPrefix, bool>> prefix_at(const Exprs& x, size_t& i, Family f, uint32_t offset) {
  if (!x.payload(i, NFT_PAYLOAD_NETWORK_HEADER, offset)) return std::nullopt;
  size_t size = f == Family::v4 ? 4 : 16;
  uint32_t len = x.u32(i, NFTNL_EXPR_PAYLOAD_LEN);
  if (len == 0 || len > size) return std::nullopt;
  size_t j = i + 1;
  int length = static_cast<int>(len) * 8;
  if (x.is(j, "bitwise")) {
    Bytes mask = x.data(j, NFTNL_EXPR_BITWISE_MASK);
    if (x.u32(j, NFTNL_EXPR_BITWISE_SREG) != NFT_REG_1 || x.u32(j, NFTNL_EXPR_BITWISE_DREG) != NFT_REG_1 ||
        mask.size() != len || !all_zero(x.data(j, NFTNL_EXPR_BITWISE_XOR)) ||
        (x.has(j, NFTNL_EXPR_BITWISE_OP) && x.u32(j, NFTNL_EXPR_BITWISE_OP) != NFT_BITWISE_BOOL))
      return std::nullopt;
    length = prefix_length(mask);
    if (length < 0) return std::nullopt;
    ++j;
  }
  auto c = x.cmp(j++);
  if (!c || (c->first != NFT_CMP_EQ && c->first != NFT_CMP_NEQ) || c->second.size() != len) return std::nullopt;
  Bytes full(size, 0);
  std::copy(c->second.begin(), c->second.end(), full.begin());
  IpPrefix p{*address(f, full), length};
  if (!p.is_network()) return std::nullopt;
  i = j;
  return std::pair{p, c->first == NFT_CMP_NEQ};
}

std::optional<NftRule> topo_shape(const Exprs& x) {
  NftRule r;
  size_t i = 0;
  if (x.meta(i, NFT_META_NFPROTO)) {
    auto d = x.cmp_eq(i + 1);
    if (!d || d->size() != 1 || ((*d)[0] != NFPROTO_IPV4 && (*d)[0] != NFPROTO_IPV6)) return std::nullopt;
    r.family = (*d)[0] == NFPROTO_IPV4 ? Family::v4 : Family::v6;
    i += 2;
  }
  if (uint32_t at = r.family == Family::v4 ? kSaddrOffset4 : kSaddrOffset6;
      r.family && x.payload(i, NFT_PAYLOAD_NETWORK_HEADER, at)) {
    auto p = prefix_at(x, i, *r.family, at);
    if (!p || p->second) return std::nullopt;  // NAT matches a source by equality only
    r.source = p->first;
  }
  bool local = false;
  if (x.is(i, "fib")) {
    auto d = x.cmp_eq(i + 1);
    uint32_t local_type = RTN_LOCAL;
    if (x.u32(i, NFTNL_EXPR_FIB_RESULT) != NFT_FIB_RESULT_ADDRTYPE ||
        x.u32(i, NFTNL_EXPR_FIB_FLAGS) != NFTA_FIB_F_DADDR || x.u32(i, NFTNL_EXPR_FIB_DREG) != NFT_REG_1 || !d ||
        d->size() != 4 || std::memcmp(d->data(), &local_type, 4) != 0)
      return std::nullopt;
    local = true;
    i += 2;
  }
  for (auto [key, name, neg] :
       {std::tuple{NFT_META_IIFNAME, &r.in, &r.not_in}, std::tuple{NFT_META_OIFNAME, &r.out, &r.not_out}}) {
    if (!x.meta(i, key)) continue;
    auto c = x.cmp(i + 1);
    if (!c || (c->first != NFT_CMP_EQ && c->first != NFT_CMP_NEQ) || (*name = ifname_of(c->second)).empty())
      return std::nullopt;
    *neg = c->first == NFT_CMP_NEQ;
    i += 2;
  }
  if (x.meta(i, NFT_META_L4PROTO)) {
    auto proto = x.cmp_eq(i + 1);
    auto port = x.cmp_eq(i + 3);
    if (!proto || proto->size() != 1 || ((*proto)[0] != IPPROTO_TCP && (*proto)[0] != IPPROTO_UDP) ||
        !x.payload(i + 2, NFT_PAYLOAD_TRANSPORT_HEADER, kDportOffset) || x.u32(i + 2, NFTNL_EXPR_PAYLOAD_LEN) != 2 ||
        !port || port->size() != 2)
      return std::nullopt;
    r.proto = (*proto)[0] == IPPROTO_TCP ? "tcp" : "udp";
    r.port = port_of(*port);
    i += 4;
  }
  if (x.is(i, "masq")) {
    if (x.has(i, NFTNL_EXPR_MASQ_FLAGS) || x.has(i, NFTNL_EXPR_MASQ_REG_PROTO_MIN)) return std::nullopt;
    r.kind = RuleKind::masquerade;
    ++i;
  } else {
    if (!r.family || !x.is(i, "immediate") || x.u32(i, NFTNL_EXPR_IMM_DREG) != NFT_REG_1) return std::nullopt;
    r.to = address(*r.family, x.data(i++, NFTNL_EXPR_IMM_DATA));
    if (!r.to) return std::nullopt;
    bool port = x.is(i, "immediate") && x.u32(i, NFTNL_EXPR_IMM_DREG) == NFT_REG_2;
    if (port) r.to_port = port_of(x.data(i++, NFTNL_EXPR_IMM_DATA));
    if (port && !r.to_port) return std::nullopt;
    if (!x.is(i, "nat")) return std::nullopt;
    uint32_t type = x.u32(i, NFTNL_EXPR_NAT_TYPE);
    uint32_t allowed = NF_NAT_RANGE_MAP_IPS | NF_NAT_RANGE_PROTO_SPECIFIED;
    auto reg_is = [&](uint16_t attr, uint32_t reg) { return !x.has(i, attr) || x.u32(i, attr) == reg; };
    if ((type != NFT_NAT_SNAT && type != NFT_NAT_DNAT) || x.u32(i, NFTNL_EXPR_NAT_FAMILY) != nfproto(*r.family) ||
        x.u32(i, NFTNL_EXPR_NAT_REG_ADDR_MIN) != NFT_REG_1 || !reg_is(NFTNL_EXPR_NAT_REG_ADDR_MAX, NFT_REG_1) ||
        (port ? x.u32(i, NFTNL_EXPR_NAT_REG_PROTO_MIN) != NFT_REG_2 : x.has(i, NFTNL_EXPR_NAT_REG_PROTO_MIN)) ||
        !reg_is(NFTNL_EXPR_NAT_REG_PROTO_MAX, port ? NFT_REG_2 : 0) ||
        (x.has(i, NFTNL_EXPR_NAT_FLAGS) && (x.u32(i, NFTNL_EXPR_NAT_FLAGS) & ~allowed)))
      return std::nullopt;
    r.kind = type == NFT_NAT_SNAT ? RuleKind::snat : RuleKind::dnat;
    ++i;
  }
  if (i != x.size()) return std::nullopt;
  // What the value does not hold must be as topo makes it: a dnat maps the namespace's own
  // addresses (fib daddr type local) and nothing else does; only a dnat matches a port or
  // an input interface.
  bool dnat = r.kind == RuleKind::dnat;
  if (local != dnat || (!dnat && (!r.proto.empty() || !r.in.empty())) || (dnat && r.proto.empty())) return std::nullopt;
  return r;
}

// ---- filter rules (planner/filter.h) ----
//   meta nfproto == ipv4|ipv6                               family (from the prefixes)
//   payload saddr [bitwise] ==|!= net; payload daddr ...    source, destination
//   meta iifname ==|!= "IN"; meta oifname ==|!= "OUT"
//   meta l4proto == P [payload th dport == PORT | >= LO, <= HI]
//   ct state; bitwise & BITS; cmp != 0                       state
//   immediate reg 0 accept|drop  |  reject icmpx port-unreachable

constexpr uint32_t kDaddrOffset4 = 16;  // offsetof(struct iphdr, daddr)
constexpr uint32_t kDaddrOffset6 = 24;  // offsetof(struct ip6_hdr, ip6_dst)

constexpr std::pair<const char*, uint32_t> kStates[] = {
    {"established", 1u << 1}, {"related", 1u << 2}, {"new", 1u << 3}};  // NF_CT_STATE_BIT
constexpr std::pair<const char*, uint8_t> kProtos[] = {
    {"tcp", IPPROTO_TCP}, {"udp", IPPROTO_UDP}, {"icmp", IPPROTO_ICMP}, {"icmpv6", IPPROTO_ICMPV6}};

void encode_filter(const NftRule& r, Builder& b) {
  if (r.family) {
    uint8_t p = nfproto(*r.family);
    b.meta(NFT_META_NFPROTO);
    b.cmp_eq(&p, 1);
  }
  bool v4 = r.family == Family::v4;
  if (r.source) match_prefix(b, *r.source, v4 ? kSaddrOffset4 : kSaddrOffset6, r.not_source ? NFT_CMP_NEQ : NFT_CMP_EQ);
  if (r.destination)
    match_prefix(b, *r.destination, v4 ? kDaddrOffset4 : kDaddrOffset6, r.not_destination ? NFT_CMP_NEQ : NFT_CMP_EQ);
  for (auto [key, name, neg] :
       {std::tuple{NFT_META_IIFNAME, &r.in, r.not_in}, std::tuple{NFT_META_OIFNAME, &r.out, r.not_out}}) {
    if (name->empty()) continue;
    auto n = ifname(*name);
    b.meta(key);
    b.cmp_eq(n.data(), static_cast<uint32_t>(n.size()), neg ? NFT_CMP_NEQ : NFT_CMP_EQ);
  }
  if (!r.proto.empty()) {
    uint8_t proto = 0;
    for (auto [name, number] : kProtos)
      if (r.proto == name) proto = number;
    if (!proto) throw std::invalid_argument("no protocol " + r.proto);
    b.meta(NFT_META_L4PROTO);
    b.cmp_eq(&proto, 1);
    if (r.port) {
      auto be = [](int64_t v) {
        return std::array<uint8_t, 2>{static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v & 0xff)};
      };
      b.payload(NFT_PAYLOAD_TRANSPORT_HEADER, kDportOffset, 2);
      if (r.port_max) {
        b.cmp_eq(be(r.port).data(), 2, NFT_CMP_GTE);
        b.cmp_eq(be(r.port_max).data(), 2, NFT_CMP_LTE);
      } else {
        b.cmp_eq(be(r.port).data(), 2);
      }
    }
  }
  if (!r.state.empty()) {
    uint32_t bits = 0, zero = 0;
    for (const std::string& s : r.state)
      for (auto [name, bit] : kStates)
        if (s == name) bits |= bit;
    Expr ct = expr("ct");
    nftnl_expr_set_u32(ct.get(), NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
    nftnl_expr_set_u32(ct.get(), NFTNL_EXPR_CT_DREG, NFT_REG_1);
    b.add(std::move(ct));
    b.bitwise(&bits, &zero, 4);
    b.cmp_eq(&zero, 4, NFT_CMP_NEQ);
  }
  if (r.kind == RuleKind::reject) {
    Expr e = expr("reject");
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_REJECT_TYPE, NFT_REJECT_ICMPX_UNREACH);
    nftnl_expr_set_u8(e.get(), NFTNL_EXPR_REJECT_CODE, NFT_REJECT_ICMPX_PORT_UNREACH);
    b.add(std::move(e));
  } else {
    Expr e = expr("immediate");
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
    nftnl_expr_set_u32(e.get(), NFTNL_EXPR_IMM_VERDICT, r.kind == RuleKind::accept ? NF_ACCEPT : NF_DROP);
    b.add(std::move(e));
  }
}

std::optional<NftRule> filter_shape(const Exprs& x) {
  NftRule r;
  size_t i = 0;
  if (x.meta(i, NFT_META_NFPROTO)) {
    auto d = x.cmp_eq(i + 1);
    if (!d || d->size() != 1 || ((*d)[0] != NFPROTO_IPV4 && (*d)[0] != NFPROTO_IPV6)) return std::nullopt;
    r.family = (*d)[0] == NFPROTO_IPV4 ? Family::v4 : Family::v6;
    i += 2;
  }
  if (r.family) {
    bool v4 = r.family == Family::v4;
    if (auto p = prefix_at(x, i, *r.family, v4 ? kSaddrOffset4 : kSaddrOffset6)) std::tie(r.source, r.not_source) = *p;
    if (auto p = prefix_at(x, i, *r.family, v4 ? kDaddrOffset4 : kDaddrOffset6))
      std::tie(r.destination, r.not_destination) = *p;
    if (!r.source && !r.destination) return std::nullopt;  // topo's family comes from a prefix
  }
  for (auto [key, name, neg] :
       {std::tuple{NFT_META_IIFNAME, &r.in, &r.not_in}, std::tuple{NFT_META_OIFNAME, &r.out, &r.not_out}}) {
    if (!x.meta(i, key)) continue;
    auto c = x.cmp(i + 1);
    if (!c || (c->first != NFT_CMP_EQ && c->first != NFT_CMP_NEQ) || (*name = ifname_of(c->second)).empty())
      return std::nullopt;
    *neg = c->first == NFT_CMP_NEQ;
    i += 2;
  }
  if (x.meta(i, NFT_META_L4PROTO)) {
    auto d = x.cmp_eq(i + 1);
    if (!d || d->size() != 1) return std::nullopt;
    for (auto [name, number] : kProtos)
      if ((*d)[0] == number) r.proto = name;
    if (r.proto.empty()) return std::nullopt;
    i += 2;
    if ((r.proto == "tcp" || r.proto == "udp") && x.payload(i, NFT_PAYLOAD_TRANSPORT_HEADER, kDportOffset)) {
      if (x.u32(i, NFTNL_EXPR_PAYLOAD_LEN) != 2) return std::nullopt;
      auto a = x.cmp(i + 1);
      if (!a || a->second.size() != 2) return std::nullopt;
      if (a->first == NFT_CMP_EQ) {
        r.port = port_of(a->second);
        i += 2;
      } else {
        auto b = x.cmp(i + 2);
        if (a->first != NFT_CMP_GTE || !b || b->first != NFT_CMP_LTE || b->second.size() != 2) return std::nullopt;
        r.port = port_of(a->second);
        r.port_max = port_of(b->second);
        if (r.port_max <= r.port) return std::nullopt;
        i += 3;
      }
      if (!r.port) return std::nullopt;
    }
  }
  if (x.is(i, "ct")) {
    if (x.u32(i, NFTNL_EXPR_CT_KEY) != NFT_CT_STATE || x.u32(i, NFTNL_EXPR_CT_DREG) != NFT_REG_1 ||
        x.has(i, NFTNL_EXPR_CT_DIR) || !x.is(i + 1, "bitwise") || x.u32(i + 1, NFTNL_EXPR_BITWISE_SREG) != NFT_REG_1 ||
        x.u32(i + 1, NFTNL_EXPR_BITWISE_DREG) != NFT_REG_1 || !all_zero(x.data(i + 1, NFTNL_EXPR_BITWISE_XOR)) ||
        (x.has(i + 1, NFTNL_EXPR_BITWISE_OP) && x.u32(i + 1, NFTNL_EXPR_BITWISE_OP) != NFT_BITWISE_BOOL))
      return std::nullopt;
    Bytes mask = x.data(i + 1, NFTNL_EXPR_BITWISE_MASK);
    auto c = x.cmp(i + 2);
    if (mask.size() != 4 || !c || c->first != NFT_CMP_NEQ || c->second.size() != 4 || !all_zero(c->second))
      return std::nullopt;
    uint32_t bits = 0, known = 0;
    std::memcpy(&bits, mask.data(), 4);
    for (auto [name, bit] : kStates) {
      known |= bit;
      if (bits & bit) r.state.emplace_back(name);
    }
    if (!bits || (bits & ~known)) return std::nullopt;
    i += 3;
  }
  if (x.is(i, "reject")) {
    if (x.u32(i, NFTNL_EXPR_REJECT_TYPE) != NFT_REJECT_ICMPX_UNREACH || !x.has(i, NFTNL_EXPR_REJECT_CODE) ||
        nftnl_expr_get_u8(x.at(i), NFTNL_EXPR_REJECT_CODE) != NFT_REJECT_ICMPX_PORT_UNREACH)
      return std::nullopt;
    r.kind = RuleKind::reject;
  } else if (x.is(i, "immediate") && x.u32(i, NFTNL_EXPR_IMM_DREG) == NFT_REG_VERDICT &&
             !x.has(i, NFTNL_EXPR_IMM_CHAIN)) {
    uint32_t v = x.u32(i, NFTNL_EXPR_IMM_VERDICT);
    if (v != NF_ACCEPT && v != NF_DROP) return std::nullopt;
    r.kind = v == NF_ACCEPT ? RuleKind::accept : RuleKind::drop;
  } else {
    return std::nullopt;
  }
  if (++i != x.size()) return std::nullopt;
  return r;
}

}  // namespace

void encode(const NftRule& r, nftnl_rule* into) {
  Builder b(into);
  if (r.is_filter()) return encode_filter(r, b);
  if (r.family) {
    uint8_t p = nfproto(*r.family);
    b.meta(NFT_META_NFPROTO);
    b.cmp_eq(&p, 1);
  }
  if (r.source) match_source(b, *r.source);
  if (r.kind == RuleKind::dnat) {
    uint32_t local = RTN_LOCAL;
    b.fib_daddr_type();
    b.cmp_eq(&local, sizeof local);
  }
  for (auto [key, name, neg] :
       {std::tuple{NFT_META_IIFNAME, &r.in, r.not_in}, std::tuple{NFT_META_OIFNAME, &r.out, r.not_out}}) {
    if (name->empty()) continue;
    auto n = ifname(*name);
    b.meta(key);
    b.cmp_eq(n.data(), static_cast<uint32_t>(n.size()), neg ? NFT_CMP_NEQ : NFT_CMP_EQ);
  }
  if (!r.proto.empty()) {
    uint8_t proto = r.proto == "tcp" ? IPPROTO_TCP : IPPROTO_UDP;
    uint8_t port[2] = {static_cast<uint8_t>(r.port >> 8), static_cast<uint8_t>(r.port & 0xff)};
    b.meta(NFT_META_L4PROTO);
    b.cmp_eq(&proto, 1);
    b.payload(NFT_PAYLOAD_TRANSPORT_HEADER, kDportOffset, 2);
    b.cmp_eq(port, 2);
  }
  if (r.kind == RuleKind::masquerade) {
    b.add(expr("masq"));
    return;
  }
  if (!r.to || !r.family)
    throw std::invalid_argument(fmt::format("a {} rule needs an address and a family", to_string(r.kind)));
  b.immediate(NFT_REG_1, r.to->bytes.data(), static_cast<uint32_t>(r.to->size()));
  uint32_t flags = NF_NAT_RANGE_MAP_IPS;
  if (r.to_port) {
    uint8_t port[2] = {static_cast<uint8_t>(r.to_port >> 8), static_cast<uint8_t>(r.to_port & 0xff)};
    b.immediate(NFT_REG_2, port, 2);
    flags |= NF_NAT_RANGE_PROTO_SPECIFIED;
  }
  Expr nat = expr("nat");
  nftnl_expr_set_u32(nat.get(), NFTNL_EXPR_NAT_TYPE, r.kind == RuleKind::snat ? NFT_NAT_SNAT : NFT_NAT_DNAT);
  nftnl_expr_set_u32(nat.get(), NFTNL_EXPR_NAT_FAMILY, nfproto(*r.family));
  nftnl_expr_set_u32(nat.get(), NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG_1);
  if (r.to_port) nftnl_expr_set_u32(nat.get(), NFTNL_EXPR_NAT_REG_PROTO_MIN, NFT_REG_2);
  nftnl_expr_set_u32(nat.get(), NFTNL_EXPR_NAT_FLAGS, flags);
  b.add(std::move(nat));
}

NftRule decode(nftnl_rule* rule) {
  Exprs x(rule);
  if (auto r = topo_shape(x)) return *r;
  if (auto r = filter_shape(x)) return *r;
  NftRule foreign;
  foreign.foreign = x.text();
  return foreign;
}

}  // namespace topo::nft
