#include "executor/netns.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "executor/kernel_error.h"

namespace topo {

Fd& Fd::operator=(Fd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.release();
  }
  return *this;
}

Fd::~Fd() {
  if (fd_ >= 0) ::close(fd_);
}

std::string named_netns_path(const std::string& name) { return "/run/netns/" + name; }

Fd open_netns(const std::string& path) {
  std::string p = path.empty() ? "/proc/thread-self/ns/net" : path;
  int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Fd();
    throw KernelError("opening", "namespace file " + p, std::strerror(errno), errno);
  }
  Fd out(fd);
  struct statfs fs {};
  if (::fstatfs(fd, &fs) != 0 || fs.f_type != NSFS_MAGIC)
    throw KernelError("opening", "namespace file " + p,
                      "it is not a namespace (an empty file left by a killed `ip netns add`?)", EINVAL);
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
