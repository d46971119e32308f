#include "executor/netns.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "executor/kernel_error.h"

namespace topo {

std::string named_netns_path(const std::string& name) { return "/run/netns/" + name; }

namespace {

// An empty Fd when `path` does not exist.
Fd open_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno != ENOENT) throw KernelError("opening", "namespace file " + path, std::strerror(errno), errno);
  return Fd(fd);
}

bool is_namespace(const Fd& fd) {
  struct statfs fs {};
  return ::fstatfs(fd.get(), &fs) == 0 && fs.f_type == NSFS_MAGIC;
}

std::string own_or(const std::string& path) { return path.empty() ? "/proc/thread-self/ns/net" : path; }

}  // namespace

Fd open_netns(const std::string& path) {
  Fd out = open_file(own_or(path));
  if (out && !is_namespace(out))
    throw KernelError("opening", "namespace file " + own_or(path),
                      "it is not a namespace (an empty file left by a killed `ip netns add`?)", EINVAL);
  return out;
}

Fd open_netns_if_mounted(const std::string& path) {
  Fd out = open_file(own_or(path));
  return out && is_namespace(out) ? std::move(out) : Fd();
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

bool is_stale_netns_file(const std::string& path) {
  struct statfs fs {};
  return ::statfs(path.c_str(), &fs) == 0 && fs.f_type != NSFS_MAGIC;
}

InNetns::InNetns(const Fd& netns) : home_(open_netns("")) {
  if (::setns(netns.get(), CLONE_NEWNET) != 0)
    throw KernelError("entering", "a network namespace", std::strerror(errno), errno);
}

InNetns::~InNetns() {
  // Coming home cannot fail for a namespace we were in a moment ago; if it ever did, going
  // on in the wrong namespace would be worse than stopping.
  if (::setns(home_.get(), CLONE_NEWNET) != 0) std::abort();
}

}  // namespace topo
