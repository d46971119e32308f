// Link impairments (`shape`) against a real kernel, each case in its own sandbox, with tc and
// a TCP stream (tests/throughput.py) as the witnesses. This kernel has tbf but no netem:
// the cases that need netem say "SKIPPED:" and ctest counts them skipped (tests/CMakeLists.txt),
// never passed.
#include <iostream>

#include "tests/kernel_harness.h"

using namespace topo::test;

namespace {

// Two namespaces over one veth; r1's end shaped with `keys` (none when empty).
std::string wan(const std::string& keys, const std::string& b_keys = "") {
  auto shape = [](const std::string& k) { return k.empty() ? std::string() : ", shape = { " + k + " }"; };
  return fmt::format(
      "lab = \"wan\"\n[[netns]]\nname = \"r1\"\n[[netns]]\nname = \"r2\"\n[[veth]]\n"
      "a = {{ netns = \"r1\", name = \"wan0\", addresses = [\"10.9.0.1/31\"]{} }}\n"
      "b = {{ netns = \"r2\", name = \"wan0\", addresses = [\"10.9.0.0/31\"]{} }}\n",
      shape(keys), shape(b_keys));
}

// Bash: `qdiscs` prints the root qdiscs of both namespaces' links, handles left out.
const char* kQdiscs =
    "qdiscs() { for n in r1 r2; do tc -n $n qdisc show | sed -E 's/^(qdisc [a-z_]+) [0-9a-f]+:/\\1/'; done; }\n";

// Whether this kernel has netem: tried on a veth of a sandbox of its own.
bool has_netem() {
  Run r = in_sandbox(
      "ip link add nt0 type veth peer name nt1\n"
      "tc qdisc add dev nt0 root netem delay 1ms 2> /dev/null && echo netem || echo none\n");
  return r.output == "netem\n";
}

// The test goes no further on a kernel without netem, and says it was skipped.
#define SKIP_WITHOUT_NETEM()                                                                      \
  do {                                                                                            \
    if (!has_netem()) {                                                                           \
      std::cout << "SKIPPED: this kernel has no netem qdisc (CONFIG_NET_SCH_NETEM)" << std::endl; \
      return;                                                                                     \
    }                                                                                             \
  } while (0)

}  // namespace

TEST_CASE("kernel: a rate is a tbf made with the link, changed in place, and gone with the shape", "[kernel][shape]") {
  Run r = in_sandbox({{"L", wan(R"(rate = "20mbit")")}, {"E", wan(R"(rate = "5mbit")")}, {"U", wan("")}},
                     std::string(kQdiscs) +
                         "index() { ip -n r1 -o link show wan0 | cut -d: -f1; }\n"
                         "$TOPO apply -q $L\n"
                         "echo '== applied'; qdiscs; $TOPO plan $L\n"
                         "before=$(index)\n"
                         "echo '== edit'; $TOPO plan $E; $TOPO apply -q $E; qdiscs; $TOPO plan $E\n"
                         "[ \"$(index)\" = \"$before\" ] && echo 'the same link'\n"
                         "echo '== unshaped'; $TOPO apply -q $U; qdiscs; $TOPO plan --format shell $L | grep tc\n"
                         "echo '== destroyed'; $TOPO destroy -q $U; ip netns\n");
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(part(r.output, "applied") ==
        "qdisc noqueue dev lo root refcnt 2 \n"
        "qdisc tbf dev wan0 root refcnt 2 rate 20Mbit burst 25000b lat 50ms \n"
        "qdisc noqueue dev lo root refcnt 2 \n"
        "qdisc noqueue dev wan0 root refcnt 2 \n"
        "No changes. The kernel matches the lab.\n");
  CHECK(part(r.output, "edit") ==
        "namespace r1\n"
        "  ~ shape wan0: rate 20mbit -> 5mbit\n"
        "\n"
        "Plan: 0 to add, 1 to change, 0 to destroy.\n"
        "qdisc noqueue dev lo root refcnt 2 \n"
        "qdisc tbf dev wan0 root refcnt 2 rate 5Mbit burst 15000b lat 50ms \n"
        "qdisc noqueue dev lo root refcnt 2 \n"
        "qdisc noqueue dev wan0 root refcnt 2 \n"
        "No changes. The kernel matches the lab.\n"
        "the same link\n");
  CHECK(part(r.output, "unshaped") ==
        "qdisc noqueue dev lo root refcnt 2 \n"
        "qdisc noqueue dev wan0 root refcnt 2 \n"
        "qdisc noqueue dev lo root refcnt 2 \n"
        "qdisc noqueue dev wan0 root refcnt 2 \n"
        "tc -n r1 qdisc replace dev wan0 root tbf rate 20000000bit burst 25000 limit 150000\n");
  CHECK(part(r.output, "destroyed") == "");
}

TEST_CASE("kernel: the kernel keeps each rate's bucket as topo predicts, so the plan after apply is empty",
          "[kernel][shape]") {
  // From 1kbit (a bucket of two minutes) to 100gbit (past 32 bits of bytes a second).
  std::string lab = "lab = \"rates\"\n";
  int i = 0;
  for (std::string rate :
       {"1kbit", "3kibit", "999kbit", "1.5mbps", "20mbit", "33333kbit", "1gbit", "4.3gbps", "40gbit", "100gbit"})
    lab += fmt::format("[[veth]]\na = {{ name = \"s{0}\", shape = {{ rate = \"{1}\" }} }}\nb = {{ name = \"t{0}\" }}\n",
                       ++i, rate);
  // And a jumbo link, whose bucket takes a whole frame.
  lab += "[[veth]]\na = { name = \"j1\", mtu = 65535, shape = { rate = \"1mbit\" } }\nb = { name = \"j2\" }\n";
  Run r = in_sandbox({{"L", lab}},
                     "$TOPO apply -q $L\n" + converged("$L") +
                         "tc qdisc show | grep -c tbf\ntc qdisc show dev j1 | grep -o 'burst [0-9A-Za-z]*'\n");
  check_prints(r, "converged\n11\nburst 64Kb\n");  // tc's words for 65549 bytes
}

TEST_CASE("kernel: topo asks for each shape with the bytes the tc installed sends", "[kernel][shape]") {
  // tests/qdisc_test.cpp holds tc's bytes (tests/qdisc/tc-bytes.txt) and checks topo's
  // against them; this checks that file against the tc here, word for word.
  std::string file = (source_dir() / "tests/qdisc/tc-bytes.txt").string();
  std::string script = (source_dir() / "scripts/tc-bytes.sh").string();
  Run r = run_shell("cut -d'|' -f1 " + file + " | sed 's/ $//' | " + script + " | diff " + file +
                    " - && echo 'the same bytes'");
  check_prints(r, "the same bytes\n");
}

TEST_CASE("kernel: a shaped lab's apply, edit and destroy fail at every step and leave the kernel as it was",
          "[kernel][shape]") {
  std::string lab = wan(R"(rate = "20mbit")", R"(rate = "10mbit")") +
                    "[[link]]\nends = [\"r1\", \"host\"]\nshape = { rate = \"5mbit\" }\n";
  std::string edit = wan(R"(rate = "7mbit")") + "[[link]]\nends = [\"r1\", \"host\"]\nnames = [\"up\", \"r1\"]\n";
  Run r = in_sandbox(
      {{"L", lab}, {"E", edit}},
      std::string(kFullDump) + kWitness +
          // Links made again by a rollback have new ifindexes, and their peers' names say so;
          // their IPv6 link-local addresses come a moment after them; namespaces made again
          // get ids in the order the kernel gets to them.
          "stable() { witness | sed -E 's/@if[0-9]+//; s/ \\(id: [0-9]+\\)//; s/ fe80::[0-9a-f:]+\\/64//' | sort; }\n"
          "echo '== apply'\n" +
          fail_each_step("$L", "full_dump") + converged("$L") + "echo '== edit'\n" + fail_each_step("$E", "stable") +
          converged("$E") + "echo '== destroy'\n" + fail_each_destroy_step("$E", "stable") +
          "tc qdisc show | grep -c tbf || true\n");
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(part(r.output, "apply") == "applied once each of its 4 steps had failed\nconverged\n");
  CHECK(part(r.output, "edit") == "applied once each of its 4 steps had failed\nconverged\n");
  CHECK(part(r.output, "destroy") == "destroyed at the 3-th try\n0\n");
}

TEST_CASE("kernel: a shaped lab killed at any step converges on the next apply, and destroy leaves nothing",
          "[kernel][shape]") {
  std::string lab = wan(R"(rate = "20mbit")", R"(rate = "10mbit")") +
                    "[[link]]\nends = [\"r1\", \"host\"]\nshape = { rate = \"5mbit\" }\n";
  Run r = in_sandbox({{"L", lab}},
                     std::string(kWitness) +
                         "witness > /run/pristine\n"
                         "exec 2>/dev/null  # bash's 'Killed' notices\n"
                         "for k in 1 2 3 4; do  # its four steps\n"
                         "  TOPO_TEST_KILL_STEP=$k $TOPO apply $L > /dev/null && echo \"step $k: not killed\"\n"
                         "  $TOPO apply $L > /dev/null\n"
                         "  $TOPO plan --detailed-exitcode $L > /dev/null || echo \"step $k: apply did not converge\"\n"
                         "  $TOPO destroy $L > /dev/null\n"
                         "  witness > /run/now\n"
                         "  diff /run/pristine /run/now > /dev/null || echo \"step $k: left behind\"\n"
                         "done\necho done\n");
  check_prints(r, "done\n");
}

TEST_CASE("kernel: a rate of 20mbit lets a TCP stream through at 18-22 Mbit/s, ten times less than without",
          "[kernel][shape][serial]") {
  // The median of three streams of 2 s each way of measuring; r1 sends, so r1's end is shaped.
  // Alone ([serial]): the unshaped stream is as fast as a CPU moves it, and a busy machine
  // (measured: the evolve test beside it) cut it from 14 Gbit/s to 30 Mbit/s.
  std::string measure =
      "measure() {\n"
      "  for i in 1 2 3; do\n"
      "    ip netns exec r2 python3 " +
      (source_dir() / "tests/throughput.py").string() +
      " receive 5001 > /run/rate$i &\n"
      "    listening r2 5001\n"
      "    ip netns exec r1 python3 " +
      (source_dir() / "tests/throughput.py").string() +
      " send 10.9.0.0 5001 2\n"
      "    wait\n"
      "  done\n"
      "  cat /run/rate1 /run/rate2 /run/rate3 | sort -n | sed -n 2p\n"
      "}\n";
  Run r =
      in_sandbox({{"L", wan(R"(rate = "20mbit")")}, {"U", wan("")}},
                 std::string(kListening) + measure +
                     "$TOPO apply -q $L\nshaped=$(measure)\n"
                     "$TOPO apply -q $U\nfree=$(measure)\n"
                     "echo \"== figures\"; echo \"shaped $shaped Mbit/s, unshaped $free Mbit/s\"\n"
                     "echo '== verdict'\n"
                     "awk -v s=$shaped -v f=$free 'BEGIN { print (s >= 18 && s <= 22) ? \"rate held\" : \"rate \" s;"
                     " print (f >= 10 * s) ? \"ten times more without\" : \"without only \" f }'\n");
  INFO(r.output);  // the figures: TCP's payload, so a little under the rate (its headers count too)
  CHECK(r.status == 0);
  CHECK(part(r.output, "verdict") == "rate held\nten times more without\n");
}

TEST_CASE("kernel: on a kernel without netem a delay fails on its step in the kernel's words and rolls back",
          "[kernel][shape]") {
  if (has_netem()) {
    std::cout << "SKIPPED: this kernel has netem (CONFIG_NET_SCH_NETEM): nothing to refuse" << std::endl;
    return;
  }
  Run r = in_sandbox({{"L", wan(R"(rate = "20mbit")")}, {"D", wan(R"(delay = "40ms", loss = "1%")")}},
                     std::string(kFullDump) + kSettle +
                         "echo '== fresh'; full_dump > /run/before\n"
                         "$TOPO apply -q $D || echo \"exit $?\"\n"
                         "full_dump > /run/after; diff /run/before /run/after > /dev/null && echo 'as it was'\n"
                         "echo '== edit'; $TOPO apply -q $L; settle; full_dump > /run/before\n"
                         "$TOPO apply -q $D || echo \"exit $?\"\n"
                         "full_dump > /run/after; diff /run/before /run/after > /dev/null && echo 'as it was'\n");
  INFO(r.output);
  CHECK(r.status == 0);
  std::string refused =
      "setting netem qdisc of interface r1/wan0: No such file or directory (Specified qdisc kind is unknown); this "
      "kernel has no netem qdisc: it is built without CONFIG_NET_SCH_NETEM\n"
      "rolled back: the kernel is as it was.\n"
      "exit 1\n"
      "as it was\n";
  CHECK(part(r.output, "fresh") ==
        "topo: apply failed at step 3 of 3: r1: + veth wan0 peer r2/wan0 10.9.0.1/31 "
        "shape delay 40ms loss 1% & r2: veth wan0 peer r1/wan0 10.9.0.0/31\n  " +
            refused);
  CHECK(part(r.output, "edit") ==
        "topo: apply failed at step 1 of 1: r1: ~ shape wan0: rate 20mbit -> delay 40ms "
        "loss 1%\n  " +
            refused);
}

TEST_CASE("kernel: a delay of 50 ms at each end makes a round trip of 100 ms or more", "[kernel][shape]") {
  SKIP_WITHOUT_NETEM();
  Run r = in_sandbox({{"L", wan(R"(delay = "50ms")", R"(delay = "50ms")")}},
                     "$TOPO apply -q $L\n" + converged("$L") +
                         "ip netns exec r1 ping -c 3 -i 0.2 10.9.0.0 | awk -F/ '/^rtt/ { print ($4 >= 100) ? "
                         "\"at least 100 ms\" : \"only \" $4 }'\n");
  check_prints(r, "converged\nat least 100 ms\n");
}
