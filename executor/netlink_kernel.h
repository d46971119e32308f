// The Kernel over netlink: libnl-route for links, addresses and routes (one socket per
// namespace, opened inside it on first use and kept; each step is a few requests, every ACK
// checked), libnftnl for the NAT tables (one batch per step, executor/nft.h).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "executor/fd.h"
#include "executor/lab_kernel.h"
#include "executor/lab_record.h"
#include "executor/named_netns.h"
#include "executor/netlink.h"
#include "planner/state.h"

namespace topo {

class NetlinkKernel : public LabKernel {
 public:
  /// `expected` says where each namespace lives; `lab` names the marks put on what is made.
  NetlinkKernel(const State& expected, std::string_view lab);
  void run(const Step& step) override;
  /// Waits until the links that die with deleted namespaces are gone: the kernel reaps a
  /// namespace in the background, and their names are not free again until then. Run
  /// before any step that makes something, and once at the end. Throws KernelError.
  void settle_deletions() override;
  /// Marks a link (or, for "lo", the namespace) as the lab's when it exists unmarked: what a
  /// killed run made before it could mark it. Returns whether it marked anything.
  bool claim(const std::string& netns, const std::string& link) override;
  /// What `step` will overwrite besides its own key: writing ip_forward (or
  /// conf.all.forwarding) makes the kernel copy the value to conf.default and to every
  /// interface; conf.default.forwarding overwrites nothing, but which interfaces were there
  /// tells those made since. Their values now, by key; empty for any other step.
  std::map<std::string, std::string> overwritten_by(const Step& step) override;
  /// The value of `key` in `netns` now; nullopt when it cannot be read.
  std::optional<std::string> read_sysctl(const std::string& netns, const std::string& key) override;
  /// Where to find, when such a key gets its original value back, the values it overwrote
  /// (lab_record.h): they are written back after it. Both must outlive this kernel.
  void put_back_from(const SysctlOriginals* originals, const SysctlOriginals* overwritten) override {
    originals_ = originals;
    overwritten_ = overwritten;
  }
  /// Test-only (TOPO_TEST_FAIL_NFT, executor/fault_injection.h): the n-th NAT batch (1-based)
  /// gets a last message that the kernel refuses, so that it drops the whole batch.
  void refuse_nft_batch(long n) { refused_nft_batch_ = n; }

 private:
  struct Namespace {
    Fd fd;
    nl::Socket sock;
  };
  // Requests for one namespace's socket, sent in one go; each with the step and object
  // that name it in an error.
  struct Batch {
    std::vector<nl::Msg> msgs;
    std::vector<std::pair<std::string, std::string>> what;
    void add(nl::Msg msg, std::string step, std::string object);
  };
  /// Sends the batch and throws KernelError for the first request the kernel refused.
  void send(const std::string& netns, const Batch& b, const nl::OnMessage& other = nullptr);
  void forget(const std::string& netns, const std::string& name);  // its index, once deleted
  void forget_namespace(const std::string& netns);

  Namespace& ns(const std::string& name);
  nl_sock* sock(const std::string& name) { return ns(name).sock.get(); }
  nl::Link get_link(const std::string& netns, const std::string& name);
  int ifindex(const std::string& netns, const std::string& name);

  void run_namespace(const Step& s, const NamespaceDelta& d);
  void remove_namespace(const Step& s);
  void run_link(const Step& s, const LinkDelta& d);
  void run_route(const Step& s, const RouteDelta& d);
  void run_sysctl(const Step& s, const SysctlDelta& d);
  void put_back_overwritten(const std::string& netns, const SysctlDelta& d);
  void run_file(const Step& s, const FileDelta& d);
  void run_batch(const Step& s, const LinkBatchDelta& d);
  void run_up(const Step& s, const LinkUpDelta& d);
  std::vector<std::string> far_namespaces(const Step& s) const;
  void delete_group(const Step& s, uint32_t group, size_t count);
  void run_nat(const Step& s, const TableDelta& d);

  void create_link(const std::string& netns, const LinkState& l, const LinkState* peer);
  void settle(const std::string& netns, const LinkState& l, bool born_settled);
  void modify_link(const std::string& netns, const LinkState& before, const LinkState& after);
  void modify_link_itself(const std::string& netns, const LinkState& before, const LinkState& after);
  void address(const std::string& netns, const std::string& dev, const IpPrefix& a, bool add);
  void set_master(const std::string& netns, const std::string& dev, const std::string& master);
  void set_qdisc(const std::string& netns, const std::string& dev, const std::optional<Qdisc>& q);
  bool set_remotes(const std::string& netns, const std::string& dev, const std::vector<IpAddress>& before,
                   const std::vector<IpAddress>& after);

  std::map<std::string, std::string> paths_;  // namespace -> its file ("" for host)
  NetnsMaker maker_;
  std::string mark_;
  uint32_t group_;  // ownership_group(lab)
  const SysctlOriginals* originals_ = nullptr;
  const SysctlOriginals* overwritten_ = nullptr;
  std::map<std::string, Namespace> open_;
  std::map<std::pair<std::string, std::string>, int> ifindexes_;
  // Namespaces unmounted with the batch of their far ends, held open until their own step.
  std::map<std::string, Fd> detached_;                          // (namespace, link) -> index
  std::vector<std::pair<std::string, std::string>> vanishing_;  // (namespace, link) being reaped
  long nft_batches_ = 0, refused_nft_batch_ = 0;
};

}  // namespace topo
