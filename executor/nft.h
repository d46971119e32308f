// nftables over libnftnl + libmnl: the lab's NAT table read from the kernel and replaced in
// one batch. The kernel commits a batch whole or not at all, so a table is never left
// half-made, and the inverse of a change is the same call with before and after swapped.
// Every kernel handle is owned by a unique_ptr; topo never runs `nft`.
#pragma once

#include <libmnl/libmnl.h>
#include <libnftnl/batch.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <sys/uio.h>

#include "executor/fd.h"
#include "planner/state.h"

namespace topo::nft {

struct TableFree {
  void operator()(nftnl_table* t) const { nftnl_table_free(t); }
};
struct ChainFree {
  void operator()(nftnl_chain* c) const { nftnl_chain_free(c); }
};
struct RuleFree {
  void operator()(nftnl_rule* r) const { nftnl_rule_free(r); }
};
struct ExprFree {
  void operator()(nftnl_expr* e) const { nftnl_expr_free(e); }
};
struct BatchFree {
  void operator()(nftnl_batch* b) const { nftnl_batch_free(b); }
};
struct UdataFree {
  void operator()(nftnl_udata_buf* u) const { nftnl_udata_buf_free(u); }
};
struct SocketClose {
  void operator()(mnl_socket* s) const { mnl_socket_close(s); }
};

using Table = std::unique_ptr<nftnl_table, TableFree>;
using Chain = std::unique_ptr<nftnl_chain, ChainFree>;
using Rule = std::unique_ptr<nftnl_rule, RuleFree>;
using Expr = std::unique_ptr<nftnl_expr, ExprFree>;
using Batch = std::unique_ptr<nftnl_batch, BatchFree>;
using Udata = std::unique_ptr<nftnl_udata_buf, UdataFree>;
using Socket = std::unique_ptr<mnl_socket, SocketClose>;

/// A NETLINK_NETFILTER socket opened inside `netns`: it keeps talking to that namespace.
/// `what` names the namespace in errors. Throws KernelError.
Socket socket_in(const Fd& netns, const std::string& what);

/// The same, in the namespace of the calling thread.
Socket socket_here(const std::string& what);

/// The table `name` of family inet as the kernel holds it, its rules decoded; nullopt when
/// there is none. Three dumps at most: tables, then (only when it exists) its chains and
/// rules. Throws KernelError.
std::optional<NftTable> read_table(mnl_socket* sock, const std::string& name, const std::string& where);

/// The messages that take the kernel's table from `before` to `after` in one nfnetlink batch
/// (begin, the table deleted when `before` exists, then made again with its chains and rules
/// when `after` does, end), and what each message does, for errors. Pure: no socket.
struct TableBatch {
  Batch batch;
  std::vector<std::string> steps;  // one per message, begin and end included
  /// The batch's bytes, for one sendmsg.
  std::vector<iovec> buffers() const;
};
TableBatch table_batch(const std::optional<NftTable>& before, const std::optional<NftTable>& after,
                       bool refused_message = false);

/// Makes the kernel's table go from `before` to `after` in one batch: the table deleted
/// (when `before` exists), then made again with its chains and rules (when `after` does).
/// Every message is acknowledged; the first refusal is thrown as a KernelError naming the
/// message, and the kernel has then changed nothing. `refused_message`: test-only (see
/// executor/fault_injection.h), a last message the kernel must refuse.
void replace_table(mnl_socket* sock, const std::optional<NftTable>& before, const std::optional<NftTable>& after,
                   const std::string& where, bool refused_message = false);

/// The rule's expressions, as topo makes them and nft makes them from nft_syntax().
void encode(const NftRule& r, nftnl_rule* into);
/// A rule read from the kernel, in topo's words; a rule topo would not make comes back with
/// kind "" and `foreign` telling what it is.
NftRule decode(nftnl_rule* r);

}  // namespace topo::nft
