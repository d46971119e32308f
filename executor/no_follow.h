// Files topo writes, never through a symbolic link. topo runs as root and writes in two
// places only (/run/topo/LAB and /etc/netns/NS): a link planted there beforehand would
// otherwise send a root write, truncation or unlink anywhere on the machine. So each
// directory is opened with O_DIRECTORY|O_NOFOLLOW and held as a descriptor, and every file
// in it is opened, renamed or removed relative to that descriptor (openat, renameat,
// unlinkat) with O_NOFOLLOW: a link at the directory or at the file stops topo with an
// error naming it. topo neither follows nor replaces a link: it cannot tell who planted it.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "executor/fd.h"

namespace topo {

/// The reason to give when an open with O_NOFOLLOW failed with `error`: ELOOP (a link
/// where a file or directory should be) is said in words.
std::string no_follow_reason(int error);

/// Opens the directory `name` in `at` (a directory descriptor, or AT_FDCWD for an absolute
/// name), making it first with `mode` when `create`. Missing and not `create`: an empty Fd.
/// `shown` is its path, for errors. Throws KernelError, also when it is a link.
Fd open_dir_at(int at, const std::string& name, const std::string& shown, bool create, mode_t mode);

/// The file `name` in the directory `dir`; nullopt when it does not exist. Throws
/// KernelError when it cannot be read, or is a link.
std::optional<std::string> read_file_at(int dir, const std::string& name, const std::string& shown);

/// Writes `text` to `name` in `dir` as a whole: beside it as NAME.topo-new (made afresh, with
/// O_EXCL), synced when `sync`, then renamed over it, so a reader (or a crash) sees the old
/// file or the new one. Refuses when NAME is a link. Throws KernelError.
void write_file_at(int dir, const std::string& name, const std::string& text, const std::string& shown, mode_t mode,
                   bool sync);

/// Removes the file `name` from `dir` (a link there goes as a link: unlinkat never follows
/// one); already gone is fine. Throws KernelError.
void remove_file_at(int dir, const std::string& name, const std::string& shown);

}  // namespace topo
