// The write-ahead journal of an apply or destroy, in /run/topo/LAB/journal. Before each step
// runs, a line says what the step may leave behind that the kernel's marks cannot name yet
// (a namespace or link made but not yet marked) and is fsync'd; the file goes when the run
// ends, rolled back or not. If topo is killed, the next run finds it and claims those objects
// (marks them as the lab's), then converges as usual. A log and nothing else: what the lab
// keeps across runs is its record (executor/lab_record.h).
#pragma once

#include <string>
#include <vector>

#include "executor/fd.h"
#include "executor/lab_dir.h"
#include "planner/plan.h"

namespace topo {

struct Claim {
  std::string netns, link;  // link "lo": the namespace itself
};

class Journal {
 public:
  /// Opens (creating) DIR/journal; `dir` must outlive the journal. Throws KernelError.
  explicit Journal(const LabDir& dir);
  /// Records what `step` may leave unmarked, before it runs. Throws KernelError.
  void before(const Step& step);
  /// The run is over: the journal goes.
  void close();

  /// What a killed run left in DIR/journal (nothing when there is none).
  static std::vector<Claim> leftovers(const LabDir& dir);

 private:
  void append(const std::string& line);
  const LabDir& dir_;
  Fd fd_;
};

}  // namespace topo
