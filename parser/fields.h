// Typed, checked access to the keys of one TOML table. Every problem becomes a diagnostic
// pointing at the key or value; the getters return nullopt then, so that reading goes on
// and the user sees every problem of the file at once.
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "parser/address.h"
#include "parser/diagnostics.h"
#include "parser/schema.h"
#include "parser/source.h"

namespace topo {

SourcePos pos_of(const toml::source_region& r);
inline SourcePos pos_of(const toml::node& n) { return pos_of(n.source()); }
/// How many columns the value's text spans on its first line (for the caret).
int width_of(const toml::node& n);
std::string_view type_name(const toml::node& n);

class Fields {
 public:
  /// `where` names the table in messages: "[[veth]] end 'a'".
  Fields(const toml::table& table, const TableSpec& spec, std::string where, Diagnostics& diags);

  SourcePos pos() const { return pos_; }
  const std::string& where() const { return where_; }
  void set_where(std::string where) { where_ = std::move(where); }
  Diagnostics& diags() { return diags_; }

  bool has(std::string_view key) const { return table_.contains(key); }
  bool accepts(std::string_view key) const { return spec_.has(key); }
  const toml::node* node(std::string_view key) const { return table_.get(key); }
  SourcePos key_pos(std::string_view key) const;

  std::optional<Located<std::string>> string(std::string_view key);
  std::optional<Located<bool>> boolean(std::string_view key);
  std::optional<Located<int64_t>> integer(std::string_view key, int64_t min, int64_t max);
  std::optional<Located<IpAddress>> address(std::string_view key);  // "10.0.0.1"
  std::optional<Located<IpPrefix>> prefix(std::string_view key);    // "10.0.0.0/24"
  std::optional<Located<MacAddress>> mac(std::string_view key);
  std::vector<Located<IpPrefix>> addresses(std::string_view key);  // interface addresses
  /// The key's value as a table ("sysctl = { ... }" or a dotted key); nullptr if absent
  /// or of another type (reported).
  const toml::table* table(std::string_view key);

  /// An interface name value: checked against the kernel's rules.
  std::optional<Located<std::string>> interface_name(std::string_view key);

  void missing(std::string_view key);  // "missing required key ..."
  /// Reports every key that is not in the spec, with a did-you-mean.
  void reject_unknown();

 private:
  const toml::node* typed(std::string_view key, toml::node_type want, std::string_view what);

  const toml::table& table_;
  const TableSpec& spec_;
  std::string where_;
  Diagnostics& diags_;
  SourcePos pos_;
};

/// A string value held in a node, or a type error.
std::optional<Located<std::string>> string_value(const toml::node& n, std::string_view what, Diagnostics& diags);
/// An IP address held in a string node; `what` names it in messages ("dns entry").
std::optional<Located<IpAddress>> address_value(const toml::node& n, std::string_view what, Diagnostics& diags);
/// An interface address ("10.0.0.2/24") held in a string node.
std::optional<Located<IpPrefix>> interface_address_value(const toml::node& n, Diagnostics& diags);

}  // namespace topo
