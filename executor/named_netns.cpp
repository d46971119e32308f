#include "executor/named_netns.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <exception>

#include "executor/kernel_error.h"
#include "executor/netns.h"
#include "executor/no_follow.h"

namespace topo {
namespace {

constexpr const char* kNetnsDir = "/run/netns";

[[noreturn]] void fail(const std::string& step, const std::string& name, int error) {
  throw KernelError(step, "namespace " + name, no_follow_reason(error), error);
}

// /run/netns is made a mount point of its own, shared, as iproute2 does: a namespace
// mounted there later is then seen by every mount namespace that shares it.
// A link planted at /run/netns is refused (open_dir_at): mounting and making files through
// it would put them wherever it points.
void prepare_run_dir(const std::string& name) {
  open_dir_at(AT_FDCWD, kNetnsDir, kNetnsDir, true, 0755);
  if (::mount("", kNetnsDir, "none", MS_SHARED | MS_REC, nullptr) == 0) return;
  if (errno != EINVAL) fail("sharing /run/netns for", name, errno);
  // Not a mount point yet: bind it on itself, then share it.
  if (::mount(kNetnsDir, kNetnsDir, "none", MS_BIND | MS_REC, nullptr) != 0)
    fail("mounting /run/netns for", name, errno);
  if (::mount("", kNetnsDir, "none", MS_SHARED | MS_REC, nullptr) != 0) fail("sharing /run/netns for", name, errno);
}

}  // namespace

Fd NetnsMaker::create(const std::string& name, const std::function<void()>& inside) {
  if (!run_dir_ready_) {
    prepare_run_dir(name);
    home_ = open_netns("");
    run_dir_ready_ = true;
  }
  std::string path = named_netns_path(name);
  {
    // An empty file already there (a killed run's) holds no namespace: it is used again.
    int flags = O_RDONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW;
    Fd file(::open(path.c_str(), flags | O_EXCL, 0));
    if (!file && errno == EEXIST && is_stale_netns_file(path)) file = Fd(::open(path.c_str(), flags, 0));
    if (!file) fail("creating", name, errno);
  }
  // A new network namespace belongs to the thread that unshares: this one, which goes
  // back home afterwards (a thread of its own cost a clone and a wake-up each, 0.8 ms a
  // namespace on a busy machine).
  int error = 0;
  Fd made;
  std::exception_ptr failed_inside;
  if (::unshare(CLONE_NEWNET) != 0) {
    error = errno;
  } else {
    made = Fd(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
    if (!made || ::mount("/proc/thread-self/ns/net", path.c_str(), "none", MS_BIND, nullptr) != 0) error = errno;
    if (!error && inside) {
      try {
        inside();
      } catch (...) {
        failed_inside = std::current_exception();
      }
    }
    // Coming home cannot fail for a namespace the thread was in a moment ago; going on in
    // the wrong one would be worse than stopping.
    if (::setns(home_.get(), CLONE_NEWNET) != 0) std::abort();
  }
  if (error || failed_inside) {
    if (!error) ::umount2(path.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW);
    ::unlink(path.c_str());
    if (failed_inside) std::rethrow_exception(failed_inside);
    fail("creating", name, error);
  }
  return made;
}

void delete_named_netns(const std::string& name) {
  std::string path = named_netns_path(name);
  // UMOUNT_NOFOLLOW: a link put there is not a namespace of the lab's, and whatever it
  // points to is not unmounted.
  if (::umount2(path.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) != 0) fail("unmounting", name, errno);
  if (::unlink(path.c_str()) != 0) fail("removing", name, errno);
}

void reattach_named_netns(const std::string& name, const Fd& held) {
  prepare_run_dir(name);
  std::string path = named_netns_path(name);
  {
    Fd file(::open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0));
    if (!file) fail("mounting again", name, errno);
  }
  std::string from = "/proc/self/fd/" + std::to_string(held.get());
  if (::mount(from.c_str(), path.c_str(), "none", MS_BIND, nullptr) != 0) {
    int error = errno;
    ::unlink(path.c_str());
    fail("mounting again", name, error);
  }
}

}  // namespace topo
