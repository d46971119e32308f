// Where topo keeps a lab's own files: /run/topo/LAB (the lock, the journal, the sysctl
// originals, the routes in lasting namespaces). The directory is held open as a descriptor
// (opened with O_NOFOLLOW, as /run/topo is) and every file in it is reached through it
// (executor/no_follow.h): a symbolic link planted at /run/topo, /run/topo/LAB or any file
// there is never followed; topo stops and names it.
#pragma once

#include <optional>
#include <string>

#include "executor/fd.h"

namespace topo {

/// Where the labs' directories are. Tests without root use one of their own.
inline constexpr const char* kRunDir = "/run/topo";

class LabDir {
 public:
  /// ROOT/LAB, made (0700, as ROOT) when missing. Throws KernelError.
  static LabDir make(const std::string& lab, const std::string& root = kRunDir);
  /// ROOT/LAB when it exists, for commands that change nothing (plan): reading an absent
  /// directory reads no files. Throws KernelError (a link there, say).
  static LabDir find(const std::string& lab, const std::string& root = kRunDir);

  /// The file NAME in it; nullopt when absent. Throws KernelError.
  std::optional<std::string> read(const std::string& name) const;
  /// NAME written whole and synced (beside it, then renamed over it). Throws KernelError.
  void write(const std::string& name, const std::string& text) const;
  /// NAME removed; absent is fine. Throws KernelError.
  void remove(const std::string& name) const;
  /// NAME opened with `flags` (O_NOFOLLOW and O_CLOEXEC added), made 0600 with O_CREAT.
  /// Throws KernelError.
  Fd open(const std::string& name, int flags) const;

  /// "/run/topo/LAB/NAME", for messages.
  std::string path(const std::string& name) const { return path_ + "/" + name; }
  bool exists() const { return static_cast<bool>(fd_); }

 private:
  LabDir(Fd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}
  Fd fd_;
  std::string path_;
};

}  // namespace topo
