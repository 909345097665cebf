// The profiling job from the app on the sample model: the run in the store with its
// metrics and pooled maps, reopened without recomputing, the prompt panel's generated
// prompt equal to the job's, cancellation, and tasks generated on the worker.
#include <catch2/catch.hpp>

#include <QSignalSpy>
#include <QTemporaryDir>
#include <numeric>

#include "analysis/store/database.h"
#include "app/gui/session.h"
#include "app/gui/stored_run.h"

using namespace attnscope;
using namespace attnscope::gui;

namespace {

const QString kSample = QString(ATTNSCOPE_SAMPLE_DATA_DIR) + "/sample-llama";
const std::filesystem::path kPrompts = std::filesystem::path(ATTNSCOPE_SAMPLE_DATA_DIR) / "prompts";
constexpr int kWaitMs = 300000;

struct ProfileSession {
  QTemporaryDir dir;
  Session session{DeviceChoice::Cpu};
  ProfileSession() {
    QSignalSpy opened(&session, &Session::modelOpened);
    session.openModel(kSample);
    REQUIRE(opened.wait(kWaitMs));
  }
  QString database() const { return dir.filePath("store.db"); }
};

// A small job: one needle prompt of 192 tokens, quick metrics, pooled maps kept.
profile::ProfileJobSpec small_job() {
  profile::ProfileJobSpec s = task_spec(TaskChoice{profile::ProfileTask::Needle, 192, 0.5, 0, 0, 4}, kPrompts);
  s.metrics = {"sink_mass", "local_mass", "entropy", "pattern"};
  s.pooled_maps = true;
  return s;
}

}  // namespace

TEST_CASE("a profile job from the app stores a complete run with maps that reopen without recomputing",
          "[gui][session][profile]") {
  ProfileSession s;
  QSignalSpy finished(&s.session, &Session::profileFinished);
  QSignalSpy failed(&s.session, &Session::profileFailed);
  QSignalSpy progress(&s.session, &Session::profileProgress);
  s.session.runProfile(small_job(), s.database());
  REQUIRE(s.session.profiling());
  while (finished.isEmpty() && failed.isEmpty()) REQUIRE(finished.wait(kWaitMs));
  if (!failed.isEmpty()) FAIL(failed.front().front().toString().toStdString());
  REQUIRE_FALSE(s.session.profiling());
  REQUIRE_FALSE(progress.isEmpty());
  const auto outcome = finished.front().front().value<std::shared_ptr<const ProfileOutcome>>();
  REQUIRE(outcome->result.status == store::RunStatus::Complete);
  REQUIRE(outcome->result.run);

  const StoredRun run = load_stored_run(s.database().toStdString(), *outcome->result.run);
  REQUIRE(run.record.backend == "cpu");
  REQUIRE(run.units.size() == 1);
  REQUIRE_FALSE(run.values.metrics.empty());
  const auto maps = load_unit_maps(run.database, run.record.id, run.units[0].id, 8, 8);
  // The prompt and the answer's tokens fed back while decoding (at most 50, Retrieval_Head's limit).
  REQUIRE(maps->tokens >= run.units[0].prompt_tokens);
  REQUIRE(maps->tokens <= run.units[0].prompt_tokens + 50);
  // Every query row's probabilities sum to 1: a block row sums to its rows (float storage: 1e-3).
  const views::HeadMap map = stored_head_map(maps, 7, 2);
  for (size_t i = 0; i < map.pooled->sums.size(); ++i) {
    const double sum = std::accumulate(map.pooled->sums[i].begin(), map.pooled->sums[i].end(), 0.0);
    REQUIRE(std::abs(sum - double(map.pooled->rows_in_block[i])) <= 1e-3 * double(map.pooled->rows_in_block[i]));
  }
  REQUIRE(map.exact_rows == 0);
}

TEST_CASE("the prompt panel's needle prompt is the one the profile job stores", "[gui][session][profile]") {
  ProfileSession s;
  const TaskChoice choice{profile::ProfileTask::Needle, 192, 0.5, 0, 0, 4};
  QSignalSpy made(&s.session, &Session::taskPromptReady);
  s.session.makeTaskPrompt(choice, QString::fromStdString(kPrompts.string()));
  REQUIRE(made.wait(kWaitMs));
  const auto prompt = made.front().front().value<std::shared_ptr<const tasks::TaskPrompt>>();

  QSignalSpy finished(&s.session, &Session::profileFinished);
  s.session.runProfile(small_job(), s.database());
  REQUIRE(finished.wait(kWaitMs));
  const auto outcome = finished.front().front().value<std::shared_ptr<const ProfileOutcome>>();
  const store::Database db = store::Database::open(s.database().toStdString(), store::OpenMode::ReadOnly);
  const auto units = store::list_units(db, *outcome->result.run);
  REQUIRE(units.size() == 1);
  REQUIRE(store::unit_prompt(db, units[0].id) == prompt->text);
  REQUIRE(units[0].prompt_tokens == int64_t(prompt->ids.size()));
}

TEST_CASE("a cancelled profile job keeps its completed units and is marked interrupted", "[gui][session][profile]") {
  ProfileSession s;
  profile::ProfileJobSpec job = small_job();
  job.depths = {0.0, 0.5, 1.0};
  QSignalSpy finished(&s.session, &Session::profileFinished);
  QSignalSpy progress(&s.session, &Session::profileProgress);
  s.session.runProfile(job, s.database());
  REQUIRE(progress.wait(kWaitMs));  // under way
  s.session.cancelProfile();
  REQUIRE(finished.wait(kWaitMs));
  const auto outcome = finished.front().front().value<std::shared_ptr<const ProfileOutcome>>();
  REQUIRE(outcome->result.status == store::RunStatus::Interrupted);
  REQUIRE(outcome->result.units_done < outcome->result.units_total);
}

TEST_CASE("a profile job the model cannot run fails with the engine's message", "[gui][session][profile]") {
  ProfileSession s;
  profile::ProfileJobSpec job = small_job();
  job.lengths = {4096};
  QSignalSpy failed(&s.session, &Session::profileFailed);
  s.session.runProfile(job, s.database());
  REQUIRE(failed.wait(kWaitMs));
  REQUIRE(failed.front().front().toString().startsWith("lengths: 4096"));
  REQUIRE_FALSE(s.session.profiling());
}

TEST_CASE("a task the model cannot take comes back as a message", "[gui][session][profile]") {
  ProfileSession s;
  QSignalSpy failed(&s.session, &Session::taskPromptFailed);
  s.session.makeTaskPrompt(TaskChoice{profile::ProfileTask::Passkey, 9000, 0.5, 0, 0, 4},
                           QString::fromStdString(kPrompts.string()));
  REQUIRE(failed.wait(kWaitMs));
  REQUIRE(failed.front().front().toString().startsWith("length"));
}
