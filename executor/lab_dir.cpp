#include "executor/lab_dir.h"

#include <fcntl.h>

#include <cerrno>

#include "executor/kernel_error.h"
#include "executor/no_follow.h"

namespace topo {
LabDir LabDir::make(const std::string& lab, const std::string& root) {
  Fd run = open_dir_at(AT_FDCWD, root, root, true, 0700);
  std::string path = root + "/" + lab;
  return LabDir(open_dir_at(run.get(), lab, path, true, 0700), path);
}

LabDir LabDir::find(const std::string& lab, const std::string& root) {
  std::string path = root + "/" + lab;
  Fd run = open_dir_at(AT_FDCWD, root, root, false, 0);
  if (!run) return LabDir(Fd(), path);
  return LabDir(open_dir_at(run.get(), lab, path, false, 0), path);
}

std::optional<std::string> LabDir::read(const std::string& name) const {
  if (!fd_) return std::nullopt;
  return read_file_at(fd_.get(), name, path(name));
}

void LabDir::write(const std::string& name, const std::string& text) const {
  write_file_at(fd_.get(), name, text, path(name), 0600, true);
}

void LabDir::remove(const std::string& name) const {
  if (fd_) remove_file_at(fd_.get(), name, path(name));
}

Fd LabDir::open(const std::string& name, int flags) const {
  Fd fd(::openat(fd_.get(), name.c_str(), flags | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd) throw KernelError("opening", path(name), no_follow_reason(errno), errno);
  return fd;
}

}  // namespace topo
