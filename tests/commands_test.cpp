// The new commands that need no kernel: graph's dot and mermaid, the completion script
// (sourced in bash, its function called as bash would), and help on every command.
#include <catch2/catch.hpp>

#include "parser/graph.h"
#include "tests/files.h"
#include "tests/lab_text.h"

using namespace topo::test;

namespace {

const char* kLab = R"(lab = "g"
[[netns]]
name = "red"
[[bridge]]
name = "br0"
addresses = ["10.0.0.1/24"]
[[veth]]
a = { netns = "red", name = "eth0", addresses = ["10.0.0.2/24", "fd00::2/64"] }
b = { name = "red-p", master = "br0" }
[[macvlan]]
name = "mv0"
netns = "red"
parent = "up0"
parent_netns = "host"
[[bridge]]
name = "up0"
)";

// What `_topo` offers for the words of a command line (the last one is being typed).
std::string complete(const std::string& words) {
  TempDir dir;
  std::string script = dir.write("c.sh",
                                 "source <(\"$1\" completion bash)\nshift\nCOMP_WORDS=(\"$@\")\n"
                                 "COMP_CWORD=$(($# - 1))\n_topo\necho \"${COMPREPLY[*]}\"\n");
  Run r = run_shell("bash " + script + " " + TOPO_BINARY + " " + TOPO_BINARY + " " + words);
  return r.output;
}

}  // namespace

TEST_CASE("graph --format dot: namespaces as clusters, interfaces with addresses, edges by kind", "[graph]") {
  CHECK(graph_dot(lab(kLab)) ==
        "graph \"lab g\" {\n"
        "  node [shape=box, fontname=\"monospace\"];\n"
        "  subgraph cluster_ns0 {\n"
        "    label=\"host\";\n"
        "    if0 [label=\"br0 (bridge)\\n10.0.0.1/24\", shape=component];\n"
        "    if1 [label=\"up0 (bridge)\", shape=component];\n"
        "    if3 [label=\"red-p (veth)\"];\n"
        "  }\n"
        "  subgraph cluster_ns1 {\n"
        "    label=\"netns red\";\n"
        "    if2 [label=\"eth0 (veth)\\n10.0.0.2/24\\nfd00::2/64\"];\n"
        "    if4 [label=\"mv0 (macvlan)\"];\n"
        "  }\n"
        "  if2 -- if3 [label=\"veth\"];\n"
        "  if3 -- if0 [label=\"port\", style=dashed];\n"
        "  if4 -- if1 [label=\"macvlan bridge\", style=dashed];\n"
        "}\n");
}

TEST_CASE("graph --format mermaid: subgraphs, bridges as hexagons", "[graph]") {
  CHECK(graph_mermaid(lab(kLab)) ==
        "flowchart LR\n"
        "  subgraph ns0[\"host\"]\n"
        "    if0{{\"br0 (bridge)<br/>10.0.0.1/24\"}}\n"
        "    if1{{\"up0 (bridge)\"}}\n"
        "    if3[\"red-p (veth)\"]\n"
        "  end\n"
        "  subgraph ns1[\"netns red\"]\n"
        "    if2[\"eth0 (veth)<br/>10.0.0.2/24<br/>fd00::2/64\"]\n"
        "    if4[\"mv0 (macvlan)\"]\n"
        "  end\n"
        "  if2 ---|veth| if3\n"
        "  if3 -.-|port| if0\n"
        "  if4 -.-|macvlan bridge| if1\n");
}

TEST_CASE("graph --format mermaid: a network is one node with its members around it", "[graph]") {
  // Its bridge is drawn as the network, the ends on the bridge are not: each member's end
  // joins the network's node, as does a [[veth]] end the file puts on its bridge.
  CHECK(graph_mermaid(lab(R"(lab = "g"
[[network]]
name = "front"
subnets = ["172.20.0.0/24"]
[[netns]]
name = "web"
count = 2
networks = ["front"]
[[netns]]
name = "old"
[[veth]]
a = { netns = "old", name = "eth0", addresses = ["172.20.0.200/24"] }
b = { name = "old-p", master = "front" }
)")) == "flowchart LR\n"
        "  subgraph ns0[\"host\"]\n"
        "    if1[\"old-p (veth)\"]\n"
        "    if2{{\"network front<br/>172.20.0.1/24\"}}\n"
        "  end\n"
        "  subgraph ns1[\"netns web1\"]\n"
        "    if3[\"eth0 (veth)<br/>172.20.0.2/24\"]\n"
        "  end\n"
        "  subgraph ns2[\"netns web2\"]\n"
        "    if5[\"eth0 (veth)<br/>172.20.0.3/24\"]\n"
        "  end\n"
        "  subgraph ns3[\"netns old\"]\n"
        "    if0[\"eth0 (veth)<br/>172.20.0.200/24\"]\n"
        "  end\n"
        "  if0 ---|veth| if1\n"
        "  if1 -.-|port| if2\n"
        "  if3 ---|veth| if2\n"
        "  if5 ---|veth| if2\n");
}

TEST_CASE("topo graph: text stays the default, dot and mermaid on request", "[graph][cli]") {
  std::string pair = (source_dir() / "topologies/veth-pair.toml").string();
  Run text = run_topo("graph " + pair);
  CHECK(text.status == 0);
  CHECK(text.output == read_file(source_dir() / "tests/golden/veth-pair.txt"));
  Run dot = run_topo("graph --format dot " + pair);
  CHECK(dot.status == 0);
  CHECK(dot.output.rfind("graph \"lab pair\" {\n", 0) == 0);
  CHECK(dot.output.find("  if0 -- if1 [label=\"veth\"];\n") != std::string::npos);
  Run mermaid = run_topo("graph --format mermaid " + pair);
  CHECK(mermaid.output.find("  if0 ---|veth| if1\n") != std::string::npos);
  CHECK(run_topo("graph --format svg " + pair).status == 64);
}

TEST_CASE("completion: subcommands, options, --format values, exec's command", "[completion][cli]") {
  CHECK(complete("''") ==
        "validate graph expand plan apply destroy test show exec list machines completion --help --version\n");
  CHECK(complete("gr") == "graph\n");
  CHECK(complete("-") == "--help --version\n");
  CHECK(complete("plan --") == "--help --format --machine --detailed-exitcode\n");
  CHECK(complete("apply --") == "--help --machine --no-wait --verbose --quiet --test\n");
  CHECK(complete("test -") == "--help --machine -j --jobs\n");
  CHECK(complete("graph --format ''") == "text dot mermaid\n");
  CHECK(complete("plan --format s") == "shell\n");
  CHECK(complete("show --format ''") == "text json\n");
  CHECK(complete("-q validate --q") == "--quiet\n");  // the command is found past options
  CHECK(complete("completion ''") == "bash\n");
  CHECK(complete("exec web -- ech").rfind("echo", 0) == 0);  // commands, after --
  CHECK(complete("exec web -- ls /e") == "\n");              // past the command name: bash's own files
  CHECK(complete("exec web ech").rfind("echo", 0) == 0);     // without -- too
  CHECK(complete("exec web ls -") == "\n");                  // the command's options are its own
}

TEST_CASE("every command has --help and docs/cli.md covers it with an example", "[docs][cli]") {
  std::string doc = read_file(source_dir() / "docs/cli.md");
  for (std::string command : {"test", "show", "exec", "list", "completion"}) {
    INFO(command);
    Run help = run_topo(command + " --help");
    CHECK(help.status == 0);
    CHECK(help.output.find("Example") != std::string::npos);
    size_t at = doc.find("## `topo " + command);
    REQUIRE(at != std::string::npos);
    CHECK(doc.find("$ topo " + command, at) != std::string::npos);
  }
}
