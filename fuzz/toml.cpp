// toml++'s implementation, compiled here once for the fuzz build, so that its parser is
// instrumented for coverage and sanitized like topo's code (Debian's shared library is not).
//
// One check is off in this file only: toml++ 3.3.0 (Debian 12) reaches a
// __builtin_unreachable() for some non-ASCII characters where it looks for whitespace
// (is_non_ascii_horizontal_whitespace; upstream marzer/tomlplusplus#190 and #295, fixed
// after 3.3.0). Debian's compiled library handles every such character as an error or as
// the string it is (checked for U+00A0..U+FEFF at the top level, after a value and after a
// line-ending backslash), so it is not topo's to fix; without this exemption the fuzzer
// would report it within seconds and find nothing else.
#define TOML_IMPLEMENTATION
#include <toml++/toml.h>
