#pragma once
// The bundled plugins' C++ view of attnscope/plugin.h: a job's services as methods that
// throw JobFailure (with the service's message) instead of returning statuses, handles
// released by destructors, results copied out of the host's views, and run_job_body,
// which turns whatever the body throws into the job's status and message so that no
// exception reaches the host. Plugin-side code: it uses the public header alone.
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "attnscope/plugin.h"

namespace attnscope::plugin_support {

// A job's failure: the status it ends with and its message.
class JobFailure : public std::runtime_error {
 public:
  JobFailure(attnscope_status status, const std::string& message) : std::runtime_error(message), status_(status) {}
  attnscope_status status() const { return status_; }

 private:
  attnscope_status status_;
};

struct HeadValue {
  int layer = 0;
  int head = 0;
  std::string metric;
  double value = 0;                 // NaN for a text value
  std::optional<std::string> text;  // "pattern" and other text values
};

struct ResultData {
  std::vector<HeadValue> values;
  nlohmann::json summary;
  // The value of `metric` of (layer, head), if the result has a number for it.
  std::optional<double> number(int layer, int head, const std::string& metric) const;
};

class PluginJob;

// A handle released when it goes out of scope (the host would release it at the job's
// end), unless it is borrowed (`owned` false: someone else releases it).
class ModelHandle {
 public:
  ModelHandle(const PluginJob& job, attnscope_model* model, bool owned = true) : job_(&job), model_(model), owned_(owned) {}
  ModelHandle(ModelHandle&& other) noexcept : job_(other.job_), model_(other.model_), owned_(other.owned_) {
    other.model_ = nullptr;
  }
  ModelHandle& operator=(ModelHandle&&) = delete;
  ModelHandle(const ModelHandle&) = delete;
  ~ModelHandle();
  attnscope_model* get() const { return model_; }

 private:
  const PluginJob* job_;
  attnscope_model* model_;
  bool owned_;
};

class PromptHandle {
 public:
  PromptHandle(const PluginJob& job, attnscope_prompt* prompt) : job_(&job), prompt_(prompt) {}
  PromptHandle(PromptHandle&& other) noexcept : job_(other.job_), prompt_(other.prompt_) { other.prompt_ = nullptr; }
  PromptHandle& operator=(PromptHandle&&) = delete;
  PromptHandle(const PromptHandle&) = delete;
  ~PromptHandle();
  attnscope_prompt* get() const { return prompt_; }

 private:
  const PluginJob* job_;
  attnscope_prompt* prompt_;
};

struct PromptInfo {
  int64_t tokens = 0;
  std::string text;
  std::string description;
  std::string expected_answer;
  nlohmann::json parameters;
};

// One unit for commit_unit.
struct Unit {
  int64_t ordinal = 0;
  std::string task;
  nlohmann::json parameters = nlohmann::json::object();
  nlohmann::json outcome = nlohmann::json::object();
  attnscope_prompt* prompt = nullptr;  // stored with the unit when set
  std::vector<HeadValue> values;
};

class PluginJob {
 public:
  PluginJob(const attnscope_host_services* host, attnscope_job* job) : host_(host), job_(job) {}

  const attnscope_host_services& host() const { return *host_; }
  attnscope_job* job() const { return job_; }
  // JobFailure with the service's last_error unless `status` is ATTNSCOPE_OK.
  void check(attnscope_status status) const;
  // JobFailure(ATTNSCOPE_ERROR) naming the service when the host's table predates it.
  void require_service(bool provided, const char* service) const;

  int64_t param_int(const char* name) const;
  double param_float(const char* name) const;
  bool param_bool(const char* name) const;
  std::string param_string(const char* name) const;
  std::vector<int64_t> param_ints(const char* name) const;
  std::vector<double> param_floats(const char* name) const;
  std::vector<std::string> param_strings(const char* name) const;

  void progress(double fraction, const std::string& message) const;
  bool cancelled() const;
  // JobFailure(ATTNSCOPE_CANCELLED) when the user asked the job to stop.
  void stop_if_cancelled() const;
  void log(int32_t level, const std::string& message) const;

  std::vector<std::string> model_paths() const;
  std::string output_folder() const;
  std::string data_folder() const;

  ModelHandle load_model(const std::string& path) const;
  attnscope_model_info model_info(const ModelHandle& model) const;
  PromptHandle task_prompt(const ModelHandle& model, const attnscope_task_request& request) const;
  PromptHandle text_prompt(const ModelHandle& model, const std::string& text, bool add_special) const;
  PromptInfo prompt_info(const PromptHandle& prompt) const;

  ResultData capture(const ModelHandle& model, const PromptHandle& prompt, const attnscope_capture_request& request) const;
  ResultData profile(const ModelHandle& model, const attnscope_profile_request& request) const;
  ResultData evaluate_masks(const ModelHandle& model, const PromptHandle& prompt,
                            const attnscope_mask_request& request) const;

  attnscope_run* begin_run(const ModelHandle& model) const;
  int64_t run_id(attnscope_run* run) const;
  bool unit_done(attnscope_run* run, int64_t ordinal) const;
  void commit_unit(attnscope_run* run, const Unit& unit) const;
  void record_run_values(attnscope_run* run, const std::vector<HeadValue>& values) const;
  ResultData read_values(int64_t run_id, int64_t ordinal) const;

  void write_file(const std::string& name, const std::string& data) const;
  void write_png(const std::string& name, uint32_t width, uint32_t height, uint32_t channels,
                 const std::vector<uint8_t>& pixels) const;

  // Services added within ABI 1 after its first release (JobFailure on an older host).
  ResultData fit_span_rules(const std::vector<attnscope_span_sample>& samples) const;
  void export_profile(const ModelHandle& model, const std::string& format, const std::string& name,
                      const std::vector<HeadValue>& values, const std::vector<std::string>& options = {}) const;

  // Takes (copies) a result's values and summary and releases it.
  ResultData take(attnscope_result* result) const;

 private:
  const attnscope_host_services* host_;
  attnscope_job* job_;
};

// The last part of a model's path ("sample-llama"), for titles.
std::string folder_name(const std::string& path);

// The C views of `values` (pointing into them: keep `values` alive while the views are used).
std::vector<attnscope_head_value> head_value_views(const std::vector<HeadValue>& values);

// Runs `body` for a job's run function: ATTNSCOPE_OK when it returns; otherwise the
// failure's status with its message given to set_error (std::bad_alloc: out of memory;
// other exceptions: `plugin`: what()).
attnscope_status run_job_body(const attnscope_host_services* host, attnscope_job* job, const char* plugin,
                              const std::function<void(PluginJob&)>& body);

}  // namespace attnscope::plugin_support

// The plugin's one exported function, handing the host `descriptor` (the host checks its
// abi_version against its own, so the argument is not needed here).
#define ATTNSCOPE_PLUGIN_ENTRY_RETURNING(descriptor)                                                          \
  extern "C" ATTNSCOPE_PLUGIN_EXPORT const attnscope_plugin_descriptor* attnscope_plugin_entry(uint32_t) { \
    return &(descriptor);                                                                                  \
  }
