#include "executor/etc_netns.h"

#include <fcntl.h>
#include <unistd.h>

#include "executor/no_follow.h"

namespace topo {
namespace {

constexpr const char* kEtcNetns = "/etc/netns";
constexpr const char* kFiles[] = {"resolv.conf", "hosts"};

std::string shown(const std::string& netns) { return std::string(kEtcNetns) + "/" + netns; }

}  // namespace

std::map<std::string, std::string> read_netns_files(const std::string& netns) {
  std::map<std::string, std::string> out;
  Fd etc = open_dir_at(AT_FDCWD, kEtcNetns, kEtcNetns, false, 0);
  Fd dir = etc ? open_dir_at(etc.get(), netns, shown(netns), false, 0) : Fd();
  if (!dir) return out;
  for (const char* file : kFiles)
    if (auto text = read_file_at(dir.get(), file, shown(netns) + "/" + file)) out[file] = *text;
  return out;
}

void write_netns_file(const std::string& netns, const std::string& file, const std::string& text) {
  Fd etc = open_dir_at(AT_FDCWD, kEtcNetns, kEtcNetns, true, 0755);
  Fd dir = open_dir_at(etc.get(), netns, shown(netns), true, 0755);
  write_file_at(dir.get(), file, text, shown(netns) + "/" + file, 0644, false);
}

void remove_netns_file(const std::string& netns, const std::string& file) {
  Fd etc = open_dir_at(AT_FDCWD, kEtcNetns, kEtcNetns, false, 0);
  Fd dir = etc ? open_dir_at(etc.get(), netns, shown(netns), false, 0) : Fd();
  if (!dir) return;
  remove_file_at(dir.get(), file, shown(netns) + "/" + file);
  ::unlinkat(etc.get(), netns.c_str(), AT_REMOVEDIR);  // only when empty
}

}  // namespace topo
