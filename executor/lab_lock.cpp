#include "executor/lab_lock.h"

#include <fcntl.h>
#include <sys/file.h>

#include <cerrno>
#include <cstring>

#include "executor/kernel_error.h"

namespace topo {

LabLock::LabLock(const LabDir& dir, const std::string& lab, bool wait, const std::function<void()>& waiting)
    : fd_(dir.open("lock", O_RDWR | O_CREAT)) {
  if (::flock(fd_.get(), LOCK_EX | LOCK_NB) == 0) return;
  if (errno != EWOULDBLOCK || !wait)
    throw KernelError(
        "locking", "lab " + lab,
        errno == EWOULDBLOCK ? "another topo apply or destroy of this lab is running" : std::strerror(errno), errno);
  if (waiting) waiting();
  while (::flock(fd_.get(), LOCK_EX) != 0)
    if (errno != EINTR) throw KernelError("locking", "lab " + lab, std::strerror(errno), errno);
}

}  // namespace topo
