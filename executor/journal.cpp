#include "executor/journal.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>

#include "executor/kernel_error.h"

namespace topo {

Journal::Journal(const LabDir& dir) : dir_(dir), fd_(dir_.open("journal", O_WRONLY | O_CREAT | O_APPEND)) {}

void Journal::append(const std::string& line) {
  std::string l = line + "\n";
  if (::write(fd_.get(), l.data(), l.size()) != static_cast<ssize_t>(l.size()) || ::fdatasync(fd_.get()) != 0)
    throw KernelError("writing", dir_.path("journal"), std::strerror(errno), errno);
}

void Journal::before(const Step& step) {
  // A namespace is made, or unmounted, in two moves (the file, the mount): a kill between
  // them leaves an empty file that the next run removes.
  if (std::holds_alternative<NamespaceDelta>(step.subject)) append("claim\t" + step.netns + "\tlo");
  // A batch unmounts the namespaces at its far ends while the kernel deletes it.
  std::string far_claims;
  if (step.action == Action::remove)
    for (const std::string& far : step.far_namespaces()) far_claims += "claim\t" + far + "\tlo\n";
  if (!far_claims.empty()) append(far_claims.substr(0, far_claims.size() - 1));  // one fsync
  if (step.action == Action::create) {
    if (const auto* l = std::get_if<LinkDelta>(&step.subject)) {
      append("claim\t" + step.netns + "\t" + l->after->name);
      if (const VethState* v = l->after->veth(); v && step.peer)
        append("claim\t" + v->peer_netns + "\t" + v->peer_name);
    }
  }
}

void Journal::close() {
  fd_ = Fd();
  dir_.remove("journal");
}

std::vector<Claim> Journal::leftovers(const LabDir& dir) {
  std::vector<Claim> out;
  std::istringstream in(dir.read("journal").value_or(""));
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> f;
    std::istringstream fields(line);
    for (std::string x; std::getline(fields, x, '\t');) f.push_back(x);
    if (f.size() == 3 && f[0] == "claim") out.push_back({f[1], f[2]});
  }
  return out;
}

}  // namespace topo
