#include "parser/schema.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace topo {
namespace {

// Keys every link table shares.
std::vector<KeySpec> link_keys(std::vector<KeySpec> extra) {
  std::vector<KeySpec> keys = {{"name", "string"}, {"netns", "string"}, {"addresses", "array of strings"},
                               {"mtu", "integer"}, {"mac", "string"},   {"link_local", "boolean"}};
  keys.insert(keys.end(), extra.begin(), extra.end());
  return keys;
}

std::vector<TableSpec> build() {
  return {
      {"top level",
       {{"lab", "string"},
        {"host", "table"},
        {"netns", "array of tables"},
        {"bridge", "array of tables"},
        {"veth", "array of tables"},
        {"vxlan", "array of tables"},
        {"macvlan", "array of tables"},
        {"route", "array of tables"},
        {"nat", "array of tables"},
        {"expect", "array of tables"},
        {"filter", "array of tables"},
        {"network", "array of tables"},
        {"link", "array of tables"},
        {"machine", "array of tables"},
        {"routing", "string"},
        {"addressing", "table"}}},
      {"[addressing]", {{"p2p", "array of strings"}}},
      {"[[machine]]", {{"name", "string"}, {"address", "string"}, {"dev", "string"}, {"mtu", "integer"}}},
      {"[[link]]",
       {{"ends", "array of strings"},
        {"subnets", "array of strings"},
        {"names", "array of strings"},
        {"mtu", "integer"},
        {"shape", "table"},
        {"vni", "integer"}}},
      {"[host]", {{"sysctl", "table"}, {"limits", "table"}, {"policy", "table"}}},
      {"policy", {{"forward", "string"}, {"input", "string"}, {"output", "string"}}},
      {"[[netns]]",
       {{"name", "string"},
        {"pid", "integer"},
        {"path", "string"},
        {"sysctl", "table"},
        {"dns", "array of strings"},
        {"hosts", "table"},
        {"policy", "table"},
        {"networks", "array of strings or tables"},
        {"publish", "array of strings"},
        {"count", "integer"},
        {"machine", "string"}}},
      {"[[netns]] networks entry",
       {{"network", "string"}, {"address", "string"}, {"name", "string"}, {"shape", "table"}}},
      {"shape",
       {{"rate", "string"},
        {"delay", "string"},
        {"jitter", "string"},
        {"loss", "string"},
        {"duplicate", "string"},
        {"corrupt", "string"},
        {"reorder", "string"},
        {"limit", "integer"}}},
      {"[[network]]",
       {{"name", "string"},
        {"subnets", "array of strings"},
        {"masquerade", "boolean"},
        {"isolate", "boolean"},
        {"netns", "string"},
        {"bridge", "string"},
        {"gateway", "boolean"},
        {"mtu", "integer"},
        {"machine", "string"},
        {"vni", "integer"}}},
      {"[[bridge]]", link_keys({{"isolate", "boolean or array of strings"}})},
      {"[[veth]]", {{"a", "table"}, {"b", "table"}, {"mtu", "integer"}}},
      {"[[veth]] end", link_keys({{"master", "string"}, {"shape", "table"}})},
      {"[[vxlan]]", link_keys({{"id", "integer"},
                               {"local", "string"},
                               {"remote", "string"},
                               {"group", "string"},
                               {"remotes", "array of strings"},
                               {"dev", "string"},
                               {"underlay_netns", "string"},
                               {"port", "integer"},
                               {"master", "string"}})},
      {"[[macvlan]]",
       link_keys({{"parent", "string"}, {"parent_netns", "string"}, {"mode", "string"}, {"master", "string"}})},
      {"[[route]]",
       {{"netns", "string"},
        {"to", "string"},
        {"via", "string or array of strings"},
        {"dev", "string"},
        {"metric", "integer"}}},
      {"[[nat]]",
       {{"netns", "string"},
        {"kind", "string"},
        {"source", "string"},
        {"out", "string"},
        {"to", "string"},
        {"proto", "string"},
        {"port", "integer"},
        {"in", "string"}}},
      {"[[expect]]",
       {{"from", "string"},
        {"to", "string"},
        {"reach", "boolean"},
        {"proto", "string"},
        {"port", "integer"},
        {"timeout", "number"}}},
      {"[[filter]]",
       {{"netns", "string"},
        {"chain", "string"},
        {"action", "string"},
        {"in", "string"},
        {"out", "string"},
        {"source", "string"},
        {"destination", "string"},
        {"proto", "string"},
        {"port", "integer, string or array"},
        {"state", "string or array of strings"}}},
  };
}

}  // namespace

std::vector<std::string_view> TableSpec::key_names() const {
  std::vector<std::string_view> names;
  for (const KeySpec& k : keys) names.push_back(k.name);
  return names;
}

bool TableSpec::has(std::string_view key) const {
  return std::any_of(keys.begin(), keys.end(), [&](const KeySpec& k) { return k.name == key; });
}

const std::vector<TableSpec>& lab_schema() {
  static const std::vector<TableSpec> schema = build();  // immutable after first use
  return schema;
}

const TableSpec& table_spec(std::string_view title) {
  for (const TableSpec& t : lab_schema())
    if (t.title == title) return t;
  throw std::logic_error("no table spec titled " + std::string(title));
}

}  // namespace topo
