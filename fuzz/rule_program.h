// An nftables rule as fuzz_state's bytes spell it: expressions built through libnftnl's
// setters, not parsed from netlink. libnftnl's parser trusts the kernel's messages: it
// exit()s on an attribute of the wrong size ("nf_tables kernel ABI is broken") and reads
// through a null pointer on an expression without a name, so fuzzing it would find only
// that. What the reader's own code does with any rule (nft::decode) is fuzzed from here.
//
// The bytes: per expression, one byte for its name (kExprs), then for each attribute of
// that name in order, one byte whose low bit says whether it is set and, when set, its
// value: 4 bytes (u32), 1 byte (u8), or a length byte (up to 16) and that many bytes (data
// and strings). Bytes that run out end the rule.
#pragma once

#include <linux/netfilter/nf_tables.h>

#include <libnftnl/expr.h>
#include <libnftnl/rule.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

namespace topo::fuzz {

enum class AttrKind { u32, u8, data, str };
struct Attr {
  uint16_t id;
  AttrKind kind;
};
struct ExprShape {
  const char* name;
  std::vector<Attr> attrs;
};

// Every expression and attribute executor/nft_rule.cpp reads or writes, and a counter.
inline const std::vector<ExprShape>& expr_shapes() {
  using enum AttrKind;
  static const std::vector<ExprShape> shapes = {
      {"meta", {{NFTNL_EXPR_META_KEY, u32}, {NFTNL_EXPR_META_DREG, u32}}},
      {"payload",
       {{NFTNL_EXPR_PAYLOAD_DREG, u32},
        {NFTNL_EXPR_PAYLOAD_BASE, u32},
        {NFTNL_EXPR_PAYLOAD_OFFSET, u32},
        {NFTNL_EXPR_PAYLOAD_LEN, u32}}},
      {"cmp", {{NFTNL_EXPR_CMP_SREG, u32}, {NFTNL_EXPR_CMP_OP, u32}, {NFTNL_EXPR_CMP_DATA, data}}},
      {"bitwise",
       {{NFTNL_EXPR_BITWISE_SREG, u32},
        {NFTNL_EXPR_BITWISE_DREG, u32},
        {NFTNL_EXPR_BITWISE_LEN, u32},
        {NFTNL_EXPR_BITWISE_OP, u32},
        {NFTNL_EXPR_BITWISE_MASK, data},
        {NFTNL_EXPR_BITWISE_XOR, data}}},
      {"fib", {{NFTNL_EXPR_FIB_DREG, u32}, {NFTNL_EXPR_FIB_FLAGS, u32}, {NFTNL_EXPR_FIB_RESULT, u32}}},
      {"immediate",
       {{NFTNL_EXPR_IMM_DREG, u32},
        {NFTNL_EXPR_IMM_DATA, data},
        {NFTNL_EXPR_IMM_VERDICT, u32},
        {NFTNL_EXPR_IMM_CHAIN, str}}},
      {"ct", {{NFTNL_EXPR_CT_DREG, u32}, {NFTNL_EXPR_CT_KEY, u32}, {NFTNL_EXPR_CT_DIR, u8}}},
      {"masq", {{NFTNL_EXPR_MASQ_FLAGS, u32}, {NFTNL_EXPR_MASQ_REG_PROTO_MIN, u32}}},
      {"nat",
       {{NFTNL_EXPR_NAT_TYPE, u32},
        {NFTNL_EXPR_NAT_FAMILY, u32},
        {NFTNL_EXPR_NAT_FLAGS, u32},
        {NFTNL_EXPR_NAT_REG_ADDR_MIN, u32},
        {NFTNL_EXPR_NAT_REG_ADDR_MAX, u32},
        {NFTNL_EXPR_NAT_REG_PROTO_MIN, u32},
        {NFTNL_EXPR_NAT_REG_PROTO_MAX, u32}}},
      {"reject", {{NFTNL_EXPR_REJECT_TYPE, u32}, {NFTNL_EXPR_REJECT_CODE, u8}}},
      {"counter", {}},
  };
  return shapes;
}

inline constexpr size_t kMaxData = 16;  // an IPv6 address; libnftnl's registers hold 64
inline constexpr size_t kMaxExprs = 24;

// libnftnl's contract for an immediate: a chain goes with a jump or goto verdict and with
// nothing else (it frees the chain only with those, and takes a jump's chain from the data
// otherwise), as the kernel sends them. The bytes are held to it.
inline bool jumps(nftnl_expr* e) {
  if (!nftnl_expr_is_set(e, NFTNL_EXPR_IMM_VERDICT)) return false;
  auto v = static_cast<int32_t>(nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_VERDICT));
  return v == NFT_JUMP || v == NFT_GOTO;
}

/// Adds the expressions `bytes` spell to `rule` (which owns them).
inline void build_rule(std::span<const std::byte> bytes, nftnl_rule* rule) {
  size_t at = 0;
  auto next = [&](size_t n) -> const std::byte* {
    if (bytes.size() - at < n) return nullptr;
    const std::byte* p = bytes.data() + at;
    at += n;
    return p;
  };
  const auto& shapes = expr_shapes();
  for (size_t count = 0; count < kMaxExprs; ++count) {
    const std::byte* which = next(1);
    if (!which) return;
    const ExprShape& shape = shapes[static_cast<uint8_t>(*which) % shapes.size()];
    nftnl_expr* e = nftnl_expr_alloc(shape.name);
    if (!e) return;
    nftnl_rule_add_expr(rule, e);
    for (const Attr& a : shape.attrs) {
      const std::byte* flag = next(1);
      if (!flag) return;
      if (!(static_cast<uint8_t>(*flag) & 1)) continue;
      if (a.kind == AttrKind::u32) {
        const std::byte* v = next(4);
        if (!v) return;
        uint32_t x;
        std::memcpy(&x, v, 4);
        nftnl_expr_set_u32(e, a.id, x);
      } else if (a.kind == AttrKind::u8) {
        const std::byte* v = next(1);
        if (!v) return;
        nftnl_expr_set_u8(e, a.id, static_cast<uint8_t>(*v));
      } else {
        const std::byte* len = next(1);
        if (!len) return;
        size_t n = static_cast<uint8_t>(*len) % (kMaxData + 1);
        const std::byte* v = next(n);
        if (!v) return;
        if (a.kind == AttrKind::data) {
          nftnl_expr_set(e, a.id, v, static_cast<uint32_t>(n));
        } else if (a.id != NFTNL_EXPR_IMM_CHAIN || jumps(e)) {
          std::string s(reinterpret_cast<const char*>(v), n);
          nftnl_expr_set_str(e, a.id, s.c_str());
        }
      }
    }
    if (jumps(e) && !nftnl_expr_is_set(e, NFTNL_EXPR_IMM_CHAIN)) nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, "");
  }
}

/// The bytes that spell `rule`'s expressions (those of expr_shapes()), for seeds.
inline std::string spell_rule(nftnl_rule* rule) {
  std::string out;
  const auto& shapes = expr_shapes();
  nftnl_expr_iter* it = nftnl_expr_iter_create(rule);
  for (nftnl_expr* e = nftnl_expr_iter_next(it); e; e = nftnl_expr_iter_next(it)) {
    const char* name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
    size_t i = 0;
    while (i < shapes.size() && (!name || std::strcmp(shapes[i].name, name) != 0)) ++i;
    if (i == shapes.size()) continue;
    out += static_cast<char>(i);
    for (const Attr& a : shapes[i].attrs) {
      if (!nftnl_expr_is_set(e, a.id)) {
        out += '\0';
        continue;
      }
      out += '\1';
      if (a.kind == AttrKind::u32) {
        uint32_t x = nftnl_expr_get_u32(e, a.id);
        out.append(reinterpret_cast<const char*>(&x), 4);
      } else if (a.kind == AttrKind::u8) {
        out += static_cast<char>(nftnl_expr_get_u8(e, a.id));
      } else {
        uint32_t len = 0;
        const char* v = static_cast<const char*>(nftnl_expr_get(e, a.id, &len));
        if (a.kind == AttrKind::str) len = v ? static_cast<uint32_t>(strnlen(v, kMaxData)) : 0;
        len = std::min<uint32_t>(len, kMaxData);
        out += static_cast<char>(len);
        out.append(v ? v : "", v ? len : 0);
      }
    }
  }
  nftnl_expr_iter_destroy(it);
  return out;
}

}  // namespace topo::fuzz
