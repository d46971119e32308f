#include "executor/lab_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "executor/kernel_error.h"

namespace topo {

std::string lab_run_dir(const std::string& lab) {
  for (const char* dir : {"/run/topo"})
    if (::mkdir(dir, 0700) != 0 && errno != EEXIST) throw KernelError("making", dir, std::strerror(errno), errno);
  std::string dir = "/run/topo/" + lab;
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) throw KernelError("making", dir, std::strerror(errno), errno);
  return dir;
}

LabLock::LabLock(const std::string& lab, bool wait, const std::function<void()>& waiting) {
  std::string path = lab_run_dir(lab) + "/lock";
  fd_ = Fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd_) throw KernelError("opening", path, std::strerror(errno), errno);
  if (::flock(fd_.get(), LOCK_EX | LOCK_NB) == 0) return;
  if (errno != EWOULDBLOCK || !wait)
    throw KernelError("locking", "lab " + lab,
                      errno == EWOULDBLOCK ? "another topo apply or destroy of this lab is running" : std::strerror(errno),
                      errno);
  if (waiting) waiting();
  while (::flock(fd_.get(), LOCK_EX) != 0)
    if (errno != EINTR) throw KernelError("locking", "lab " + lab, std::strerror(errno), errno);
}

}  // namespace topo
