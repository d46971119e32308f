#include "planner/render_shell.h"

#include <fmt/format.h>

#include <algorithm>

#include "planner/nat.h"
#include "planner/render_text.h"

namespace topo {
namespace {

std::string sq(std::string_view s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

class Shell {
 public:
  Shell(const State& expected, std::string_view lab) : expected_(expected), mark_(ownership_mark(lab)) {}

  std::string run(const Plan& p) {
    out_ =
        "#!/bin/bash\n# made by `topo plan --format shell`: run as root, in the namespace topo runs in\nset -euo "
        "pipefail\n";
    for (const Step& s : p.steps) {
      comment(describe(s));
      step(s);
    }
    for (const Conflict& n : p.notes) comment(fmt::format("note: {}: {}", n.netns, n.message));
    return out_;
  }

 private:
  // A step's description, each of its lines commented: a batch or a namespace removal lists
  // its contents on lines of their own ("    with ..."), which bash would run as commands.
  void comment(const std::string& text) {
    out_ += "\n";
    size_t from = 0;
    while (from <= text.size()) {
      size_t end = text.find('\n', from);
      if (end == std::string::npos) end = text.size();
      out_ += "# " + text.substr(from, end - from) + "\n";
      from = end + 1;
    }
  }
  bool lab_owned(const std::string& ns) const {
    const NamespaceState* n = expected_.find(ns);
    return ns != "host" && (!n || !n->adopted);
  }
  std::string path(const std::string& ns) const {
    const NamespaceState* n = expected_.find(ns);
    return n && !n->path.empty() ? n->path : "/run/netns/" + ns;
  }
  // `ip` aimed at a namespace: -n for the lab's own, nsenter for adopted ones.
  std::string ip(const std::string& ns, const char* family = "") const {
    std::string f = *family ? std::string(" ") + family : "";
    if (ns == "host") return "ip" + f;
    if (lab_owned(ns)) return "ip" + f + " -n " + ns;
    return "nsenter --net=" + sq(path(ns)) + " ip" + f;
  }
  // What `ip link ... netns X` accepts: a name under /run/netns or a pid.
  std::string target(const std::string& ns) const {
    if (ns == "host") return "$$";
    if (lab_owned(ns)) return ns;
    std::string p = path(ns);
    if (p.rfind("/proc/", 0) == 0 && p.size() > 13 && p.substr(p.size() - 7) == "/ns/net")
      return p.substr(6, p.size() - 13);
    return "";
  }
  // `tc` aimed at a namespace, as `ip` is.
  std::string tc(const std::string& ns) const {
    if (ns == "host") return "tc";
    if (lab_owned(ns)) return "tc -n " + ns;
    return "nsenter --net=" + sq(path(ns)) + " tc";
  }
  // The link's root qdisc as `after` has it: replaced, or the kernel's default again.
  void qdisc(const std::string& ns, const std::string& dev, const std::optional<Qdisc>& after) {
    if (!after) {
      line(fmt::format("{} qdisc del dev {} root", tc(ns), dev));
      return;
    }
    line(fmt::format("{} qdisc replace dev {} root {}", tc(ns), dev, fmt::join(tc_words(*after), " ")));
  }
  void line(const std::string& l) { out_ += l + "\n"; }

  void step(const Step& s) {
    std::visit([&](const auto& d) { step(s, d); }, s.subject);
  }

  void step(const Step& s, const NamespaceDelta&) {
    if (s.action == Action::create) {
      line("ip netns add " + s.netns);
      line(ip(s.netns) + " link set dev lo alias " + sq(mark_) + " up");
      for (const Step& c : s.contents) step(c);
    } else {
      // What is in it goes with it (the step's contents): the kernel deletes it all, but
      // a macvlan on a parent elsewhere only when it gets to reaping the namespace, and
      // until then its MAC is taken on the parent (as topo does, executor/netlink_kernel.cpp).
      for (const Step& c : s.contents) {
        const auto* l = std::get_if<LinkDelta>(&c.subject);
        const MacvlanState* m = l && l->before ? l->before->macvlan() : nullptr;
        bool elsewhere = m && c.netns == s.netns && m->parent_netns != s.netns;
        if (elsewhere || std::holds_alternative<FileDelta>(c.subject)) step(c);
      }
      line("ip netns delete " + s.netns);
      line("rmdir /etc/netns/" + s.netns + " 2>/dev/null || true");
    }
  }

  // topo deletes them as one interface group; here, one by one (the same state, slower).
  void step(const Step& s, const LinkBatchDelta&) {
    for (const Step& c : s.contents) step(c);
  }

  void step(const Step& s, const LinkUpDelta& d) {
    for (const std::string& name : d.after ? *d.after : *d.before)
      line(fmt::format("{} link set dev {} {}", ip(s.netns), name, d.after ? "up" : "down"));
  }

  void step(const Step& s, const SysctlDelta& d) {
    std::string file = "/proc/sys/" + d.key;
    std::replace(file.begin() + 10, file.end(), '.', '/');
    std::string write = "echo " + sq(*d.after) + " > " + file;
    line(s.netns == "host" ? write : "nsenter --net=" + sq(path(s.netns)) + " sh -c " + sq(write));
  }

  void step(const Step& s, const FileDelta& d) {
    std::string file = "/etc/netns/" + s.netns + "/" + d.file;
    if (!d.after) return line("rm -f " + file);
    line("mkdir -p /etc/netns/" + s.netns);
    line("printf '%s' " + sq(*d.after) + " > " + file);
  }

  // The whole table in one `nft -f` file, which nft sends as one batch: the kernel takes all
  // of it or none, as with apply. The rules are written in the order of topo's own
  // expressions, so that nft makes the very same rules.
  void step(const Step& s, const TableDelta& d) {
    std::string text;
    if (d.before) text += "delete table inet " + d.before->name + "\n";
    if (d.after) {
      const NftTable& t = *d.after;
      text += "table inet " + t.name + " {\n\tcomment \"" + t.mark + "\"\n";
      for (const NftChain& c : t.chains) {
        text += fmt::format("\tchain {} {{\n\t\ttype {} hook {} priority {}; policy {};\n", c.name, c.type, c.hook,
                            c.priority, c.policy);
        for (const NftRule& r : c.rules) {
          auto rule = nft_syntax(r);
          if (!rule)
            return line("echo " + sq("topo: nft cannot say this rule exactly: " + describe(r)) + " >&2; exit 1");
          text += "\t\t" + *rule + "\n";
        }
        text += "\t}\n";
      }
      text += "}\n";
    }
    std::string nft = s.netns == "host" ? "nft" : "nsenter --net=" + sq(path(s.netns)) + " nft";
    line(nft + " -f - <<'EOF'\n" + text + "EOF");
  }

  void step(const Step& s, const RouteDelta& d) {
    const RouteState& r = d.after ? *d.after : *d.before;
    const char* family = r.to.address.family == Family::v6 ? "-6" : "-4";
    std::string verb = s.action == Action::remove ? "del" : s.action == Action::modify ? "replace" : "add";
    std::string cmd = ip(s.netns, family) + " route " + verb + " " + ip_destination(r.to);
    // ip reads everything after the first "nexthop" as next hops: they go last.
    std::string keys = fmt::format(" metric {} proto {}", r.metric, kRouteProtocol);
    line(cmd + (r.multipath.empty() ? route_paths(r) + keys : keys + route_paths(r)));
  }

  void step(const Step& s, const LinkDelta& d) {
    if (s.action == Action::remove) return line(ip(s.netns) + " link del dev " + d.before->name);
    if (s.action == Action::modify) return modify(s.netns, *d.before, *d.after);
    const LinkState& l = *d.after;
    if (const VethState* v = l.veth()) return make_veth(s, l, *v);
    if (const MacvlanState* m = l.macvlan()) {
      line(fmt::format("{} link add name {} link {} type macvlan mode {}", ip(m->parent_netns), l.name, m->parent,
                       m->mode));
      if (m->parent_netns != s.netns)
        line(fmt::format("{} link set dev {} netns {}", ip(m->parent_netns), l.name, target(s.netns)));
    } else if (const VxlanState* v = l.vxlan()) {
      const std::string& made_in = v->socket_netns(s.netns);
      std::string cmd = fmt::format("{} link add name {} type vxlan id {}", ip(made_in), l.name, v->id);
      if (v->local) cmd += fmt::format(" local {}", *v->local);
      if (v->remote) cmd += fmt::format(" remote {}", *v->remote);
      if (v->group) cmd += fmt::format(" group {}", *v->group);
      if (!v->dev.empty()) cmd += " dev " + v->dev;
      line(cmd + fmt::format(" dstport {}", v->port));
      if (made_in != s.netns) line(fmt::format("{} link set dev {} netns {}", ip(made_in), l.name, target(s.netns)));
      // Head-end replication: every flooded frame to each remote (what topo adds, RTM_NEWNEIGH).
      for (const IpAddress& r : v->remotes) fdb(s.netns, "append", l.name, r);
    } else if (l.is(LinkKind::bridge) && l.mtu) {
      // Born one byte off, so that setting its mtu is a change, which the kernel notes as
      // asked for: then ports joining do not move it (as topo does, executor/netlink_kernel.cpp).
      line(fmt::format("{} link add name {} mtu {} type bridge", ip(s.netns), l.name,
                       l.mtu > 68 ? l.mtu - 1 : l.mtu + 1));
    } else {
      line(fmt::format("{} link add name {} type {}", ip(s.netns), l.name, l.kind_name()));
    }
    settle(s.netns, l);
  }

  void make_veth(const Step& s, const LinkState& l, const VethState& v) {
    const LinkState* peer = s.peer && s.peer->after ? &*s.peer->after : nullptr;
    std::string a_ns = s.netns, b_ns = v.peer_netns;
    std::string a = l.name, b = v.peer_name;
    if (target(b_ns).empty()) std::swap(a_ns, b_ns), std::swap(a, b);  // make it from the far side
    if (target(b_ns).empty()) {
      line(fmt::format("echo 'topo: cannot join two namespaces given by path ({}, {}) with ip' >&2; exit 1", a_ns,
                       b_ns));
      return;
    }
    // One queue each way, as topo makes them: cutting a veth's per-CPU queues down to one
    // after its birth costs an RCU grace period per end.
    line(fmt::format(
        "{} link add name {} numtxqueues 1 numrxqueues 1 type veth peer name {} numtxqueues 1 numrxqueues 1 netns {}",
        ip(a_ns), a, b, target(b_ns)));
    settle(s.netns, l);
    if (peer) settle(v.peer_netns, *peer);
  }

  // What every made link gets: no link-local address if so, its mtu and mac, the mark, up (before it joins a bridge),
  // its addresses, then its bridge.
  void settle(const std::string& ns, const LinkState& l) {
    // Before it comes up, and in a request of its own: the kernel brings a link up before it
    // reads the rest of a request, and makes its link-local address as it comes up.
    // A bridge born one byte below an mtu of 1280 has no IPv6 until it gets its mtu.
    if (!l.link_local && l.is(LinkKind::bridge) && l.mtu)
      line(fmt::format("{} link set dev {} mtu {}", ip(ns), l.name, l.mtu));
    if (!l.link_local) line(ip(ns) + " link set dev " + l.name + " addrgenmode none");
    std::string set = ip(ns) + " link set dev " + l.name;
    if (l.mtu) set += fmt::format(" mtu {}", l.mtu);
    if (l.mac) set += fmt::format(" address {}", *l.mac);
    if (l.group) set += fmt::format(" group {}", l.group);
    line(set + " alias " + sq(mark_) + (l.up ? " up" : " down"));
    for (const IpPrefix& a : l.addresses) add_address(ns, l.name, a);
    if (!l.master.empty()) line(ip(ns) + " link set dev " + l.name + " master " + l.master);
    if (l.qdisc) qdisc(ns, l.name, l.qdisc);
  }

  void add_address(const std::string& ns, const std::string& dev, const IpPrefix& a) {
    // nodad: a lab's address is usable at once; nothing else on a lab link can hold it.
    line(fmt::format("{} addr add {} dev {}{}", ip(ns), a, dev, a.address.family == Family::v6 ? " nodad" : ""));
  }

  // A VXLAN's all-zeros forwarding entry to `remote`, appended or deleted.
  void fdb(const std::string& ns, const char* verb, const std::string& dev, const IpAddress& remote) {
    std::string bridge = ns == "host"    ? "bridge"
                         : lab_owned(ns) ? "ip netns exec " + ns + " bridge"
                                         : "nsenter --net=" + sq(path(ns)) + " bridge";
    line(fmt::format("{} fdb {} 00:00:00:00:00:00 dev {} dst {}", bridge, verb, dev, remote));
  }

  void modify(const std::string& ns, const LinkState& b, const LinkState& a) {
    if (a.qdisc != b.qdisc) qdisc(ns, a.name, a.qdisc);  // first, as the executor does
    for (const IpAddress& r : a.remotes())               // then the flooding list, as the executor does
      if (std::find(b.remotes().begin(), b.remotes().end(), r) == b.remotes().end()) fdb(ns, "append", a.name, r);
    for (const IpAddress& r : b.remotes())
      if (std::find(a.remotes().begin(), a.remotes().end(), r) == a.remotes().end()) fdb(ns, "del", a.name, r);
    std::string set;
    if (a.mtu && a.mtu != b.mtu) set += fmt::format(" mtu {}", a.mtu);
    if (a.mac && a.mac != b.mac) set += fmt::format(" address {}", *a.mac);
    if (a.up != b.up) set += a.up ? " up" : " down";
    if (a.group != b.group) set += fmt::format(" group {}", a.group);
    if (!set.empty()) line(ip(ns) + " link set dev " + a.name + set);
    // In the executor's order (address_change).
    AddressChange c = address_change(b, a);
    std::string promote_file = "/proc/sys/net/ipv4/conf/" + a.name + "/promote_secondaries";
    auto in_ns = [&](const std::string& command) {
      return ns == "host" ? command : "nsenter --net=" + sq(path(ns)) + " sh -c " + sq(command);
    };
    for (const IpPrefix& p : c.first) line(fmt::format("{} addr del {} dev {}", ip(ns), p, a.name));
    for (const IpPrefix& p : c.added) add_address(ns, a.name, p);
    if (c.promote) {
      line("promote=$(" + in_ns("cat " + promote_file) + ")");
      line(in_ns("echo 1 > " + promote_file));
    }
    for (const IpPrefix& p : c.then) line(fmt::format("{} addr del {} dev {}", ip(ns), p, a.name));
    if (c.promote)  // the value kept in the script's variable, expanded before the namespace is entered
      line(ns == "host" ? "echo \"$promote\" > " + promote_file
                        : "nsenter --net=" + sq(path(ns)) + " sh -c \"echo $promote > " + promote_file + "\"");
    for (const IpPrefix& p : c.again) add_address(ns, a.name, p);
    if (a.master != b.master)
      line(ip(ns) + " link set dev " + a.name + (a.master.empty() ? " nomaster" : " master " + a.master));
  }

  const State& expected_;
  std::string mark_;
  std::string out_;
};

}  // namespace

std::string plan_shell(const Plan& p, const State& expected, std::string_view lab) {
  return Shell(expected, lab).run(p);
}

}  // namespace topo
