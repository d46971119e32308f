// Labs over several machines against a real kernel: simulated machines (tests/machines.sh:
// each a network and mount namespace of its own, on an underlay bridge, at 192.0.2.I) each
// apply their slice, found by their own address. Every guarantee of one machine holds for
// each slice, and what one machine does touches nothing on another.
#include "tests/kernel_harness.h"

using namespace topo::test;

namespace {

// Two machines: a network across both (its gateway and NAT on m1), a [[link]] between them.
const char* kWide = R"(lab = "wide"
[[machine]]
name = "m1"
address = "192.0.2.1"
[[machine]]
name = "m2"
address = "192.0.2.2"
[[network]]
name = "front"
subnets = ["10.50.0.0/24"]
masquerade = true
[[netns]]
name = "a"
count = 2
networks = ["front"]
[[netns]]
name = "b"
count = 2
machine = "m2"
networks = ["front"]
[[link]]
ends = ["a1", "b1"]
[[expect]]
from = "*"
to = "*"
reach = true
[[expect]]
from = "b2"
to = "front"
reach = true
)";

// Bash: the machines, and the dumps run inside them (bash -c sees exported functions).
std::string two_machines() {
  return std::string(kFullDump) + kWitness + "source " + (source_dir() / "tests/machines.sh").string() +
         "\ntrap machines_down EXIT\nmachines_up 2 > /dev/null\nexport -f $(declare -F | cut -d' ' -f3)\nexport TOPO "
         "L\n"
         // In a machine, its dump but for its underlay: eth0's counters and neighbours move with traffic
         "dump() { on_machine $1 bash -c 'full_dump' | grep -v -e '\"eth0\"' -e 'ifindex' ; }\n"
         // What ip shows of a machine with a lab applied, but operstates, which linkwatch
         // settles a moment after the apply (kWitness)
         "look() { on_machine $1 bash -c witness | grep -v eth0; }\n";
}

}  // namespace

TEST_CASE("kernel: each machine applies its slice, everything reaches everything across them, each destroy is its own",
          "[kernel][machines]") {
  Run r = in_sandbox({{"L", kWide}}, two_machines() + R"sh(
dump 1 > /run/m1-pristine; dump 2 > /run/m2-pristine
on_machine 1 $TOPO apply $L | tail -1 | cut -d'(' -f1
on_machine 2 $TOPO apply $L | tail -1 | cut -d'(' -f1
echo '== tunnels'
on_machine 2 bridge fdb show dev front_v | grep '^00:00:00:00:00:00'
on_machine 1 ip -d link show dev b1 -n a1 2>/dev/null || on_machine 1 ip -n a1 -d -o link show b1 | grep -o 'vxlan id [0-9]* remote 192.0.2.2 local 192.0.2.1'
echo '== test'
on_machine 1 $TOPO test $L | tail -1
on_machine 2 $TOPO test $L | tail -1
echo '== plans'
on_machine 1 $TOPO plan --detailed-exitcode $L | tail -1
on_machine 2 $TOPO plan --detailed-exitcode $L | tail -1
echo '== m1 destroyed'
look 2 > /run/m2-applied
on_machine 1 $TOPO destroy $L | cut -d'(' -f1
dump 1 | diff /run/m1-pristine - && echo 'm1 as before'
look 2 | diff /run/m2-applied - && echo 'm2 untouched'
on_machine 2 $TOPO destroy $L > /dev/null
dump 2 | diff /run/m2-pristine - && echo 'm2 as before'
)sh");
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(part(r.output, "tunnels") ==
        "00:00:00:00:00:00 dst 192.0.2.1 self permanent\n"
        "vxlan id 1347018 remote 192.0.2.2 local 192.0.2.1\n");
  CHECK(part(r.output, "test") == "6 expectations: 6 hold, 0 fail.\n7 expectations: 7 hold, 0 fail.\n");
  CHECK(part(r.output, "plans") ==
        "No changes. The kernel matches the lab.\nNo changes. The kernel matches the lab.\n");
  CHECK(part(r.output, "m1 destroyed") ==
        "Destroyed lab 'wide': 8 removed \nm1 as before\nm2 untouched\nm2 as before\n");
}

TEST_CASE("kernel: on each of two machines, apply and destroy fail at every step and leave it as it was",
          "[kernel][machines]") {
  // Each machine in turn, the other's slice applied: what fails and rolls back on one
  // machine is as it was there, and the other's is untouched.
  Run r =
      in_sandbox({{"L", kWide}}, two_machines() + "export -f dump\n" + R"sh(
guarantees() {
  on_machine $1 bash -c "$(cat <<'EOS'
)sh" + fail_each_step("$L", "full_dump | grep -v -e '\"eth0\"' -e ifindex") +
                                     converged("$L") +
                                     fail_each_destroy_step("$L",
                                                            "witness | sed -E 's/@if[0-9]+//; s/ \\(id: [0-9]+\\)//; "
                                                            "s/ fe80::[0-9a-f:]+\\/64//; s/NO-CARRIER,//' | sort") +
                                     R"sh(
EOS
)"
}
on_machine 2 $TOPO apply -q $L
look 2 > /run/m2-applied
echo '== m1'
guarantees 1
look 2 | diff /run/m2-applied - && echo 'm2 untouched'
echo '== m2'
on_machine 2 $TOPO destroy -q $L
on_machine 1 $TOPO apply -q $L
look 1 > /run/m1-applied
guarantees 2
look 1 | diff /run/m1-applied - && echo 'm1 untouched'
)sh");
  INFO(r.output);
  CHECK(r.status == 0);
  // Each machine's own count of steps; nothing else printed: every rollback exact.
  CHECK(part(r.output, "m1") ==
        "applied once each of its 12 steps had failed\nconverged\ndestroyed at the 10-th try\nm2 untouched\n");
  CHECK(part(r.output, "m2") ==
        "applied once each of its 10 steps had failed\nconverged\ndestroyed at the 8-th try\nm1 untouched\n");
}

TEST_CASE("kernel: a machine's apply killed at any step converges on the next, and destroy leaves it as it was",
          "[kernel][machines]") {
  Run r = in_sandbox({{"L", kWide}}, two_machines() + R"sh(
on_machine 2 $TOPO apply -q $L
for m in 1 2; do
  [ $m = 2 ] && on_machine 1 $TOPO apply -q $L
  on_machine $m $TOPO destroy -q $L
  dump $m > /run/pristine
  for k in $(seq 1 20); do
    on_machine $m env TOPO_TEST_KILL_STEP=$k $TOPO apply $L > /dev/null 2>&1 && { echo "m$m: $((k - 1)) steps"; break; }
    on_machine $m $TOPO apply -q $L 2> /dev/null  # "an earlier run ... was interrupted; taking back ..."
    on_machine $m $TOPO plan --detailed-exitcode $L > /dev/null || echo "m$m step $k: apply did not converge"
    on_machine $m $TOPO destroy -q $L
    dump $m | diff /run/pristine - > /dev/null || echo "m$m step $k: left behind"
  done
done
on_machine 1 $TOPO apply -q $L
on_machine 1 $TOPO test $L | tail -1
)sh");
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(r.output == "m1: 12 steps\nm2: 10 steps\n6 expectations: 6 hold, 0 fail.\n");
}

TEST_CASE("kernel: topologies/two-machines.toml on two machines: each slice holds, and is what its expansion builds",
          "[kernel][machines]") {
  // The expand oracle (kernel_topologies_test) per machine: `topo expand --machine` is a
  // lab of one machine that builds the very state the slice does (tests/netns_state.py).
  std::string state = "python3 " + (source_dir() / "tests/netns_state.py").string() + " --settle";
  Run r = in_sandbox({{"L", read_file(source_dir() / "topologies/two-machines.toml")}}, two_machines() + R"sh(
for m in 1 2; do on_machine $m $TOPO apply -q $L; done
for m in 1 2; do on_machine $m $TOPO test $L | tail -1; done
for m in 1 2; do
  on_machine $m )sh" + state + R"sh( > /run/lab-$m
  on_machine $m $TOPO destroy -q $L
  on_machine $m $TOPO expand --machine m$m $L > $MACHINES_DIR/x-$m.toml
  on_machine $m $TOPO apply -q $MACHINES_DIR/x-$m.toml
  on_machine $m )sh" + state + R"sh( | diff /run/lab-$m - && echo "m$m: the same"
  on_machine $m $TOPO destroy -q $MACHINES_DIR/x-$m.toml
done
)sh");
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(r.output == "7 expectations: 7 hold, 0 fail.\n6 expectations: 6 hold, 0 fail.\nm1: the same\nm2: the same\n");
}

TEST_CASE("kernel: a third machine joins a network: the others' VXLANs stay, their flooding lists change in place",
          "[kernel][machines]") {
  auto wide = [](int machines) {
    std::string toml = "lab = \"wide\"\n[[network]]\nname = \"front\"\nsubnets = [\"10.50.0.0/24\"]\n";
    for (int i = 1; i <= 3; ++i) toml += fmt::format("[[machine]]\nname = \"m{0}\"\naddress = \"192.0.2.{0}\"\n", i);
    for (int i = 1; i <= machines; ++i)
      toml += fmt::format("[[netns]]\nname = \"n{0}\"\nmachine = \"m{0}\"\nnetworks = [\"front\"]\n", i);
    return toml + "[[expect]]\nfrom = \"*\"\nto = \"*\"\nreach = true\n";
  };
  Run r = in_sandbox({{"L", wide(2)}, {"E", wide(3)}}, R"sh(
source )sh" + (source_dir() / "tests/machines.sh").string() +
                                                           R"sh(
trap machines_down EXIT
machines_up 3 > /dev/null
export TOPO L E
for m in 1 2; do on_machine $m $TOPO apply -q $L; done
index() { on_machine 1 ip -o link show dev front_v | cut -d: -f1; }
before=$(index)
echo '== joined'
on_machine 1 $TOPO plan $E | grep '^ *~'
on_machine 1 bash -c "$(cat <<'EOS'
)sh" + fail_each_step("$E", "bridge fdb show dev front_v | grep ^00:00 | sort") +
                                                           R"sh(
EOS
)"
# m2 by its shell plan (bridge fdb append), which topo then finds done
on_machine 2 bash -c '$TOPO plan --format shell $E | tee /dev/stderr | bash' 2>&1 | grep fdb
on_machine 2 $TOPO plan --detailed-exitcode $E | tail -1
on_machine 3 $TOPO apply -q $E
[ "$(index)" = "$before" ] && echo 'the same VXLAN'
on_machine 1 bridge fdb show dev front_v | grep '^00:00' | sort
on_machine 3 $TOPO test $E | tail -1
echo '== left'
on_machine 3 $TOPO destroy -q $E
for m in 1 2; do on_machine $m $TOPO apply -q $L; done
[ "$(index)" = "$before" ] && echo 'the same VXLAN'
on_machine 1 bridge fdb show dev front_v | grep '^00:00'
for m in 1 2; do on_machine $m $TOPO plan --detailed-exitcode $L | tail -1; done
)sh");
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(part(r.output, "joined") ==
        "  ~ vxlan front_v: remotes [192.0.2.2] -> [192.0.2.2, 192.0.2.3]\n"
        "applied once each of its 1 steps had failed\n"
        "bridge fdb append 00:00:00:00:00:00 dev front_v dst 192.0.2.3\n"
        "No changes. The kernel matches the lab.\n"
        "the same VXLAN\n"
        "00:00:00:00:00:00 dst 192.0.2.2 self permanent\n"
        "00:00:00:00:00:00 dst 192.0.2.3 self permanent\n"
        "2 expectations: 2 hold, 0 fail.\n");
  CHECK(part(r.output, "left") ==
        "the same VXLAN\n00:00:00:00:00:00 dst 192.0.2.2 self permanent\n"
        "No changes. The kernel matches the lab.\nNo changes. The kernel matches the lab.\n");
}
