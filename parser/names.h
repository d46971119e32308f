// The rules for every kind of name a lab file gives. Each check returns why a name is
// refused ("" when it is fine), so that the reader can point at it.
#pragma once

#include <string>
#include <string_view>

namespace topo {

std::string check_lab_name(std::string_view s);        // [a-z][a-z0-9-]{0,11}
std::string check_netns_name(std::string_view s);      // [A-Za-z0-9_-]{1,32}, not "host"
std::string check_interface_name(std::string_view s);  // what the kernel and topo accept
std::string check_sysctl_key(std::string_view s);      // net.* with plain components
std::string check_sysctl_value(std::string_view s);    // one line of printable text
std::string check_hostname(std::string_view s);        // RFC 1123 labels, for /etc/hosts
std::string check_ns_path(std::string_view s);         // absolute, no "..", no control chars

/// Quoted for a message, with control bytes escaped so that a hostile name cannot garble
/// the terminal: "'a\\nb'"; one of more than 100 bytes is cut to its first 80 and "…".
std::string quoted(std::string_view s);

}  // namespace topo
