#include "executor/no_follow.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "executor/kernel_error.h"

namespace topo {

std::string no_follow_reason(int error) {
  if (error == ELOOP) return "it is a symbolic link, and topo follows none where it writes (remove it)";
  return std::strerror(error);
}

Fd open_dir_at(int at, const std::string& name, const std::string& shown, bool create, mode_t mode) {
  if (create && ::mkdirat(at, name.c_str(), mode) != 0 && errno != EEXIST)
    throw KernelError("making", shown, std::strerror(errno), errno);
  Fd fd(::openat(at, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (fd || (!create && errno == ENOENT)) return fd;
  int error = errno;
  // O_DIRECTORY is looked at first: a link gives ENOTDIR, which says nothing of the link.
  struct stat st {};
  if (error == ENOTDIR && ::fstatat(at, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
    error = ELOOP;
  throw KernelError("opening", shown, no_follow_reason(error), error);
}

std::optional<std::string> read_file_at(int dir, const std::string& name, const std::string& shown) {
  Fd fd(::openat(dir, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd && errno == ENOENT) return std::nullopt;
  if (!fd) throw KernelError("reading", shown, no_follow_reason(errno), errno);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd.get(), buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  if (n < 0) throw KernelError("reading", shown, std::strerror(errno), errno);
  return out;
}

void write_file_at(int dir, const std::string& name, const std::string& text, const std::string& shown, mode_t mode,
                   bool sync) {
  struct stat st {};
  if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
    throw KernelError("writing", shown, no_follow_reason(ELOOP), ELOOP);
  std::string tmp = name + ".topo-new";
  ::unlinkat(dir, tmp.c_str(), 0);  // a leftover of a killed run (or a planted link: it goes as a link)
  Fd fd(::openat(dir, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
  if (!fd) throw KernelError("writing", shown, no_follow_reason(errno), errno);
  if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()) ||
      (sync && ::fsync(fd.get()) != 0) || ::renameat(dir, tmp.c_str(), dir, name.c_str()) != 0) {
    int error = errno;
    ::unlinkat(dir, tmp.c_str(), 0);
    throw KernelError("writing", shown, std::strerror(error), error);
  }
}

void remove_file_at(int dir, const std::string& name, const std::string& shown) {
  if (::unlinkat(dir, name.c_str(), 0) != 0 && errno != ENOENT)
    throw KernelError("removing", shown, std::strerror(errno), errno);
}

}  // namespace topo
