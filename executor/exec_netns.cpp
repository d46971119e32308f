#include "executor/exec_netns.h"

#include <dirent.h>
#include <fmt/format.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "executor/kernel_error.h"
#include "executor/netns.h"
#include "executor/open_files.h"

namespace topo {
namespace {

[[noreturn]] void fail(const std::string& step, const std::string& netns, int error) {
  throw KernelError(step, "namespace " + netns, std::strerror(error), error);
}

// Each /etc/netns/NS/FILE over /etc/FILE; as with ip netns exec, a file that cannot be
// mounted is reported and the command runs anyway.
void bind_etc(const std::string& netns) {
  std::string dir = "/etc/netns/" + netns;
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), ::closedir);
  if (!d) return;
  while (dirent* e = ::readdir(d.get())) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    std::string from = dir + "/" + name, to = "/etc/" + name;
    if (::mount(from.c_str(), to.c_str(), "none", MS_BIND, nullptr) != 0)
      fmt::print(stderr, "topo exec: bind-mounting {} over {}: {}\n", from, to, std::strerror(errno));
  }
}

}  // namespace

int exec_in_netns(const std::string& netns, const std::vector<std::string>& command, const rlimit& files) {
  Fd ns = open_netns(named_netns_path(netns));
  if (!ns) fail("entering", netns, ENOENT);
  if (::setns(ns.get(), CLONE_NEWNET) != 0) fail("entering", netns, errno);
  if (::unshare(CLONE_NEWNS) != 0) fail("making a mount namespace for", netns, errno);
  // Nothing mounted from here on may reach the machine's mount namespace.
  if (::mount("", "/", "none", MS_SLAVE | MS_REC, nullptr) != 0) fail("making / a slave mount for", netns, errno);
  // /sys shows the namespace that mounted it: mount it again from inside.
  if (::umount2("/sys", MNT_DETACH) == 0) ::mount(netns.c_str(), "/sys", "sysfs", 0, nullptr);
  bind_etc(netns);
  std::vector<char*> argv;
  for (const std::string& a : command) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  restore_open_files_limit(files);
  ::execvp(argv[0], argv.data());
  int error = errno;
  fmt::print(stderr, "topo exec: {}: {}\n", command[0], std::strerror(error));
  return error == ENOENT ? 127 : 126;
}

}  // namespace topo
