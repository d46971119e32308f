#include "parser/fields.h"

#include <fmt/format.h>

#include "parser/names.h"
#include "parser/suggest.h"

namespace topo {

SourcePos pos_of(const toml::source_region& r) {
  return {static_cast<int>(r.begin.line), static_cast<int>(r.begin.column)};
}

int width_of(const toml::node& n) {
  const auto& r = n.source();
  if (r.end.line != r.begin.line || r.end.column <= r.begin.column) return 1;
  return static_cast<int>(r.end.column - r.begin.column);
}

std::string_view type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    default: return "nothing";
  }
}

Fields::Fields(const toml::table& table, const TableSpec& spec, std::string where, Diagnostics& diags)
    : table_(table), spec_(spec), where_(std::move(where)), diags_(diags), pos_(pos_of(table)) {}

SourcePos Fields::key_pos(std::string_view key) const {
  for (auto&& [k, v] : table_)
    if (k.str() == key) return pos_of(k.source());
  return pos_;
}

const toml::node* Fields::typed(std::string_view key, toml::node_type want, std::string_view what) {
  const toml::node* n = table_.get(key);
  if (!n) return nullptr;
  if (n->type() != want) {
    diags_.error(pos_of(*n), fmt::format("'{}' in {} must be {}, not {}", key, where_, what, type_name(*n)),
                 width_of(*n));
    return nullptr;
  }
  return n;
}

std::optional<Located<std::string>> Fields::string(std::string_view key) {
  const toml::node* n = typed(key, toml::node_type::string, "a string");
  if (!n) return std::nullopt;
  return Located<std::string>{std::string(n->as_string()->get()), pos_of(*n)};
}

std::optional<Located<bool>> Fields::boolean(std::string_view key) {
  const toml::node* n = typed(key, toml::node_type::boolean, "a boolean (true or false)");
  if (!n) return std::nullopt;
  return Located<bool>{n->as_boolean()->get(), pos_of(*n)};
}

std::optional<Located<int64_t>> Fields::integer(std::string_view key, int64_t min, int64_t max) {
  const toml::node* n = typed(key, toml::node_type::integer, "an integer");
  if (!n) return std::nullopt;
  int64_t v = n->as_integer()->get();
  if (v < min || v > max) {
    diags_.error(pos_of(*n), fmt::format("'{}' in {} is {}; it must be between {} and {}", key, where_, v, min, max),
                 width_of(*n));
    return std::nullopt;
  }
  return Located<int64_t>{v, pos_of(*n)};
}

std::optional<Located<IpAddress>> Fields::address(std::string_view key) {
  const toml::node* n = table_.get(key);
  return n ? address_value(*n, fmt::format("'{}' in {}", key, where_), diags_) : std::nullopt;
}

std::optional<Located<IpPrefix>> Fields::prefix(std::string_view key) {
  auto s = string(key);
  if (!s) return std::nullopt;
  auto p = parse_prefix(s->value);
  if (!p) {
    diags_.error(s->pos,
                 fmt::format("'{}' in {} is {}, which is not a prefix like 10.0.0.0/24 or "
                             "fd00::/64",
                             key, where_, quoted(s->value)),
                 width_of(*table_.get(key)));
    return std::nullopt;
  }
  return Located<IpPrefix>{*p, s->pos};
}

std::optional<Located<MacAddress>> Fields::mac(std::string_view key) {
  auto s = string(key);
  if (!s) return std::nullopt;
  int width = width_of(*table_.get(key));
  auto m = parse_mac(s->value);
  if (!m) {
    diags_.error(s->pos, fmt::format("mac {} is not a MAC address like 02:00:00:00:00:01", quoted(s->value)), width);
    return std::nullopt;
  }
  if (m->is_multicast() || m->is_zero()) {
    diags_.error(s->pos,
                 fmt::format("mac {} cannot be an interface's address: it is {}", s->value,
                             m->is_zero() ? "all zeros"
                                          : "a multicast address (low bit of the "
                                            "first octet set)"),
                 width);
    return std::nullopt;
  }
  return Located<MacAddress>{*m, s->pos};
}

std::vector<Located<IpPrefix>> Fields::addresses(std::string_view key) {
  std::vector<Located<IpPrefix>> out;
  const toml::node* n = typed(key, toml::node_type::array, "an array of strings");
  if (!n) return out;
  for (const toml::node& e : *n->as_array())
    if (auto p = interface_address_value(e, diags_)) out.push_back(*p);
  return out;
}

const toml::table* Fields::table(std::string_view key) {
  const toml::node* n = typed(key, toml::node_type::table, "a table");
  return n ? n->as_table() : nullptr;
}

std::optional<Located<std::string>> Fields::interface_name(std::string_view key) {
  auto s = string(key);
  if (!s) return std::nullopt;
  std::string why = check_interface_name(s->value);
  if (!why.empty()) {
    diags_.error(s->pos, fmt::format("interface name {} {}", quoted(s->value), why), width_of(*table_.get(key)));
    return std::nullopt;
  }
  return s;
}

void Fields::missing(std::string_view key) {
  diags_.error(pos_, fmt::format("missing required key '{}' in {}", key, where_));
}

namespace {

// A top-level key written below a table header belongs to that table in TOML: say so, as
// the reader sees an unknown key of that table (`expect = [...]` at the end of a file).
std::string top_level_hint(std::string_view key, const toml::node& value, const TableSpec& in) {
  const TableSpec& top = table_spec("top level");
  if (&in == &top || !top.has(key)) return "";
  std::string_view type;
  for (const KeySpec& k : top.keys)
    if (k.name == key) type = k.type;
  bool fits = type == "array of tables" ? value.is_array_of_tables()
              : type == "table"         ? value.is_table()
                                        : value.is_string();
  if (!fits) return "";  // `netns = "red"` in [[expect]] is not a misplaced [[netns]]
  return fmt::format(
      "; '{}' is a top-level key, and in TOML a key below a table's header belongs to that table: "
      "write it above the first table{}",
      key, type == "array of tables" ? fmt::format(", or as a [[{}]] table", key) : "");
}

}  // namespace

void Fields::reject_unknown() {
  for (auto&& [k, v] : table_) {
    if (spec_.has(k.str())) continue;
    std::string hint = top_level_hint(k.str(), v, spec_);
    diags_.error(pos_of(k.source()),
                 fmt::format("unknown key {} in {}{}", quoted(k.str()), where_,
                             hint.empty() ? did_you_mean(k.str(), spec_.key_names()) : hint),
                 static_cast<int>(k.str().size()));
  }
}

std::optional<Located<std::string>> string_value(const toml::node& n, std::string_view what, Diagnostics& diags) {
  if (!n.is_string()) {
    diags.error(pos_of(n), fmt::format("{} must be a string, not {}", what, type_name(n)), width_of(n));
    return std::nullopt;
  }
  return Located<std::string>{std::string(n.as_string()->get()), pos_of(n)};
}

std::optional<Located<IpAddress>> address_value(const toml::node& n, std::string_view what, Diagnostics& diags) {
  auto s = string_value(n, what, diags);
  if (!s) return std::nullopt;
  if (s->value.find_first_of("\r\n") != std::string::npos) {
    diags.error(s->pos,
                fmt::format("{} contains a line break, which would inject lines into the files "
                            "topo writes",
                            what),
                width_of(n));
    return std::nullopt;
  }
  auto a = parse_ip(s->value);
  if (!a) {
    diags.error(s->pos, fmt::format("{} is {}, which is not an IPv4 or IPv6 address", what, quoted(s->value)),
                width_of(n));
    return std::nullopt;
  }
  return Located<IpAddress>{*a, s->pos};
}

std::optional<Located<IpPrefix>> interface_address_value(const toml::node& n, Diagnostics& diags) {
  auto s = string_value(n, "an address", diags);
  if (!s) return std::nullopt;
  auto p = parse_prefix(s->value);
  if (!p) {
    auto bare = parse_ip(s->value);
    diags.error(s->pos,
                bare ? fmt::format("address {} needs a prefix length, like {}/{}", quoted(s->value), s->value,
                                   bare->family == Family::v4 ? 24 : 64)
                     : fmt::format("address {} is not an IPv4 or IPv6 address with a prefix "
                                   "length, like 10.0.0.2/24 or fd00::2/64",
                                   quoted(s->value)),
                width_of(n));
    return std::nullopt;
  }
  if (p->is_network_or_broadcast_host()) {
    bool net = p->is_network();
    diags.error(s->pos,
                fmt::format("address {} is the {} address of its subnet, not a host's", s->value,
                            net ? "network" : "broadcast"),
                width_of(n));
    return std::nullopt;
  }
  if (p->address.is_multicast() || p->address.is_unspecified()) {
    diags.error(s->pos, fmt::format("address {} cannot be an interface's address", s->value), width_of(n));
    return std::nullopt;
  }
  return Located<IpPrefix>{*p, s->pos};
}

}  // namespace topo
