// bench/run.sh, run small: every shape gives a row of figures, and the CSV a line per run.
// Not a timing test: it checks that the benchmark still runs, not how fast topo is (and it
// does not wait for idle CPUs between figures, as the real runs do: other tests run beside).
#include <catch2/catch.hpp>

#include "tests/files.h"

using namespace topo::test;

TEST_CASE("kernel: bench/run.sh measures every shape at a small size", "[kernel][bench]") {
  TempDir dir;
  std::string csv = (dir.path() / "runs.csv").string();
  // Masks the figures (digits) so that the text is the table's shape: which columns have
  // a figure, which a dash (the floor and topo test exist for the star only).
  Run r = run_shell("TOPO_BIN=" + std::string(TOPO_BINARY) + " BENCH_NO_SETTLE=1 FLOOR_DIR=/nonexistent " +
                    (source_dir() / "bench/run.sh").string() + " -s star,chain,tree,routed -r 2 -o " + csv +
                    " 3 2>/dev/null | sed -n '2,5p' | sed -E 's/[0-9]+(\\.[0-9]+)?/N/g; s/ +/ /g'; "
                    "tail -n +2 " +
                    csv + " | cut -d, -f1-3 | tr '\\n' ' '");
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(r.output ==
        "star N | N N N - - | N N | N N N - - | N\n"
        "chain N | N N N - - | N - | N N N - - | N\n"
        "tree N | N N N - - | N - | N N N - - | N\n"
        "routed N | N N N - - | N N | N N N - - | N\n"
        "star,3,1 star,3,2 chain,3,1 chain,3,2 tree,3,1 tree,3,2 routed,3,1 routed,3,2 ");
}
