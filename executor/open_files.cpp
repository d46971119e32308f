#include "executor/open_files.h"

namespace topo {

rlimit raise_open_files_limit() {
  rlimit before{};
  if (::getrlimit(RLIMIT_NOFILE, &before) != 0) return before;
  rlimit raised = before;
  raised.rlim_cur = before.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &raised);
  return before;
}

void restore_open_files_limit(const rlimit& before) {
  if (before.rlim_max != 0) ::setrlimit(RLIMIT_NOFILE, &before);
}

}  // namespace topo
