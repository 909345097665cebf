// The store survives kill -9 at any point of a run: a real `attnscope-cli profile` on the
// sample model is killed with SIGKILL at spread-out moments (while it creates the store,
// loads the model, computes or commits units, writes the aggregates), 20 times over one
// database. After each kill the file passes SQLite's integrity and foreign-key checks, the
// killed run reads back as interrupted with whole units only (every metric of every head,
// ordinals without gaps), and every unit a reader saw committed before the kill is there.
// Hidden from the plain `cli` test ([.]); ctest runs it as cli.kill (8 s here on 2 busy cores).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "analysis/store/database.h"
#include "analysis/store/head_metric_records.h"
#include "analysis/store/run_records.h"
#include "analysis/store/unit_records.h"
#include "kernels/error.h"
#include "tests/unit/io/test_files.h"

namespace store = attnscope::store;
using attnscope::testing::TempDir;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kHeads = 64;    // the sample model: 8 layers x 8 query heads
constexpr int kMetrics = 2;   // sink_mass, entropy: both recorded for every unit
constexpr int64_t kUnits = 11;  // --depths 0:100:10 at one length

pid_t start_profile(const std::filesystem::path& db, const std::filesystem::path& log) {
  std::fflush(stdout);  // else the child writes out the parent's buffered output again
  std::fflush(stderr);
  const pid_t child = fork();
  if (child == 0) {
    if (!freopen(log.c_str(), "a", stdout) || !freopen(log.c_str(), "a", stderr)) _exit(126);
    execl(ATTNSCOPE_CLI_PATH, ATTNSCOPE_CLI_PATH, "profile", "--threads", "1", "--lengths", "256", "--depths",
          "0:100:10", "--metrics", "sink_mass,entropy", "--db", db.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  return child;
}

// The runs a reader sees now, newest first; none while the store is absent or being created.
std::vector<store::RunRecord> runs_now(const std::filesystem::path& db) {
  try {
    return store::list_runs(store::Database::open(db, store::OpenMode::ReadOnly));
  } catch (const attnscope::Error&) {
    return {};
  }
}

std::string single_text(const store::Database& db, const char* sql) {
  auto statement = db.prepare(sql);
  std::string out;
  while (statement.step(sql)) out += (out.empty() ? "" : "; ") + statement.text(0);
  return out;
}

// Every run of the file: ended or interrupted, whole units with ordinals 0..n-1.
void check_consistent(const std::filesystem::path& path) {
  const store::Database db = store::Database::open(path, store::OpenMode::ReadWrite);  // recovers the WAL
  CHECK(single_text(db, "PRAGMA integrity_check") == "ok");
  CHECK(single_text(db, "PRAGMA foreign_key_check").empty());
  CHECK(single_text(db, "SELECT COUNT(*) FROM head_metrics WHERE unit_id IS NOT NULL AND "
                        "unit_id NOT IN (SELECT id FROM units)") == "0");
  for (const store::RunRecord& run : store::list_runs(db)) {
    INFO("run " << int64_t(run.id));
    CHECK(run.status != store::RunStatus::Running);  // its process is dead
    if (run.stored_status == store::RunStatus::Running) CHECK(run.status == store::RunStatus::Interrupted);
    const auto units = store::list_units(db, run.id);
    CHECK(int64_t(units.size()) == run.unit_count);
    if (run.stored_status == store::RunStatus::Complete) CHECK(run.unit_count == kUnits);
    for (size_t i = 0; i < units.size(); ++i) {
      CHECK(units[i].ordinal == int64_t(i));
      CHECK(store::read_head_metrics(db, run.id, units[i].id).size() == size_t(kHeads * kMetrics));
    }
  }
}

}  // namespace

TEST_CASE("profile killed with SIGKILL at any moment leaves a consistent store with every committed unit",
          "[.][kill][cli][profile][store]") {
  TempDir dir;
  const auto db = dir / "s.db";
  const auto log = dir / "out.txt";

  // A run left to finish: how long one takes, and the shape every later run is checked against.
  const auto started = Clock::now();
  const pid_t first = start_profile(db, log);
  REQUIRE(first > 0);
  int status = 0;
  REQUIRE(waitpid(first, &status, 0) == first);
  INFO(attnscope::testing::read_bytes(log));
  REQUIRE((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  const auto duration = Clock::now() - started;
  check_consistent(db);

  // Fresh stores too: a kill while the file and its schema are being created.
  std::mt19937 rng(20240610);
  std::uniform_real_distribution<double> share(0.0, 1.1);
  int before_run = 0, before_units = 0, mid_run = 0;
  for (int kill_index = 0; kill_index < 20; ++kill_index) {
    const auto path = kill_index % 5 == 0 ? dir / ("fresh" + std::to_string(kill_index) + ".db") : db;
    const size_t runs_before = runs_now(path).size();
    const auto delay = std::chrono::duration_cast<Clock::duration>(duration * share(rng));
    INFO("kill " << kill_index << " after " << std::chrono::duration<double>(delay).count() << " s in " << path);
    const auto begin = Clock::now();
    const pid_t child = start_profile(path, log);
    REQUIRE(child > 0);
    int64_t seen = 0;  // units a reader saw committed: a lower bound of what must survive
    while (Clock::now() - begin < delay) {
      std::this_thread::sleep_for(std::chrono::milliseconds(15));
      const auto runs = runs_now(path);
      if (runs.size() > runs_before) seen = runs.front().unit_count;
    }
    REQUIRE(kill(child, SIGKILL) == 0);
    REQUIRE(waitpid(child, &status, 0) == child);
    if (!std::filesystem::exists(path)) continue;  // killed before it created the file
    check_consistent(path);
    const auto runs = runs_now(path);
    if (runs.size() > runs_before) {
      CHECK(runs.front().unit_count >= seen);
      if (runs.front().stored_status == store::RunStatus::Running && runs.front().unit_count > 0) ++mid_run;
      if (runs.front().unit_count == 0) ++before_units;
    } else {
      CHECK(seen == 0);
      ++before_run;
    }
  }
  // The kills landed in every phase (the delays spread over a whole run's time).
  INFO("kills before the run was stored: " << before_run << ", before its first unit: " << before_units
                                          << ", between units: " << mid_run);
  CHECK(mid_run >= 3);
  CHECK(before_run + before_units >= 1);

  // The store still takes a whole run after all that.
  const pid_t last = start_profile(db, log);
  REQUIRE(waitpid(last, &status, 0) == last);
  REQUIRE((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  check_consistent(db);
  CHECK(store::list_runs(store::Database::open(db, store::OpenMode::ReadOnly)).front().status ==
        store::RunStatus::Complete);
}
