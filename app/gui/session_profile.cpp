// The session's generated task prompts and the profiling job, on the worker.
#include <QElapsedTimer>
#include <algorithm>
#include <new>

#include "analysis/profile/profile_memory.h"
#include "analysis/profile/profile_prompts.h"
#include "analysis/store/database.h"
#include "app/gui/session.h"
#include "app/gui/session_engine.h"
#include "kernels/error.h"

namespace attnscope::gui {

void Session::makeTaskPrompt(const TaskChoice& choice, const QString& prompts_dir) {
  post([this, choice, prompts_dir] { taskPromptOnWorker(choice, prompts_dir); });
}

void Session::taskPromptOnWorker(const TaskChoice& choice, const QString& prompts_dir) {
  try {
    if (!engine_->checkpoint) throw Error("task", "no model is open");
    std::shared_ptr<const tasks::TaskPrompt> prompt = std::make_shared<tasks::TaskPrompt>(
        make_task_prompt(choice, prompts_dir.toStdString(), *engine_->tokenizer, engine_->checkpoint->spec()));
    toUi([this, prompt] { emit taskPromptReady(prompt); });
  } catch (const std::exception& e) {
    toUi([this, message = message_of(e)] { emit taskPromptFailed(message); });
  }
}

void Session::runProfile(profile::ProfileJobSpec spec, const QString& database) {
  if (running_ || profiling_) return;
  profiling_ = true;
  cancel_profile_ = false;
  emit profileStarted();
  post([this, spec = std::move(spec), database] { profileOnWorker(spec, database); });
}

void Session::cancelProfile() { cancel_profile_ = true; }

void Session::profileOnWorker(const profile::ProfileJobSpec& job, const QString& database) {
  const auto fail = [this](const QString& message) {
    toUi([this, message] {
      profiling_ = false;
      emit profileFailed(message);
    });
  };
  try {
    if (!engine_->checkpoint) throw Error("profile", "no model is open");
    const model::ModelSpec& spec = engine_->checkpoint->spec();
    const ComputeDevice& device = *engine_->device;
    profile::ProfileJobSpec s = job;
    s.device = std::string(device.target_name());
    s.prefill_chunk = default_prefill_chunk(device.target);
    try {
      profile::check_spec(s, spec);  // before the store is touched
    } catch (const Error& e) {
      // The engine names the CLI's options; the profile form's fields have their names.
      const std::string& where = e.where();
      throw Error(where.rfind("--", 0) == 0 ? where.substr(2) : where, e.problem());
    }
    const model::MemoryEstimateOptions memory = profile::job_memory_options(s, spec, device.target);
    // The job builds its own model: the session's give their memory back (windows and the
    // mask lab rebuild theirs when asked again).
    engine_->mask_lab.reset();
    engine_->mask_transformer.reset();
    engine_->transformer.reset();
    check_run_fits(device, spec, memory);

    const store::Database db = store::Database::open(database.toStdString());
    profile::ProfileCallbacks callbacks;
    callbacks.cancel = &cancel_profile_;
    callbacks.on_progress = [this](const profile::ProfileProgress& p) {
      toUi([this, p] { emit profileProgress(p); });
    };
    QElapsedTimer clock;
    clock.start();
    auto outcome = std::make_shared<ProfileOutcome>();
    outcome->result = profile::run_profile_job(*engine_->checkpoint, *engine_->tokenizer, *device.backend, &db, s,
                                               callbacks);
    outcome->database = database;
    outcome->seconds = double(clock.nsecsElapsed()) * 1e-9;
    std::shared_ptr<const ProfileOutcome> done = outcome;
    toUi([this, done] {
      profiling_ = false;
      emit profileFinished(done);
    });
  } catch (const std::bad_alloc&) {
    fail(tr("profile: out of memory"));
  } catch (const std::exception& e) {
    fail(message_of(e));
  }
}

}  // namespace attnscope::gui
