#include "parser/load.h"

#include <fmt/format.h>

#include <sys/stat.h>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "lower/lower.h"
#include "lower/machines.h"
#include "parser/toml_reader.h"
#include "parser/validate.h"

namespace topo {

std::string LoadedLab::report() const {
  std::string out;
  for (const Diagnostic& d : errors) out += render(file, d);
  return out;
}

LoadedLab load_lab_text(std::string path, std::string text) {
  LoadedLab result{SourceFile(std::move(path), std::move(text)), std::nullopt, {}};
  Diagnostics diags;
  std::optional<Lab> lab = read_lab(result.file, diags);
  size_t before = diags.size();
  if (lab) lab = lower(std::move(*lab), diags);
  // After a mistake of the high level, what it lowered to is not what the file meant: the
  // validator would only repeat it (an address given twice, a route with no subnet).
  // Over several machines, each slice is a lab of its own, validated as one: a name is the
  // same in two machines' host, and is two interfaces.
  if (lab && diags.size() == before) {
    if (lab->machines.empty()) validate(*lab, diags);
    for (const Machine& m : lab->machines) validate(slice(*lab, m.name.value), diags);
  }
  result.errors = diags.sorted();
  if (result.errors.empty()) result.lab = std::move(lab);
  return result;
}

namespace {

LoadedLab failed(const std::string& path, std::string message) {
  LoadedLab result{SourceFile(path, ""), std::nullopt, {}};
  result.errors.push_back({{}, 1, std::move(message), {}});
  return result;
}

// Reads what is left of `in`, at most one byte past the limit: a pipe or another unsized
// file is bounded too.
std::string read_bounded(std::istream& in) {
  std::string text;
  char buf[1 << 16];
  while (text.size() <= kMaxLabFileBytes && in.read(buf, sizeof buf).gcount() > 0)
    text.append(buf, static_cast<size_t>(in.gcount()));
  return text;
}

LoadedLab load_read(const std::string& path, std::string text, bool bad) {
  if (text.size() > kMaxLabFileBytes)
    return failed(path, fmt::format("the lab file is larger than {} MiB, the most topo reads", kMaxLabFileBytes >> 20));
  if (bad) return failed(path, "cannot read the lab file: read error");
  return load_lab_text(path, std::move(text));
}

}  // namespace

LoadedLab load_lab_file(const std::string& path) {
  if (path == "-") {
    std::string text = read_bounded(std::cin);
    return load_read(kStdinName, std::move(text), std::cin.bad());
  }
  struct stat st {};
  if (stat(path.c_str(), &st) != 0)
    return failed(path, fmt::format("cannot read the lab file: {}", std::strerror(errno)));
  if (S_ISDIR(st.st_mode)) return failed(path, "cannot read the lab file: it is a directory");
  if (S_ISREG(st.st_mode) && static_cast<size_t>(st.st_size) > kMaxLabFileBytes)
    return failed(
        path, fmt::format("the lab file is {} bytes; topo reads at most {} MiB", st.st_size, kMaxLabFileBytes >> 20));
  std::ifstream in(path, std::ios::binary);
  if (!in) return failed(path, fmt::format("cannot read the lab file: {}", std::strerror(errno)));
  std::string text = read_bounded(in);
  return load_read(path, std::move(text), in.bad());
}

}  // namespace topo
