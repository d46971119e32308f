#include "executor/nft.h"

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <sys/socket.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <functional>
#include <vector>

#include "executor/kernel_error.h"
#include "executor/netns.h"
#include "executor/transport.h"

namespace topo::nft {
namespace {

// Hooks by name, as the state values and `nft` call them.
const std::vector<std::pair<std::string, uint32_t>>& hooks() {
  static const std::vector<std::pair<std::string, uint32_t>> all = {{"prerouting", NF_INET_PRE_ROUTING},
                                                                    {"input", NF_INET_LOCAL_IN},
                                                                    {"forward", NF_INET_FORWARD},
                                                                    {"output", NF_INET_LOCAL_OUT},
                                                                    {"postrouting", NF_INET_POST_ROUTING}};
  return all;
}

uint32_t hook_number(const std::string& name) {
  for (const auto& [n, number] : hooks())
    if (n == name) return number;
  throw std::invalid_argument("no nftables hook " + name);
}

std::string hook_name(uint32_t number) {
  for (const auto& [n, h] : hooks())
    if (h == number) return n;
  return fmt::format("hook {}", number);
}

std::string str(const char* s) { return s ? s : ""; }

Table table_named(const std::string& name) {
  Table t(nftnl_table_alloc());
  if (!t) throw std::bad_alloc();
  nftnl_table_set_u32(t.get(), NFTNL_TABLE_FAMILY, NFPROTO_INET);
  nftnl_table_set_str(t.get(), NFTNL_TABLE_NAME, name.c_str());
  return t;
}

// The table's comment, kept in its userdata the way nft keeps it (a TLV of type
// NFTNL_UDATA_TABLE_COMMENT holding a NUL-terminated string): `nft list` shows it, and a
// table made by `nft add table inet topo-LAB { comment "topo:LAB"; }` carries the same mark.
std::string comment_of(nftnl_table* t) {
  if (!nftnl_table_is_set(t, NFTNL_TABLE_USERDATA)) return "";
  uint32_t len = 0;
  const void* data = nftnl_table_get_data(t, NFTNL_TABLE_USERDATA, &len);
  const char* comment = nullptr;  // points into the table's userdata
  auto cb = [](const nftnl_udata* attr, void* out) -> int {
    const auto* value = static_cast<const char*>(nftnl_udata_get(attr));
    uint8_t n = nftnl_udata_len(attr);
    if (nftnl_udata_type(attr) == NFTNL_UDATA_TABLE_COMMENT && n > 0 && value[n - 1] == '\0')
      *static_cast<const char**>(out) = value;
    return 0;
  };
  if (data) nftnl_udata_parse(data, len, cb, &comment);
  return comment ? comment : "";
}

void set_comment(nftnl_table* t, const std::string& comment) {
  Udata u(nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN));
  if (!u || !nftnl_udata_put_strz(u.get(), NFTNL_UDATA_TABLE_COMMENT, comment.c_str())) throw std::bad_alloc();
  nftnl_table_set_data(t, NFTNL_TABLE_USERDATA, nftnl_udata_buf_data(u.get()), nftnl_udata_buf_len(u.get()));
}

// One dump request of nfnetlink for the inet family, with `payload` added to it.
void dump(mnl_socket* sock, uint16_t type, const std::function<void(nlmsghdr*)>& payload, const nl::OnMessage& each,
          const std::string& what) {
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr* request = nftnl_nlmsg_build_hdr(buf.data(), type, NFPROTO_INET, NLM_F_DUMP, 0);
  if (payload) payload(request);
  nl::dump(mnl_socket_get_fd(sock), request, what, each);
}

}  // namespace

Socket socket_in(const Fd& netns, const std::string& what) {
  InNetns inside(netns);
  return socket_here(what);
}

Socket socket_here(const std::string& what) {
  Socket s(mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC));
  if (!s) throw KernelError("opening a netfilter socket in", what, std::strerror(errno), errno);
  if (mnl_socket_bind(s.get(), 0, MNL_SOCKET_AUTOPID) < 0)
    throw KernelError("binding a netfilter socket in", what, std::strerror(errno), errno);
  nl::ask_for_short_acks(mnl_socket_get_fd(s.get()));
  // A kernel that never answers is an error, not a hang.
  timeval timeout{10, 0};
  setsockopt(mnl_socket_get_fd(s.get()), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  return s;
}

std::optional<NftTable> read_table(mnl_socket* sock, const std::string& name, const std::string& where) {
  std::optional<NftTable> out;
  auto each_table = [&](const nlmsghdr* h) {
    Table t(nftnl_table_alloc());
    if (!t) throw std::bad_alloc();
    if (nftnl_table_nlmsg_parse(h, t.get()) < 0) throw KernelError("decoding", "a table in " + where, "malformed");
    if (str(nftnl_table_get_str(t.get(), NFTNL_TABLE_NAME)) != name) return;
    NftTable table;
    table.name = name;
    table.flags = nftnl_table_get_u32(t.get(), NFTNL_TABLE_FLAGS);
    table.mark = comment_of(t.get());
    if (nftnl_table_is_set(t.get(), NFTNL_TABLE_HANDLE))
      table.handle = nftnl_table_get_u64(t.get(), NFTNL_TABLE_HANDLE);
    out = table;
  };
  try {
    dump(sock, NFT_MSG_GETTABLE, nullptr, each_table, "nftables tables in " + where);
  } catch (const KernelError& e) {
    // A kernel without nf_tables has no table to read; plans without NAT still work there,
    // and an apply with NAT fails at its batch with the kernel's own reason.
    if (e.error() == EOPNOTSUPP || e.error() == EPROTONOSUPPORT) return std::nullopt;
    throw;
  }
  if (!out) return out;
  std::string object = "nftables table inet " + name + " in " + where;
  // Chains are dumped for the whole family (the kernel has no filter for them) and picked.
  dump(
      sock, NFT_MSG_GETCHAIN, nullptr,
      [&](const nlmsghdr* h) {
        Chain c(nftnl_chain_alloc());
        if (!c) throw std::bad_alloc();
        if (nftnl_chain_nlmsg_parse(h, c.get()) < 0) throw KernelError("decoding", "a chain of " + object, "malformed");
        if (str(nftnl_chain_get_str(c.get(), NFTNL_CHAIN_TABLE)) != name) return;
        NftChain chain;
        chain.name = str(nftnl_chain_get_str(c.get(), NFTNL_CHAIN_NAME));
        if (nftnl_chain_is_set(c.get(), NFTNL_CHAIN_TYPE))
          chain.type = str(nftnl_chain_get_str(c.get(), NFTNL_CHAIN_TYPE));
        if (nftnl_chain_is_set(c.get(), NFTNL_CHAIN_HOOKNUM)) {
          chain.hook = hook_name(nftnl_chain_get_u32(c.get(), NFTNL_CHAIN_HOOKNUM));
          chain.priority = nftnl_chain_get_s32(c.get(), NFTNL_CHAIN_PRIO);
        }
        if (nftnl_chain_is_set(c.get(), NFTNL_CHAIN_POLICY))
          chain.policy = nftnl_chain_get_u32(c.get(), NFTNL_CHAIN_POLICY) == NF_ACCEPT ? "accept" : "drop";
        out->chains.push_back(std::move(chain));
      },
      "the chains of " + object);
  // Rules: the kernel dumps only those of the table named in the request.
  Rule filter(nftnl_rule_alloc());
  if (!filter) throw std::bad_alloc();
  nftnl_rule_set_str(filter.get(), NFTNL_RULE_TABLE, name.c_str());
  dump(
      sock, NFT_MSG_GETRULE, [&](nlmsghdr* h) { nftnl_rule_nlmsg_build_payload(h, filter.get()); },
      [&](const nlmsghdr* h) {
        Rule r(nftnl_rule_alloc());
        if (!r) throw std::bad_alloc();
        if (nftnl_rule_nlmsg_parse(h, r.get()) < 0) throw KernelError("decoding", "a rule of " + object, "malformed");
        if (str(nftnl_rule_get_str(r.get(), NFTNL_RULE_TABLE)) != name) return;
        std::string chain = str(nftnl_rule_get_str(r.get(), NFTNL_RULE_CHAIN));
        for (NftChain& c : out->chains)
          if (c.name == chain) c.rules.push_back(decode(r.get()));
      },
      "the rules of " + object);
  return out;
}

TableBatch table_batch(const std::optional<NftTable>& before, const std::optional<NftTable>& after,
                       bool refused_message) {
  const NftTable& shown = after ? *after : *before;
  TableBatch out;
  out.batch.reset(nftnl_batch_alloc(MNL_SOCKET_BUFFER_SIZE, MNL_SOCKET_BUFFER_SIZE));
  if (!out.batch) throw std::bad_alloc();
  nftnl_batch* batch = out.batch.get();
  auto buffer = [&] { return static_cast<char*>(nftnl_batch_buffer(batch)); };
  auto next = [&] {
    if (nftnl_batch_update(batch) < 0) throw std::bad_alloc();
  };
  uint32_t seq = 1;
  auto frame = [&](bool begin, std::string step) {
    out.steps.push_back(std::move(step));
    begin ? nftnl_batch_begin(buffer(), seq++) : nftnl_batch_end(buffer(), seq++);
    next();
  };
  // Every message asks for its ack: the kernel answers each (0 or an errno) once the whole
  // batch has been committed or rejected.
  auto message = [&](uint16_t type, uint16_t flags, std::string step) {
    out.steps.push_back(std::move(step));
    return nftnl_nlmsg_build_hdr(buffer(), type, NFPROTO_INET, flags | NLM_F_ACK, seq++);
  };
  frame(true, "starting the batch for");
  if (before) {
    // By the handle read with it: a table of the same name swapped in since the plan was
    // made is then not deleted (the kernel refuses the batch: no such table). By name only
    // for a table this run made itself (an undo), whose handle it did not read.
    Table t = table_named(before->name);
    if (before->handle) {
      nftnl_table_unset(t.get(), NFTNL_TABLE_NAME);
      nftnl_table_set_u64(t.get(), NFTNL_TABLE_HANDLE, before->handle);
    }
    nftnl_table_nlmsg_build_payload(message(NFT_MSG_DELTABLE, 0, "deleting"), t.get());
    next();
  }
  if (after) {
    Table t = table_named(after->name);
    nftnl_table_set_u32(t.get(), NFTNL_TABLE_FLAGS, after->flags);
    set_comment(t.get(), after->mark);
    // EXCL: a table of this name that appeared since the plan was made is not joined.
    nftnl_table_nlmsg_build_payload(message(NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_EXCL, "making"), t.get());
    next();
    for (const NftChain& c : after->chains) {
      Chain chain(nftnl_chain_alloc());
      if (!chain) throw std::bad_alloc();
      nftnl_chain_set_u32(chain.get(), NFTNL_CHAIN_FAMILY, NFPROTO_INET);
      nftnl_chain_set_str(chain.get(), NFTNL_CHAIN_TABLE, after->name.c_str());
      nftnl_chain_set_str(chain.get(), NFTNL_CHAIN_NAME, c.name.c_str());
      if (!c.hook.empty()) {
        nftnl_chain_set_str(chain.get(), NFTNL_CHAIN_TYPE, c.type.c_str());
        nftnl_chain_set_u32(chain.get(), NFTNL_CHAIN_HOOKNUM, hook_number(c.hook));
        nftnl_chain_set_s32(chain.get(), NFTNL_CHAIN_PRIO, c.priority);
        nftnl_chain_set_u32(chain.get(), NFTNL_CHAIN_POLICY, c.policy == "drop" ? NF_DROP : NF_ACCEPT);
      }
      nftnl_chain_nlmsg_build_payload(
          message(NFT_MSG_NEWCHAIN, NLM_F_CREATE | NLM_F_EXCL, "making chain " + c.name + " in"), chain.get());
      next();
    }
    for (const NftChain& c : after->chains) {
      for (size_t i = 0; i < c.rules.size(); ++i) {
        Rule rule(nftnl_rule_alloc());
        if (!rule) throw std::bad_alloc();
        nftnl_rule_set_u32(rule.get(), NFTNL_RULE_FAMILY, NFPROTO_INET);
        nftnl_rule_set_str(rule.get(), NFTNL_RULE_TABLE, after->name.c_str());
        nftnl_rule_set_str(rule.get(), NFTNL_RULE_CHAIN, c.name.c_str());
        encode(c.rules[i], rule.get());
        std::string step = fmt::format("adding rule {} of chain {} ({}) to", i + 1, c.name, to_string(c.rules[i].kind));
        nftnl_rule_nlmsg_build_payload(message(NFT_MSG_NEWRULE, NLM_F_APPEND | NLM_F_CREATE, step), rule.get());
        next();
      }
    }
  }
  if (refused_message) {
    // Test-only: a rule for a chain that does not exist, last, after everything else has
    // been taken: the kernel must then drop the whole batch.
    Rule rule(nftnl_rule_alloc());
    if (!rule) throw std::bad_alloc();
    nftnl_rule_set_u32(rule.get(), NFTNL_RULE_FAMILY, NFPROTO_INET);
    nftnl_rule_set_str(rule.get(), NFTNL_RULE_TABLE, shown.name.c_str());
    nftnl_rule_set_str(rule.get(), NFTNL_RULE_CHAIN, "topo-test-no-such-chain");
    Expr masq(nftnl_expr_alloc("masq"));
    if (!masq) throw std::bad_alloc();
    nftnl_rule_add_expr(rule.get(), masq.release());
    nftnl_rule_nlmsg_build_payload(
        message(NFT_MSG_NEWRULE, NLM_F_APPEND | NLM_F_CREATE, "adding the rule a test asks the kernel to refuse to"),
        rule.get());
    next();
  }
  frame(false, "committing the batch for");
  return out;
}

std::vector<iovec> TableBatch::buffers() const {
  std::vector<iovec> iov(static_cast<size_t>(nftnl_batch_iovec_len(batch.get())));
  nftnl_batch_iovec(batch.get(), iov.data(), static_cast<uint32_t>(iov.size()));
  return iov;
}

void replace_table(mnl_socket* sock, const std::optional<NftTable>& before, const std::optional<NftTable>& after,
                   const std::string& where, bool refused_message) {
  const NftTable& shown = after ? *after : *before;
  const std::string object = "nftables table inet " + shown.name + " in " + where;
  TableBatch batch = table_batch(before, after, refused_message);
  // One sendmsg: the kernel takes the batch as one transaction only when it comes whole.
  std::vector<iovec> iov = batch.buffers();
  size_t total = 0;
  for (const iovec& v : iov) total += v.iov_len;
  int fd = mnl_socket_get_fd(sock);
  int sndbuf = static_cast<int>(total + 65536), rcvbuf = static_cast<int>(batch.steps.size() * 1024 + 65536);
  if (total > 65536) setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof sndbuf);
  setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf);
  std::vector<nl::Ack> acks = nl::exchange(fd, iov, object);
  // A batch the kernel refused has an answer for each message it got to; the first refusal
  // is the one that explains the rest.
  for (size_t i = 0; i < acks.size(); ++i)
    if (acks[i].error)
      throw KernelError(batch.steps[i], object, acks[i].reason() + "; the kernel took none of the batch",
                        -acks[i].error);
}

}  // namespace topo::nft
