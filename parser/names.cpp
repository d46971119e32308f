#include "parser/names.h"

#include <fmt/format.h>

#include "parser/model.h"

namespace topo {
namespace {

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool is_alnum(char c) { return is_lower_alnum(c) || (c >= 'A' && c <= 'Z'); }
bool is_control(char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }

// The character at byte i: its whole UTF-8 sequence, so that a message shows 'ö' and not
// half of it (a lone byte would be invalid UTF-8 on the terminal).
std::string_view character_at(std::string_view s, size_t i) {
  size_t n = 1;
  while (i + n < s.size() && (static_cast<unsigned char>(s[i + n]) & 0xC0) == 0x80 && n < 4) ++n;
  return s.substr(i, static_cast<unsigned char>(s[i]) < 0x80 ? 1 : n);
}

std::string not_allowed(std::string_view s, size_t i) {
  return fmt::format("has character {}, which is not allowed", quoted(character_at(s, i)));
}

std::string first_bad(std::string_view s, bool (*ok)(char)) {
  for (size_t i = 0; i < s.size(); ++i)
    if (!ok(s[i])) return not_allowed(s, i);
  return "";
}

}  // namespace

std::string quoted(std::string_view s) {
  // A name of megabytes is shown by its start: the message says what is wrong with it.
  constexpr size_t kShown = 80;
  bool cut = s.size() > kShown + 20;
  if (cut) {
    size_t end = kShown;
    while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
    s = s.substr(0, end);
  }
  std::string out = "'";
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '\n')
      out += "\\n";
    else if (c == '\t')
      out += "\\t";
    else if (c == '\\')
      out += "\\\\";
    else if (u < 0x20 || u == 0x7f)
      out += fmt::format("\\x{:02x}", u);
    else
      out += c;  // UTF-8 passes through: toml++ has already checked it is valid
  }
  return out + (cut ? "\u2026'" : "'");
}

std::string check_lab_name(std::string_view s) {
  if (s.empty()) return "is empty";
  if (s.size() > 12) return fmt::format("is {} characters long; at most 12 are allowed", s.size());
  if (!(s[0] >= 'a' && s[0] <= 'z')) return "must start with a lowercase letter";
  auto bad = first_bad(s, [](char c) { return is_lower_alnum(c) || c == '-'; });
  return bad.empty() ? "" : bad + " (use a-z, 0-9 and '-')";
}

std::string check_netns_name(std::string_view s) {
  if (s.empty()) return "is empty";
  if (s.size() > 32) return fmt::format("is {} characters long; at most 32 are allowed", s.size());
  if (s == kHostNetns) return "is reserved for the namespace topo runs in";
  auto bad = first_bad(s, [](char c) { return is_alnum(c) || c == '_' || c == '-'; });
  return bad.empty() ? "" : bad + " (use A-Z, a-z, 0-9, '_' and '-')";
}

std::string check_interface_name(std::string_view s) {
  if (s.empty()) return "is empty";
  // IFNAMSIZ is 16 with the terminating NUL.
  if (s.size() > 15) return fmt::format("is {} bytes long; at most 15 are allowed", s.size());
  if (s == "." || s == "..") return "is not a valid interface name";
  for (char c : s) {
    if (c == '/' || c == ':' || c == ' ' || is_control(c))
      return fmt::format("has character {}, which is not allowed", quoted({&c, 1}));
    // The kernel expands "%d" in a new link's name to a free number: "veth%d" would create
    // "veth0", which the lab could then never find again.
    if (c == '%')
      return "has character '%', which is not allowed (the kernel would replace \"%d\" with a "
             "number)";
  }
  return "";
}

std::string check_sysctl_key(std::string_view s) {
  if (s.substr(0, 4) != "net.") return "is not a network sysctl: only net.* sysctls belong to a namespace";
  size_t start = 0;
  while (start <= s.size()) {
    size_t dot = s.find('.', start);
    std::string_view part = s.substr(start, dot == std::string_view::npos ? s.npos : dot - start);
    if (part.empty()) return "has an empty component";
    auto bad = first_bad(part, [](char c) { return is_alnum(c) || c == '_' || c == '-'; });
    if (!bad.empty()) return bad;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return "";
}

std::string check_sysctl_value(std::string_view s) {
  if (s.empty()) return "is empty";
  if (s.size() > 256) return "is longer than 256 characters";
  for (char c : s)
    if (is_control(c) && c != '\t')
      return fmt::format("contains {}: a sysctl value is one line of text", quoted({&c, 1}));
  return "";
}

std::string check_hostname(std::string_view s) {
  if (s.empty()) return "is empty";
  if (s.size() > 253) return "is longer than 253 characters";
  size_t label = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '.') {
      if (label == 0) return "has an empty label";
      label = 0;
      continue;
    }
    if (!is_alnum(c) && c != '-' && c != '_') return not_allowed(s, i);
    if (++label > 63) return "has a label longer than 63 characters";
  }
  if (label == 0) return "has an empty label";
  if (s.front() == '-') return "must not start with '-'";
  return "";
}

std::string check_ns_path(std::string_view s) {
  if (s.empty() || s[0] != '/') return "must be an absolute path";
  if (s.size() > 4096) return "is longer than 4096 characters";
  for (char c : s)
    if (is_control(c)) return fmt::format("contains {}", quoted({&c, 1}));
  size_t start = 1;
  while (start < s.size()) {
    size_t slash = s.find('/', start);
    std::string_view part = s.substr(start, slash == s.npos ? s.npos : slash - start);
    if (part == "..") return "must not contain '..'";
    if (slash == s.npos) break;
    start = slash + 1;
  }
  return "";
}

}  // namespace topo
