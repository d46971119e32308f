#include "executor/labs.h"

#include <dirent.h>
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
  std::string lo;                        // the lab of the namespace's lo ("" none)
  std::map<std::string, size_t> links;  // links (lo aside) by the lab that marked them
};

// One link dump of the namespace at `path` ("" for topo's own).
Marks marks_in(const std::string& path, const std::string& what) {
  Fd fd = open_netns(path);
  if (!fd) throw KernelError("opening", what, "it does not exist", ENOENT);
  nl::Socket sock = nl::route_socket_in(fd, what);
  nl_cache* raw = nullptr;
  if (int err = rtnl_link_alloc_cache(sock.get(), AF_UNSPEC, &raw); err < 0)
    throw KernelError("reading links in", what, nl::error_text(err));
  nl::Cache cache(raw);
  Marks out;
  for (nl_object* o = nl_cache_get_first(cache.get()); o; o = nl_cache_get_next(o)) {
    auto* l = reinterpret_cast<rtnl_link*>(o);
    const char* alias = rtnl_link_get_ifalias(l);
    std::string lab = alias ? lab_of_mark(alias) : "";
    const char* name = rtnl_link_get_name(l);
    if (name && std::string_view(name) == "lo")
      out.lo = lab;
    else if (!lab.empty())
      ++out.links[lab];
  }
  return out;
}

std::vector<std::string> named_namespaces() {
  std::vector<std::string> out;
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir("/run/netns"), ::closedir);
  if (!dir) return out;
  while (dirent* e = ::readdir(dir.get()))
    if (e->d_name[0] != '.') out.emplace_back(e->d_name);
  std::sort(out.begin(), out.end());
  return out;
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
    std::string path = named_netns_path(ns);
    if (is_stale_netns_file(path)) continue;  // a name without a namespace (a killed run's)
    Marks m;
    try {
      m = marks_in(path, "namespace " + ns);
    } catch (const KernelError& e) {
      if (e.error() == ENOENT) continue;  // gone since the directory was read
      throw;
    }
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
