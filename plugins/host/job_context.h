#pragma once
// What the host keeps for one running job, and the handles its services give out: the
// C ABI's opaque structs, defined here for the host alone. Every service goes through
// `guarded`, which turns any exception into a status and the job's last error, so that
// nothing thrown inside the host reaches the plugin's C code.
#include <atomic>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "analysis/masks/head_recorder.h"
#include "analysis/masks/mask_lab.h"
#include "analysis/model/checkpoint.h"
#include "analysis/runtime/transformer.h"
#include "analysis/store/database.h"
#include "analysis/store/head_metric_records.h"
#include "analysis/store/ids.h"
#include "analysis/tasks/task_prompt.h"
#include "analysis/tokenizer/tokenizer.h"
#include "app/host/compute_device.h"
#include "attnscope/plugin.h"
#include "kernels/error.h"
#include "plugins/host/job_runner.h"

struct attnscope_model {
  std::filesystem::path path;
  std::string path_text;
  attnscope::model::Checkpoint checkpoint;
  attnscope::tokenizer::Tokenizer tokenizer;
  std::string architecture;
  std::unique_ptr<attnscope::runtime::Transformer> transformer;  // kept between calls, grown when too short
  std::optional<attnscope::store::ModelId> stored;               // once registered in the store
};

struct attnscope_prompt {
  const attnscope_model* model = nullptr;  // the model it was built for (compared, never followed)
  attnscope::tasks::TaskPrompt prompt;
  std::string parameters_text;             // prompt.parameters as JSON text
  std::unique_ptr<attnscope::masks::MaskLab> lab;  // the dense run's heads, recorded on first use
  std::vector<float> dense_logits;
};

struct attnscope_result {
  std::vector<attnscope_head_value> values;
  std::deque<std::string> strings;  // the values' metric names and texts (a deque never moves them)
  std::string summary;              // JSON object text
};

struct attnscope_run {
  attnscope::store::RunId id{};
  attnscope::store::ModelId model{};
  bool complete = false;        // a resumed batch's run that had finished: read only
  std::set<int64_t> done;       // ordinals of the units it holds
};

struct attnscope_job {
  const attnscope::plugins::JobInfo* info = nullptr;
  std::string qualified_name;  // "plugin.job"
  const attnscope::plugins::JobParameters* parameters = nullptr;
  const attnscope::plugins::JobEnvironment* environment = nullptr;
  const attnscope::plugins::JobCallbacks* callbacks = nullptr;
  std::atomic<bool> no_cancel{false};
  const std::atomic<bool>* cancel = &no_cancel;

  std::vector<std::string> model_paths;
  std::string output_folder;
  std::string data_folder;
  std::string last_error;
  std::string job_error;
  double fraction = 0;
  std::string message;

  std::optional<attnscope::host::ComputeDevice> device;
  std::optional<attnscope::store::Database> db;
  nlohmann::json run_parameters;                 // what every run of the batch records
  std::map<int64_t, attnscope::store::RunId> resume_runs;  // model id -> the batch's earlier run
  std::vector<std::filesystem::path> files;

  std::vector<std::unique_ptr<attnscope_model>> models;
  std::vector<std::unique_ptr<attnscope_prompt>> prompts;
  std::vector<std::unique_ptr<attnscope_result>> results;
  std::vector<std::unique_ptr<attnscope_run>> runs;
};

namespace attnscope::plugins {

// A service's failure with its status (the message goes to last_error).
class ServiceError : public Error {
 public:
  ServiceError(attnscope_status status, std::string where, std::string problem)
      : Error(std::move(where), std::move(problem)), status_(status) {}
  attnscope_status status() const { return status_; }

 private:
  attnscope_status status_;
};

[[noreturn]] void invalid_argument(const std::string& where, const std::string& problem);
[[noreturn]] void not_found(const std::string& where, const std::string& problem);
// Throws ATTNSCOPE_CANCELLED when the user asked the job to stop.
void check_cancelled(attnscope_job& job, const std::string& where);

// Runs `body`, returning ATTNSCOPE_OK, or the failure's status with its message in the
// job's last_error. A null job is ATTNSCOPE_INVALID_ARGUMENT.
attnscope_status guarded(attnscope_job* job, const std::function<void(attnscope_job&)>& body);

// `handle` when `list` owns it; ATTNSCOPE_INVALID_ARGUMENT naming `what` when it is null,
// released or another job's.
template <typename T>
T& owned(const std::vector<std::unique_ptr<T>>& list, T* handle, const std::string& what) {
  if (!handle) invalid_argument(what, "is NULL");
  for (const auto& p : list)
    if (p.get() == handle) return *handle;
  invalid_argument(what, "is not a live handle of this job (released already, or another job's)");
}

// Releases `handle` if `list` owns it; false when it does not.
template <typename T>
bool release(std::vector<std::unique_ptr<T>>& list, T* handle) {
  for (auto it = list.begin(); it != list.end(); ++it)
    if (it->get() == handle) {
      list.erase(it);
      return true;
    }
  return false;
}

// `file` when given (not NULL or empty), else the bundled sample_data/prompts/`bundled`.
std::filesystem::path prompt_file(const attnscope_job& job, const char* file, const char* bundled);

// A non-NULL UTF-8 argument; ATTNSCOPE_INVALID_ARGUMENT naming `what` otherwise.
std::string required_text(const char* text, const std::string& what);

// "a/b.csv" inside the job's output folder; ATTNSCOPE_INVALID_ARGUMENT for an absolute
// path, ".", ".." or an empty part.
std::filesystem::path output_file(const attnscope_job& job, const std::string& name);
// Written to a temporary file beside it, synced and renamed: the file is whole or absent.
void write_whole_file(const std::filesystem::path& path, const void* data, uint64_t size);
// `path` among the job's files (once), for the outcome's list.
void add_output_file(attnscope_job& job, const std::filesystem::path& path);

// The job's progress with `detail` (a long service's inner step), to the callbacks.
void report(attnscope_job& job, const std::string& detail);
void log(attnscope_job& job, LogLevel level, const std::string& message);

// The job's device, opened on first use; the store, opened on first use (ATTNSCOPE_ERROR
// when the job has none).
host::ComputeDevice& job_device(attnscope_job& job);
const store::Database& job_store(attnscope_job& job);

// A result of `values` (names and texts copied) and `summary`, owned by the job.
attnscope_result* new_result(attnscope_job& job, const std::vector<store::HeadMetric>& values, const nlohmann::json& summary);

// Each group of services fills its part of the table.
void add_basic_services(attnscope_host_services& table);
void add_model_services(attnscope_host_services& table);
void add_compute_services(attnscope_host_services& table);
void add_store_services(attnscope_host_services& table);
void add_export_services(attnscope_host_services& table);

}  // namespace attnscope::plugins
