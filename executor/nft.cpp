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

namespace topo::nft {
namespace {

constexpr size_t kReceiveSize = 32768;  // what the kernel puts in one message of a dump, at most

// Hooks by name, as the state values and `nft` call them.
const std::vector<std::pair<std::string, uint32_t>>& hooks() {
  static const std::vector<std::pair<std::string, uint32_t>> all = {
      {"prerouting", NF_INET_PRE_ROUTING}, {"input", NF_INET_LOCAL_IN},        {"forward", NF_INET_FORWARD},
      {"output", NF_INET_LOCAL_OUT},       {"postrouting", NF_INET_POST_ROUTING}};
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

// One dump request; `each` gets every object message of the answer. The kernel says EINTR
// when the ruleset changed while it was dumping: then the dump is asked for again.
void dump(mnl_socket* sock, uint16_t type, const std::function<void(nlmsghdr*)>& payload,
          const std::function<void(const nlmsghdr*)>& each, const std::string& what) {
  for (int attempt = 0;; ++attempt) {
    std::vector<char> buf(kReceiveSize);
    uint32_t seq = static_cast<uint32_t>(attempt + 1);
    nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf.data(), type, NFPROTO_INET, NLM_F_DUMP, seq);
    if (payload) payload(nlh);
    if (mnl_socket_sendto(sock, nlh, nlh->nlmsg_len) < 0)
      throw KernelError("asking for", what, std::strerror(errno), errno);
    // libmnl is C: an exception must not cross it. The callback keeps it for after.
    struct Context {
      const std::function<void(const nlmsghdr*)>& each;
      std::exception_ptr error;
    } context{each, nullptr};
    auto cb = [](const nlmsghdr* h, void* data) -> int {
      auto* c = static_cast<Context*>(data);
      try {
        c->each(h);
        return MNL_CB_OK;
      } catch (...) {
        c->error = std::current_exception();
        return MNL_CB_STOP;
      }
    };
    uint32_t portid = mnl_socket_get_portid(sock);
    int ret = MNL_CB_OK;
    while (ret > MNL_CB_STOP) {
      ssize_t n = mnl_socket_recvfrom(sock, buf.data(), buf.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        throw KernelError("reading", what, std::strerror(errno), errno);
      }
      ret = mnl_cb_run(buf.data(), static_cast<size_t>(n), seq, portid, cb, &context);
    }
    if (context.error) std::rethrow_exception(context.error);
    if (ret == MNL_CB_ERROR && errno == EINTR && attempt < 10) continue;
    if (ret == MNL_CB_ERROR) throw KernelError("reading", what, std::strerror(errno), errno);
    return;
  }
}

// One message of a batch, for the error when the kernel refuses it.
struct Sent {
  std::string step;  // "adding rule 2 of chain postrouting (masquerade 10.0.0.0/24) to"
};

std::string extack_message(const nlmsghdr* h) {
  // With NETLINK_EXT_ACK the error may carry the kernel's own words after the (capped) request.
  if (!(h->nlmsg_flags & NLM_F_ACK_TLVS)) return "";
  const auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(h));
  size_t offset = sizeof(nlmsgerr);
  if (!(h->nlmsg_flags & NLM_F_CAPPED)) offset += err->msg.nlmsg_len - sizeof(nlmsghdr);
  std::string out;
  const auto* tail = static_cast<const char*>(mnl_nlmsg_get_payload_tail(h));
  for (auto* attr = static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(h, offset));
       mnl_attr_ok(attr, static_cast<int>(tail - reinterpret_cast<const char*>(attr))); attr = mnl_attr_next(attr))
    if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG) out = mnl_attr_get_str(attr);
  return out;
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
  int one = 1;
  // Acks without a copy of the request (a batch's answers stay small), but with the
  // kernel's own words when it has some.
  mnl_socket_setsockopt(s.get(), NETLINK_CAP_ACK, &one, sizeof one);
  mnl_socket_setsockopt(s.get(), NETLINK_EXT_ACK, &one, sizeof one);
  // A kernel that never answers is an error, not a hang.
  timeval timeout{10, 0};
  setsockopt(mnl_socket_get_fd(s.get()), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  return s;
}

std::optional<NatTable> read_table(mnl_socket* sock, const std::string& name, const std::string& where) {
  std::optional<NatTable> out;
  auto each_table = [&](const nlmsghdr* h) {
    Table t(nftnl_table_alloc());
    if (!t) throw std::bad_alloc();
    if (nftnl_table_nlmsg_parse(h, t.get()) < 0) throw KernelError("decoding", "a table in " + where, "malformed");
    if (str(nftnl_table_get_str(t.get(), NFTNL_TABLE_NAME)) != name) return;
    NatTable table;
    table.name = name;
    table.flags = nftnl_table_get_u32(t.get(), NFTNL_TABLE_FLAGS);
    table.mark = comment_of(t.get());
    if (nftnl_table_is_set(t.get(), NFTNL_TABLE_HANDLE)) table.handle = nftnl_table_get_u64(t.get(), NFTNL_TABLE_HANDLE);
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
  dump(sock, NFT_MSG_GETCHAIN, nullptr, [&](const nlmsghdr* h) {
    Chain c(nftnl_chain_alloc());
    if (!c) throw std::bad_alloc();
    if (nftnl_chain_nlmsg_parse(h, c.get()) < 0) throw KernelError("decoding", "a chain of " + object, "malformed");
    if (str(nftnl_chain_get_str(c.get(), NFTNL_CHAIN_TABLE)) != name) return;
    NatChain chain;
    chain.name = str(nftnl_chain_get_str(c.get(), NFTNL_CHAIN_NAME));
    if (nftnl_chain_is_set(c.get(), NFTNL_CHAIN_TYPE)) chain.type = str(nftnl_chain_get_str(c.get(), NFTNL_CHAIN_TYPE));
    if (nftnl_chain_is_set(c.get(), NFTNL_CHAIN_HOOKNUM)) {
      chain.hook = hook_name(nftnl_chain_get_u32(c.get(), NFTNL_CHAIN_HOOKNUM));
      chain.priority = nftnl_chain_get_s32(c.get(), NFTNL_CHAIN_PRIO);
    }
    if (nftnl_chain_is_set(c.get(), NFTNL_CHAIN_POLICY))
      chain.policy = nftnl_chain_get_u32(c.get(), NFTNL_CHAIN_POLICY) == NF_ACCEPT ? "accept" : "drop";
    out->chains.push_back(std::move(chain));
  }, "the chains of " + object);
  // Rules: the kernel dumps only those of the table named in the request.
  Rule filter(nftnl_rule_alloc());
  if (!filter) throw std::bad_alloc();
  nftnl_rule_set_str(filter.get(), NFTNL_RULE_TABLE, name.c_str());
  dump(sock, NFT_MSG_GETRULE, [&](nlmsghdr* h) { nftnl_rule_nlmsg_build_payload(h, filter.get()); },
       [&](const nlmsghdr* h) {
         Rule r(nftnl_rule_alloc());
         if (!r) throw std::bad_alloc();
         if (nftnl_rule_nlmsg_parse(h, r.get()) < 0) throw KernelError("decoding", "a rule of " + object, "malformed");
         if (str(nftnl_rule_get_str(r.get(), NFTNL_RULE_TABLE)) != name) return;
         std::string chain = str(nftnl_rule_get_str(r.get(), NFTNL_RULE_CHAIN));
         for (NatChain& c : out->chains)
           if (c.name == chain) c.rules.push_back(decode(r.get()));
       },
       "the rules of " + object);
  return out;
}

void replace_table(mnl_socket* sock, const std::optional<NatTable>& before, const std::optional<NatTable>& after,
                   const std::string& where, bool refused_message) {
  const NatTable& shown = after ? *after : *before;
  const std::string object = "nftables table inet " + shown.name + " in " + where;
  Batch batch(nftnl_batch_alloc(MNL_SOCKET_BUFFER_SIZE, MNL_SOCKET_BUFFER_SIZE));
  if (!batch) throw std::bad_alloc();
  auto buffer = [&] { return static_cast<char*>(nftnl_batch_buffer(batch.get())); };
  auto next = [&] {
    if (nftnl_batch_update(batch.get()) < 0) throw std::bad_alloc();
  };
  uint32_t seq = 1;
  const uint32_t begin_seq = seq;
  nftnl_batch_begin(buffer(), seq++);
  next();
  const uint32_t first = seq;
  std::vector<Sent> sent;
  // Every message asks for its ack: the kernel answers each (0 or an errno) once the whole
  // batch has been committed or rejected.
  auto message = [&](uint16_t type, uint16_t flags, std::string step) {
    sent.push_back({std::move(step)});
    return nftnl_nlmsg_build_hdr(buffer(), type, NFPROTO_INET, flags | NLM_F_ACK, seq++);
  };
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
    for (const NatChain& c : after->chains) {
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
    for (const NatChain& c : after->chains) {
      for (size_t i = 0; i < c.rules.size(); ++i) {
        Rule rule(nftnl_rule_alloc());
        if (!rule) throw std::bad_alloc();
        nftnl_rule_set_u32(rule.get(), NFTNL_RULE_FAMILY, NFPROTO_INET);
        nftnl_rule_set_str(rule.get(), NFTNL_RULE_TABLE, after->name.c_str());
        nftnl_rule_set_str(rule.get(), NFTNL_RULE_CHAIN, c.name.c_str());
        encode(c.rules[i], rule.get());
        std::string step = fmt::format("adding rule {} of chain {} ({}) to", i + 1, c.name,
                                       c.rules[i].kind.empty() ? "foreign" : c.rules[i].kind);
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
        message(NFT_MSG_NEWRULE, NLM_F_APPEND | NLM_F_CREATE, "adding the rule TOPO_TEST_FAIL_NFT asks for (test only) to"),
        rule.get());
    next();
  }
  nftnl_batch_end(buffer(), seq++);
  next();

  // One sendmsg: the kernel takes the batch as one transaction only when it comes whole.
  std::vector<iovec> iov(static_cast<size_t>(nftnl_batch_iovec_len(batch.get())));
  nftnl_batch_iovec(batch.get(), iov.data(), static_cast<uint32_t>(iov.size()));
  size_t total = 0;
  for (const iovec& v : iov) total += v.iov_len;
  int fd = mnl_socket_get_fd(sock);
  int sndbuf = static_cast<int>(total + 65536), rcvbuf = static_cast<int>(sent.size() * 1024 + 65536);
  if (total > 65536) setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof sndbuf);
  setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf);
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  msghdr msg{};
  msg.msg_name = &kernel;
  msg.msg_namelen = sizeof kernel;
  msg.msg_iov = iov.data();
  msg.msg_iovlen = iov.size();
  if (::sendmsg(fd, &msg, 0) < 0) throw KernelError("sending the batch for", object, std::strerror(errno), errno);

  // Read every answer, not just up to the first error: a batch the kernel refused has an
  // answer for each message, and the first refusal is the one that explains the rest.
  // The kernel answers while sendmsg runs, so once all acks (or a refusal of the batch as a
  // whole) are in, whatever is left is already queued and read without waiting.
  size_t acked = 0;
  bool batch_refused = false;
  int error = 0;
  std::string error_step, error_text;
  std::vector<char> buf(kReceiveSize);
  for (;;) {
    bool all_in = acked >= sent.size() || batch_refused;
    ssize_t n = ::recv(fd, buf.data(), buf.size(), all_in ? MSG_DONTWAIT : 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (all_in && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      throw KernelError("reading the kernel's answers for", object,
                        fmt::format("{} ({} of {} answers read)", std::strerror(errno), acked, sent.size()), errno);
    }
    int left = static_cast<int>(n);
    for (const auto* h = reinterpret_cast<const nlmsghdr*>(buf.data()); mnl_nlmsg_ok(h, left);
         h = mnl_nlmsg_next(h, &left)) {
      if (h->nlmsg_type != NLMSG_ERROR) continue;
      const auto* e = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(h));
      bool mine = h->nlmsg_seq >= first && h->nlmsg_seq < first + sent.size();
      if (mine) ++acked;
      if (h->nlmsg_seq == begin_seq || h->nlmsg_seq == seq - 1) batch_refused |= e->error != 0;
      if (e->error == 0 || error) continue;
      error = -e->error;
      error_step = mine ? sent[h->nlmsg_seq - first].step : "committing the batch for";
      error_text = extack_message(h);
    }
  }
  if (error) {
    std::string reason = std::strerror(error);
    if (!error_text.empty()) reason += " (" + error_text + ")";
    throw KernelError(error_step, object, reason + "; the kernel took none of the batch", error);
  }
  if (acked < sent.size())
    throw KernelError("committing the batch for", object,
                      fmt::format("the kernel answered {} of {} messages", acked, sent.size()));
}

}  // namespace topo::nft
