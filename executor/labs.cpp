#include "executor/labs.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <memory>

#include "executor/kernel_error.h"
#include "executor/netlink.h"
#include "executor/netns.h"
#include "planner/state.h"

namespace topo {
namespace {

struct Marks {
  std::string lo;                       // the lab of the namespace's lo ("" none)
  std::map<std::string, size_t> links;  // links (lo aside) by the lab that marked them
};

// One link dump of the namespace `fd` (each_object: an interrupted dump is not counted
// twice, as libnl's link cache would).
Marks marks_of(const Fd& fd, const std::string& what) {
  nl::Socket sock = nl::route_socket_in(fd, what);
  Marks out;
  nl::each_object(nl_socket_get_fd(sock.get()), RTM_GETLINK, what, [&](nl_object* o) {
    auto* l = reinterpret_cast<rtnl_link*>(o);
    const char* alias = rtnl_link_get_ifalias(l);
    std::string lab = alias ? lab_of_mark(alias) : "";
    const char* name = rtnl_link_get_name(l);
    if (name && std::string_view(name) == "lo")
      out.lo = lab;
    else if (!lab.empty())
      ++out.links[lab];
  });
  return out;
}

// The same, of the namespace at `path` ("" for topo's own).
Marks marks_in(const std::string& path, const std::string& what) {
  Fd fd = open_netns(path);
  if (!fd) throw KernelError("opening", what, "it does not exist", ENOENT);
  return marks_of(fd, what);
}

}  // namespace

std::vector<LabOnMachine> labs_on_machine() {
  std::map<std::string, LabOnMachine> labs;
  auto count = [&](const Marks& m) {
    for (const auto& [lab, n] : m.links) {
      labs[lab].name = lab;
      labs[lab].links += n;
    }
  };
  count(marks_in("", "namespace host"));
  for (const std::string& ns : named_namespaces()) {
    // Gone since the directory was read, or a name without a namespace: a killed run's, or
    // another run's being made or removed.
    Fd fd = open_netns_if_mounted(named_netns_path(ns));
    if (!fd) continue;
    Marks m = marks_of(fd, "namespace " + ns);
    count(m);
    if (m.lo.empty()) continue;
    labs[m.lo].name = m.lo;
    labs[m.lo].namespaces.push_back(ns);
  }
  std::vector<LabOnMachine> out;
  for (auto& [name, lab] : labs) {
    struct stat st {};  // the directory itself: a link planted there says nothing of the lab
    if (::lstat(("/run/topo/" + name).c_str(), &st) == 0 && S_ISDIR(st.st_mode)) lab.applied = st.st_mtime;
    out.push_back(std::move(lab));
  }
  return out;
}

std::string lab_of_namespace(const std::string& name) {
  return marks_in(named_netns_path(name), "namespace " + name).lo;
}

}  // namespace topo
