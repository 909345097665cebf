#include "plugins/host/job_runner.h"

#include <random>

#include "analysis/store/run_records.h"
#include "plugins/host/host_services.h"
#include "plugins/host/job_context.h"

namespace attnscope::plugins {
namespace {

std::string new_batch_key() {
  std::random_device random;
  char text[33];
  for (int i = 0; i < 4; ++i) std::snprintf(text + 8 * i, 9, "%08x", unsigned(random()));
  return text;
}

std::string status_text(attnscope_status status) {
  switch (status) {
    case ATTNSCOPE_OK: return "ok";
    case ATTNSCOPE_ERROR: return "error";
    case ATTNSCOPE_CANCELLED: return "cancelled";
    case ATTNSCOPE_INVALID_ARGUMENT: return "invalid argument";
    case ATTNSCOPE_NOT_FOUND: return "not found";
    case ATTNSCOPE_OUT_OF_MEMORY: return "out of memory";
  }
  return "unknown";
}

// Checks the run to resume against this job and collects its batch's runs by model.
void prepare_resume(attnscope_job& job, const PluginCatalog::JobRef& ref, store::RunId resume) {
  const std::string where = "--resume " + store::to_string(resume);
  const store::Database& db = job_store(job);
  const store::RunRecord record = store::get_run(db, resume);
  const nlohmann::json& p = record.parameters;
  if (record.kind != "plugin" || record.task != job.qualified_name)
    throw Error(where, "run " + store::to_string(resume) + " is a '" + record.kind + "' run of '" + record.task +
                           "', not of plugin job " + job.qualified_name);
  std::vector<std::string> differences =
      parameter_differences(p.value("params", nlohmann::json::object()), job.run_parameters["params"]);
  if (p.value("models", nlohmann::json::array()) != job.run_parameters["models"])
    differences.push_back("models: " + p.value("models", nlohmann::json::array()).dump() + " (before) vs " +
                          job.run_parameters["models"].dump() + " (now)");
  if (!differences.empty()) {
    std::string list;
    for (const std::string& d : differences) list += (list.empty() ? "" : "; ") + d;
    throw Error(where, "the batch ran with other parameters, so it cannot be resumed with these: " + list);
  }
  if (p.value("plugin_version", "") != ref.plugin->info().version)
    log(job, LogLevel::Warning, "the batch ran with " + ref.plugin->info().name + " " + p.value("plugin_version", "?") +
                                    "; resuming with version " + ref.plugin->info().version);
  const std::string batch = p.value("batch", "");
  if (batch.empty()) throw Error(where, "run " + store::to_string(resume) + " records no batch");
  job.run_parameters["batch"] = batch;
  size_t complete = 0;
  for (const store::RunRecord& r : store::list_runs(db)) {  // newest first: the newest run of a model wins
    if (r.kind != "plugin" || r.parameters.value("batch", "") != batch) continue;
    if (r.status == store::RunStatus::Running)
      throw Error(where, "run " + store::to_string(r.id) + " of the batch is still running (pid " +
                             std::to_string(r.owner.pid) + " on " + r.owner.host + ")");
    if (job.resume_runs.emplace(int64_t(r.model.id), r.id).second && r.status == store::RunStatus::Complete) ++complete;
  }
  if (complete == job.model_paths.size())
    throw Error(where, "every run of the batch is complete: there is nothing to resume");
}

void finish_runs(attnscope_job& job, store::RunStatus status, const std::string& error, JobOutcome& outcome) {
  for (const auto& run : job.runs) {
    outcome.runs.push_back(run->id);
    if (run->complete) continue;
    try {
      store::finish_run(*job.db, run->id, status, error);
    } catch (const Error& e) {
      log(job, LogLevel::Warning, std::string("cannot end run ") + store::to_string(run->id) + ": " + e.what());
    }
  }
}

}  // namespace

std::string_view log_level_name(LogLevel level) {
  switch (level) {
    case LogLevel::Debug: return "debug";
    case LogLevel::Info: return "info";
    case LogLevel::Warning: return "warning";
    case LogLevel::Error: return "error";
  }
  return "?";
}

JobOutcome run_job(const PluginCatalog::JobRef& ref, const JobParameters& parameters, const JobEnvironment& environment,
                   const JobCallbacks& callbacks) {
  attnscope_job job;
  job.info = ref.job;
  job.qualified_name = ref.qualified_name();
  job.parameters = &parameters;
  job.environment = &environment;
  job.callbacks = &callbacks;
  if (callbacks.cancel) job.cancel = callbacks.cancel;
  job.data_folder = environment.sample_data.string();
  const std::vector<std::filesystem::path> models =
      environment.models.empty() ? std::vector<std::filesystem::path>{environment.sample_data / "sample-llama"}
                                 : environment.models;
  nlohmann::json model_list = nlohmann::json::array();
  for (const std::filesystem::path& m : models) {
    job.model_paths.push_back(std::filesystem::absolute(m).lexically_normal().string());
    model_list.push_back(job.model_paths.back());
  }
  if (environment.output_folder.empty()) throw Error(job.qualified_name, "no output folder was given");
  std::error_code ec;
  std::filesystem::create_directories(environment.output_folder, ec);
  if (ec) throw Error(environment.output_folder.string(), "cannot create the output folder: " + ec.message());
  job.output_folder = std::filesystem::absolute(environment.output_folder).lexically_normal().string();
  job.run_parameters = {{"plugin", ref.plugin->info().name}, {"plugin_version", ref.plugin->info().version},
                        {"job", ref.job->name},              {"params", parameters.to_json()},
                        {"models", model_list},              {"batch", new_batch_key()}};
  if (environment.resume) prepare_resume(job, ref, *environment.resume);

  attnscope_status status = ATTNSCOPE_ERROR;
  try {
    status = ref.job->run(&host_services(), &job, ref.job->job_data);
  } catch (...) {
    job.job_error = "the plugin let an exception escape its job (a plugin must catch its own)";
    status = ATTNSCOPE_ERROR;
  }

  JobOutcome outcome;
  outcome.batch = job.run_parameters["batch"];
  outcome.files = job.files;
  if (status == ATTNSCOPE_OK) {
    outcome.status = store::RunStatus::Complete;
  } else if (status == ATTNSCOPE_CANCELLED || job.cancel->load()) {
    outcome.status = store::RunStatus::Interrupted;
    outcome.error = "stopped by the user";
  } else {
    outcome.status = store::RunStatus::Failed;
    outcome.error = !job.job_error.empty() ? job.job_error
                                           : "the job returned status " + std::to_string(status) + " (" +
                                                 status_text(status) + ") without a message" +
                                                 (job.last_error.empty() ? "" : "; the last failing service said: " + job.last_error);
  }
  finish_runs(job, outcome.status, outcome.error, outcome);
  return outcome;
}

}  // namespace attnscope::plugins
