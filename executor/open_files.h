// The limit on open files. topo holds a namespace's file and a socket or two for each
// namespace it reads or changes (about 3000 at 1000 namespaces), and shells commonly start
// programs with a soft limit of 1024: a lab of a few hundred namespaces then failed with
// "Too many open files". So topo raises its soft limit to the hard one for its run, and
// `topo exec` puts it back before the command starts (a program may expect 1024, e.g. for
// select()).
#pragma once

#include <sys/resource.h>

namespace topo {

/// Raises the soft limit to the hard one; returns the limits as they were. Never fails: if
/// the kernel refuses, topo runs with the limit it has.
rlimit raise_open_files_limit();

/// Puts the limits back as `raise_open_files_limit` found them.
void restore_open_files_limit(const rlimit& before);

}  // namespace topo
