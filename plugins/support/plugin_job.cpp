#include "plugins/support/plugin_job.h"

#include <cmath>
#include <limits>
#include <new>

namespace attnscope::plugin_support {

std::optional<double> ResultData::number(int layer, int head, const std::string& metric) const {
  for (const HeadValue& v : values)
    if (v.layer == layer && v.head == head && v.metric == metric && !v.text && !std::isnan(v.value)) return v.value;
  return std::nullopt;
}

ModelHandle::~ModelHandle() {
  if (model_ && owned_) job_->host().release_model(job_->job(), model_);
}

PromptHandle::~PromptHandle() {
  if (prompt_) job_->host().release_prompt(job_->job(), prompt_);
}

void PluginJob::check(attnscope_status status) const {
  if (status == ATTNSCOPE_OK) return;
  const char* message = host_->last_error(job_);
  throw JobFailure(status, message && *message ? message : "a service failed without a message");
}

void PluginJob::require_service(bool provided, const char* service) const {
  if (!provided)
    throw JobFailure(ATTNSCOPE_ERROR, std::string("this AttnScope is older than the plugin: its plugin host has no '") +
                                          service + "' service; update AttnScope");
}

int64_t PluginJob::param_int(const char* name) const {
  int64_t v = 0;
  check(host_->param_int(job_, name, &v));
  return v;
}

double PluginJob::param_float(const char* name) const {
  double v = 0;
  check(host_->param_float(job_, name, &v));
  return v;
}

bool PluginJob::param_bool(const char* name) const {
  int32_t v = 0;
  check(host_->param_bool(job_, name, &v));
  return v != 0;
}

std::string PluginJob::param_string(const char* name) const {
  const char* v = nullptr;
  check(host_->param_string(job_, name, &v));
  return v ? v : "";
}

std::vector<int64_t> PluginJob::param_ints(const char* name) const {
  uint32_t n = 0;
  check(host_->param_list_size(job_, name, &n));
  std::vector<int64_t> out(n);
  for (uint32_t i = 0; i < n; ++i) check(host_->param_list_int(job_, name, i, &out[i]));
  return out;
}

std::vector<double> PluginJob::param_floats(const char* name) const {
  uint32_t n = 0;
  check(host_->param_list_size(job_, name, &n));
  std::vector<double> out(n);
  for (uint32_t i = 0; i < n; ++i) check(host_->param_list_float(job_, name, i, &out[i]));
  return out;
}

std::vector<std::string> PluginJob::param_strings(const char* name) const {
  uint32_t n = 0;
  check(host_->param_list_size(job_, name, &n));
  std::vector<std::string> out;
  for (uint32_t i = 0; i < n; ++i) {
    const char* v = nullptr;
    check(host_->param_list_string(job_, name, i, &v));
    out.emplace_back(v ? v : "");
  }
  return out;
}

void PluginJob::progress(double fraction, const std::string& message) const {
  host_->report_progress(job_, fraction, message.c_str());
}

bool PluginJob::cancelled() const { return host_->is_cancelled(job_) != 0; }

void PluginJob::stop_if_cancelled() const {
  if (cancelled()) throw JobFailure(ATTNSCOPE_CANCELLED, "cancelled by the user");
}

void PluginJob::log(int32_t level, const std::string& message) const { host_->log_message(job_, level, message.c_str()); }

std::vector<std::string> PluginJob::model_paths() const {
  std::vector<std::string> out;
  for (uint32_t i = 0, n = host_->model_count(job_); i < n; ++i) out.emplace_back(host_->model_path(job_, i));
  return out;
}

std::string PluginJob::output_folder() const { return host_->output_folder(job_); }
std::string PluginJob::data_folder() const { return host_->data_folder(job_); }

ModelHandle PluginJob::load_model(const std::string& path) const {
  attnscope_model* model = nullptr;
  check(host_->load_model(job_, path.c_str(), &model));
  return ModelHandle(*this, model);
}

attnscope_model_info PluginJob::model_info(const ModelHandle& model) const {
  attnscope_model_info info{};
  check(host_->model_info(job_, model.get(), &info));
  return info;
}

PromptHandle PluginJob::task_prompt(const ModelHandle& model, const attnscope_task_request& request) const {
  attnscope_prompt* prompt = nullptr;
  check(host_->task_prompt(job_, model.get(), &request, &prompt));
  return PromptHandle(*this, prompt);
}

PromptHandle PluginJob::text_prompt(const ModelHandle& model, const std::string& text, bool add_special) const {
  attnscope_prompt* prompt = nullptr;
  check(host_->text_prompt(job_, model.get(), text.c_str(), add_special ? 1 : 0, &prompt));
  return PromptHandle(*this, prompt);
}

PromptInfo PluginJob::prompt_info(const PromptHandle& prompt) const {
  attnscope_prompt_info info{};
  check(host_->prompt_info(job_, prompt.get(), &info));
  return {info.tokens, info.text ? info.text : "", info.description ? info.description : "",
          info.expected_answer ? info.expected_answer : "",
          nlohmann::json::parse(info.parameters_json ? info.parameters_json : "{}")};
}

ResultData PluginJob::take(attnscope_result* result) const {
  attnscope_result_view view{};
  const attnscope_status status = host_->result_view(job_, result, &view);
  if (status != ATTNSCOPE_OK) {
    host_->release_result(job_, result);
    check(status);
  }
  ResultData out;
  try {
    out.values.reserve(size_t(view.value_count));
    for (uint64_t i = 0; i < view.value_count; ++i) {
      const attnscope_head_value& v = view.values[i];
      HeadValue h{v.layer, v.head, v.metric ? v.metric : "", v.value, std::nullopt};
      if (v.text) h.text = v.text, h.value = std::numeric_limits<double>::quiet_NaN();
      out.values.push_back(std::move(h));
    }
    out.summary = nlohmann::json::parse(view.summary_json ? view.summary_json : "{}");
  } catch (...) {
    host_->release_result(job_, result);
    throw;
  }
  host_->release_result(job_, result);
  return out;
}

ResultData PluginJob::capture(const ModelHandle& model, const PromptHandle& prompt,
                              const attnscope_capture_request& request) const {
  attnscope_result* result = nullptr;
  check(host_->capture(job_, model.get(), prompt.get(), &request, &result));
  return take(result);
}

ResultData PluginJob::profile(const ModelHandle& model, const attnscope_profile_request& request) const {
  attnscope_result* result = nullptr;
  check(host_->profile(job_, model.get(), &request, &result));
  return take(result);
}

ResultData PluginJob::evaluate_masks(const ModelHandle& model, const PromptHandle& prompt,
                                     const attnscope_mask_request& request) const {
  attnscope_result* result = nullptr;
  check(host_->evaluate_masks(job_, model.get(), prompt.get(), &request, &result));
  return take(result);
}

attnscope_run* PluginJob::begin_run(const ModelHandle& model) const {
  attnscope_run* run = nullptr;
  check(host_->begin_run(job_, model.get(), &run));
  return run;
}

int64_t PluginJob::run_id(attnscope_run* run) const {
  const int64_t id = host_->run_id(job_, run);
  if (id < 0) check(ATTNSCOPE_INVALID_ARGUMENT);
  return id;
}

bool PluginJob::unit_done(attnscope_run* run, int64_t ordinal) const {
  int32_t done = 0;
  check(host_->unit_done(job_, run, ordinal, &done));
  return done != 0;
}

std::string folder_name(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  const size_t slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

std::vector<attnscope_head_value> head_value_views(const std::vector<HeadValue>& values) {
  std::vector<attnscope_head_value> out;
  out.reserve(values.size());
  for (const HeadValue& v : values)
    out.push_back({v.layer, v.head, v.metric.c_str(), v.text ? std::numeric_limits<double>::quiet_NaN() : v.value,
                   v.text ? v.text->c_str() : nullptr});
  return out;
}

void PluginJob::commit_unit(attnscope_run* run, const Unit& unit) const {
  const std::vector<attnscope_head_value> views = head_value_views(unit.values);
  const std::string parameters = unit.parameters.dump();
  const std::string outcome = unit.outcome.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  attnscope_unit u{};
  u.ordinal = unit.ordinal;
  u.task = unit.task.c_str();
  u.parameters_json = parameters.c_str();
  u.outcome_json = outcome.c_str();
  u.prompt = unit.prompt;
  u.values = views.data();
  u.value_count = views.size();
  check(host_->commit_unit(job_, run, &u));
}

void PluginJob::record_run_values(attnscope_run* run, const std::vector<HeadValue>& values) const {
  const std::vector<attnscope_head_value> views = head_value_views(values);
  check(host_->record_run_values(job_, run, views.data(), views.size()));
}

ResultData PluginJob::read_values(int64_t run_id, int64_t ordinal) const {
  attnscope_result* result = nullptr;
  check(host_->read_values(job_, run_id, ordinal, &result));
  return take(result);
}

void PluginJob::write_file(const std::string& name, const std::string& data) const {
  check(host_->write_file(job_, name.c_str(), data.data(), data.size()));
}

void PluginJob::write_png(const std::string& name, uint32_t width, uint32_t height, uint32_t channels,
                          const std::vector<uint8_t>& pixels) const {
  require_service(ATTNSCOPE_HAS_SERVICE(host_, write_png), "write_png");
  check(host_->write_png(job_, name.c_str(), width, height, channels, pixels.data()));
}

ResultData PluginJob::fit_span_rules(const std::vector<attnscope_span_sample>& samples) const {
  require_service(ATTNSCOPE_HAS_SERVICE(host_, fit_span_rules), "fit_span_rules");
  attnscope_result* result = nullptr;
  check(host_->fit_span_rules(job_, samples.data(), samples.size(), &result));
  return take(result);
}

void PluginJob::export_profile(const ModelHandle& model, const std::string& format, const std::string& name,
                               const std::vector<HeadValue>& values, const std::vector<std::string>& options) const {
  require_service(ATTNSCOPE_HAS_SERVICE(host_, export_profile), "export_profile");
  const std::vector<attnscope_head_value> views = head_value_views(values);
  std::vector<const char*> option_texts;
  for (const std::string& o : options) option_texts.push_back(o.c_str());
  attnscope_export_request request{};
  request.format = format.c_str();
  request.name = name.c_str();
  request.values = views.data();
  request.value_count = views.size();
  request.options = option_texts.data();
  request.option_count = uint32_t(option_texts.size());
  check(host_->export_profile(job_, model.get(), &request));
}

attnscope_status run_job_body(const attnscope_host_services* host, attnscope_job* job, const char* plugin,
                              const std::function<void(PluginJob&)>& body) {
  attnscope_status status = ATTNSCOPE_ERROR;
  try {
    PluginJob j(host, job);
    body(j);
    return ATTNSCOPE_OK;
  } catch (const JobFailure& e) {
    status = e.status() == ATTNSCOPE_OK ? ATTNSCOPE_ERROR : e.status();
    host->set_error(job, e.what());
  } catch (const std::bad_alloc&) {
    status = ATTNSCOPE_OUT_OF_MEMORY;
    host->set_error(job, "out of memory");  // nothing allocated here: there may be no memory for a longer message
  } catch (const std::exception& e) {
    host->set_error(job, (std::string(plugin) + ": " + e.what()).c_str());
  } catch (...) {
    host->set_error(job, (std::string(plugin) + ": an unknown exception").c_str());
  }
  return status;
}

}  // namespace attnscope::plugin_support
