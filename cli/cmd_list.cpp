// topo list: the labs on this machine, found from the kernel's marks.
#include <fmt/chrono.h>
#include <fmt/format.h>

#include <string.h>

#include <algorithm>
#include <memory>

#include "cli/commands.h"
#include "executor/labs.h"
#include "executor/privilege.h"
#include "parser/diagnostics.h"

namespace topo::cli {
namespace {

struct ListOptions {
  bool names = false;
  bool namespaces = false;
};

// A NAMESPACES cell longer than this shows the first and last names and the count: a lab of
// 300 namespaces made one line of 1500 characters. `topo list --namespaces` has them all.
constexpr size_t kMaxNamespacesWidth = 40;

// The lab's namespaces in natural order (s2 before s10), joined by commas, or "first …
// last (count)" when that is too wide.
std::string namespaces_cell(std::vector<std::string> names) {
  if (names.empty()) return "-";
  std::sort(names.begin(), names.end(),
            [](const std::string& a, const std::string& b) { return ::strverscmp(a.c_str(), b.c_str()) < 0; });
  std::string all = fmt::format("{}", fmt::join(names, ","));
  if (all.size() <= kMaxNamespacesWidth) return all;
  return fmt::format("{} \u2026 {} ({})", names.front(), names.back(), names.size());
}

// Columns on the terminal: UTF-8 continuation bytes take none (the cells' "…").
size_t width_of(const std::string& s) {
  return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

std::string when(const std::optional<std::time_t>& t) {
  if (!t) return "-";
  std::tm utc{};
  ::gmtime_r(&*t, &utc);
  return fmt::format("{:%Y-%m-%d %H:%M:%S} UTC", utc);
}

int run(const ListOptions& o) {
  require_capabilities("list", {sys_admin_to_enter_namespaces()});
  std::vector<LabOnMachine> labs = labs_on_machine();
  // Names come from the kernel's marks and /run/netns, where anyone may write any byte but
  // '/': what would drive the terminal (a newline too, which would split a line for
  // scripts) is shown as <U+XXXX>.
  auto one_line = [](const std::string& name) {
    std::string out = shown(name);
    for (size_t i; (i = out.find('\n')) != std::string::npos;) out.replace(i, 1, "<U+000A>");
    return out;
  };
  for (LabOnMachine& l : labs) {
    l.name = one_line(l.name);
    for (std::string& ns : l.namespaces) ns = one_line(ns);
  }
  if (o.names || o.namespaces) {  // one word a line, for scripts and completion
    for (const LabOnMachine& l : labs) {
      if (o.names) fmt::print("{}\n", l.name);
      if (o.namespaces)
        for (const std::string& ns : l.namespaces) fmt::print("{}\n", ns);
    }
    return kExitOk;
  }
  if (labs.empty()) {
    fmt::print("No labs on this machine.\n");
    return kExitOk;
  }
  std::vector<std::array<std::string, 4>> rows{{"LAB", "NAMESPACES", "LINKS", "APPLIED"}};
  for (const LabOnMachine& l : labs)
    rows.push_back({l.name, namespaces_cell(l.namespaces), std::to_string(l.links), when(l.applied)});
  size_t width[4] = {};
  for (const auto& r : rows)
    for (size_t c = 0; c < 4; ++c) width[c] = std::max(width[c], width_of(r[c]));
  for (const auto& r : rows) {
    std::string line;
    for (size_t c = 0; c < 3; ++c) line += r[c] + std::string(width[c] - width_of(r[c]) + 2, ' ');
    fmt::print("{}{}\n", line, r[3]);
  }
  return kExitOk;
}

}  // namespace

void register_list(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<ListOptions>();
  CLI::App* sub = app.add_subcommand("list",
                                     "List the labs on this machine, found from the marks topo leaves in the kernel:\n"
                                     "name, namespaces, links, and when last applied.");
  auto* names = sub->add_flag("--names", opts->names, "Print only the labs' names, one a line");
  sub->add_flag("--namespaces", opts->namespaces, "Print only the labs' namespaces, one a line")->excludes(names);
  sub->footer(
      "A lab is found by the alias topo:LAB on the lo of its namespaces and on its links (in\n"
      "host too); APPLIED is when /run/topo/LAB last changed: the last apply or destroy that\n"
      "did something. NAMESPACES longer than 40 characters shows the first and the last\n"
      "(in natural order) and the count, as 's1 \u2026 s300 (300)': --namespaces prints them all.\n"
      "Exit status: 0 listed, 1 kernel error, 64 bad usage.\n"
      "Example: topo list");
  sub->callback([opts, &exit_code] { exit_code = run(*opts); });
}

}  // namespace topo::cli
