// The services every job has: errors, progress, cancellation, log, its parameters, its
// folders and output files. Also the boundary helpers of job_context.h.
#include <fcntl.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <new>

#include "analysis/store/database.h"
#include "plugins/host/job_context.h"
#include "plugins/host/png_writer.h"

namespace attnscope::plugins {

void invalid_argument(const std::string& where, const std::string& problem) {
  throw ServiceError(ATTNSCOPE_INVALID_ARGUMENT, where, problem);
}

void not_found(const std::string& where, const std::string& problem) {
  throw ServiceError(ATTNSCOPE_NOT_FOUND, where, problem);
}

void check_cancelled(attnscope_job& job, const std::string& where) {
  if (job.cancel->load()) throw ServiceError(ATTNSCOPE_CANCELLED, where, "cancelled by the user");
}

attnscope_status guarded(attnscope_job* job, const std::function<void(attnscope_job&)>& body) {
  if (!job) return ATTNSCOPE_INVALID_ARGUMENT;
  attnscope_status status = ATTNSCOPE_ERROR;
  std::string message;
  try {
    body(*job);
    return ATTNSCOPE_OK;
  } catch (const ServiceError& e) {
    status = e.status(), message = e.what();
  } catch (const OutOfMemory& e) {
    status = ATTNSCOPE_OUT_OF_MEMORY, message = e.what();
  } catch (const Error& e) {
    message = e.what();
  } catch (const std::bad_alloc&) {
    status = ATTNSCOPE_OUT_OF_MEMORY, message = "out of host memory";
  } catch (const std::exception& e) {
    message = std::string("internal error: ") + e.what();
  } catch (...) {
    message = "internal error: an unknown exception";
  }
  try {
    job->last_error = message;
  } catch (...) {
    job->last_error.clear();  // no memory even for the message: the status says enough
  }
  return status;
}

std::string required_text(const char* text, const std::string& what) {
  if (!text) invalid_argument(what, "is NULL");
  return text;
}

std::filesystem::path prompt_file(const attnscope_job& job, const char* file, const char* bundled) {
  if (file && *file) return file;
  return std::filesystem::path(job.data_folder) / "prompts" / bundled;
}

void report(attnscope_job& job, const std::string& detail) {
  if (job.callbacks && job.callbacks->on_progress) job.callbacks->on_progress({job.fraction, job.message, detail});
}

void log(attnscope_job& job, LogLevel level, const std::string& message) {
  if (job.callbacks && job.callbacks->on_log) job.callbacks->on_log(level, message);
}

host::ComputeDevice& job_device(attnscope_job& job) {
  if (!job.device) job.device.emplace(host::open_compute_device(job.environment->device));
  return *job.device;
}

const store::Database& job_store(attnscope_job& job) {
  if (!job.db) {
    if (job.environment->database.empty()) throw Error(job.qualified_name, "this job was given no store (--db)");
    job.db.emplace(store::Database::open(job.environment->database));
  }
  return *job.db;
}

attnscope_result* new_result(attnscope_job& job, const std::vector<store::HeadMetric>& values, const nlohmann::json& summary) {
  auto result = std::make_unique<attnscope_result>();
  result->values.reserve(values.size());
  for (const store::HeadMetric& m : values) {
    attnscope_head_value v{};
    v.layer = m.layer;
    v.head = m.head;
    v.metric = result->strings.emplace_back(m.name).c_str();
    v.value = m.number();
    v.text = m.is_text() ? result->strings.emplace_back(m.text()).c_str() : nullptr;
    result->values.push_back(v);
  }
  result->summary = summary.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  job.results.push_back(std::move(result));
  return job.results.back().get();
}

namespace {

// A parameter of the job, of the declared type `T`.
template <typename T>
const T& parameter(attnscope_job& job, const char* name, std::string_view type) {
  const std::string key = required_text(name, "parameter name");
  const ParameterValue* value = job.parameters->find(key);
  if (!value) not_found(job.qualified_name, "has no parameter '" + key + "'");
  if (!std::holds_alternative<T>(*value))
    invalid_argument(job.qualified_name, "parameter '" + key + "' is a " + job.info->find_parameter(key)->type_text() +
                                             ", not a " + std::string(type));
  return std::get<T>(*value);
}

template <typename T>
const T& element(attnscope_job& job, const char* name, uint32_t index, std::string_view type) {
  const auto& list = parameter<std::vector<T>>(job, name, type);
  if (index >= list.size())
    not_found(job.qualified_name, "list '" + std::string(name) + "' has " + std::to_string(list.size()) +
                                      " elements; there is no element " + std::to_string(index));
  return list[index];
}

uint32_t list_size(attnscope_job& job, const char* name) {
  const std::string key = required_text(name, "parameter name");
  const ParameterValue* value = job.parameters->find(key);
  if (!value) not_found(job.qualified_name, "has no parameter '" + key + "'");
  if (auto* v = std::get_if<std::vector<int64_t>>(value)) return uint32_t(v->size());
  if (auto* v = std::get_if<std::vector<double>>(value)) return uint32_t(v->size());
  if (auto* v = std::get_if<std::vector<std::string>>(value)) return uint32_t(v->size());
  invalid_argument(job.qualified_name, "parameter '" + key + "' is not a list");
}

}  // namespace

std::filesystem::path output_file(const attnscope_job& job, const std::string& name) {
  const std::filesystem::path relative(name);
  if (name.empty() || relative.is_absolute()) invalid_argument("write_file", "'" + name + "' is not a relative file name");
  for (const auto& part : relative)
    if (part == ".." || part == "." || part.empty())
      invalid_argument("write_file", "'" + name + "' must stay inside the output folder (no '.' or '..')");
  return std::filesystem::path(job.output_folder) / relative;
}

void write_whole_file(const std::filesystem::path& path, const void* data, uint64_t size) {
  std::filesystem::create_directories(path.parent_path());
  const std::filesystem::path temporary = path.string() + ".part";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw Error(path.string(), std::string("cannot write: ") + std::strerror(errno));
  const char* bytes = static_cast<const char*>(data);
  uint64_t done = 0;
  while (done < size) {
    const ssize_t n = ::write(fd, bytes + done, size_t(std::min<uint64_t>(size - done, 1 << 30)));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string why = std::strerror(errno);
      ::close(fd);
      ::unlink(temporary.c_str());
      throw Error(path.string(), "cannot write: " + why);
    }
    done += uint64_t(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0 || ::rename(temporary.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(temporary.c_str());
    throw Error(path.string(), "cannot write: " + why);
  }
}

void add_output_file(attnscope_job& job, const std::filesystem::path& path) {
  if (std::find(job.files.begin(), job.files.end(), path) == job.files.end()) job.files.push_back(path);
}

namespace {

const char* last_error(attnscope_job* job) { return job ? job->last_error.c_str() : "no job (NULL)"; }

void set_error(attnscope_job* job, const char* message) {
  if (!job) return;
  try {
    job->job_error = message ? message : "";
  } catch (...) {
  }
}

void report_progress(attnscope_job* job, double fraction, const char* message) {
  guarded(job, [&](attnscope_job& j) {
    j.fraction = std::isfinite(fraction) ? std::clamp(fraction, 0.0, 1.0) : j.fraction;
    j.message = message ? message : "";
    report(j, "");
  });
}

int32_t is_cancelled(attnscope_job* job) { return job && job->cancel->load() ? 1 : 0; }

void log_message(attnscope_job* job, int32_t level, const char* message) {
  guarded(job, [&](attnscope_job& j) {
    const LogLevel l = level <= ATTNSCOPE_LOG_DEBUG ? LogLevel::Debug
                       : level == ATTNSCOPE_LOG_INFO ? LogLevel::Info
                       : level == ATTNSCOPE_LOG_WARNING ? LogLevel::Warning
                                                         : LogLevel::Error;
    log(j, l, message ? message : "");
  });
}

attnscope_status param_int(attnscope_job* job, const char* name, int64_t* out) {
  return guarded(job, [&](attnscope_job& j) {
    if (!out) invalid_argument("param_int", "out is NULL");
    *out = parameter<int64_t>(j, name, "int");
  });
}

attnscope_status param_float(attnscope_job* job, const char* name, double* out) {
  return guarded(job, [&](attnscope_job& j) {
    if (!out) invalid_argument("param_float", "out is NULL");
    *out = parameter<double>(j, name, "float");
  });
}

attnscope_status param_bool(attnscope_job* job, const char* name, int32_t* out) {
  return guarded(job, [&](attnscope_job& j) {
    if (!out) invalid_argument("param_bool", "out is NULL");
    *out = parameter<bool>(j, name, "bool") ? 1 : 0;
  });
}

attnscope_status param_string(attnscope_job* job, const char* name, const char** out) {
  return guarded(job, [&](attnscope_job& j) {
    if (!out) invalid_argument("param_string", "out is NULL");
    *out = parameter<std::string>(j, name, "string").c_str();
  });
}

attnscope_status param_list_size(attnscope_job* job, const char* name, uint32_t* out) {
  return guarded(job, [&](attnscope_job& j) {
    if (!out) invalid_argument("param_list_size", "out is NULL");
    *out = list_size(j, name);
  });
}

attnscope_status param_list_int(attnscope_job* job, const char* name, uint32_t index, int64_t* out) {
  return guarded(job, [&](attnscope_job& j) {
    if (!out) invalid_argument("param_list_int", "out is NULL");
    *out = element<int64_t>(j, name, index, "list of int");
  });
}

attnscope_status param_list_float(attnscope_job* job, const char* name, uint32_t index, double* out) {
  return guarded(job, [&](attnscope_job& j) {
    if (!out) invalid_argument("param_list_float", "out is NULL");
    *out = element<double>(j, name, index, "list of float");
  });
}

attnscope_status param_list_string(attnscope_job* job, const char* name, uint32_t index, const char** out) {
  return guarded(job, [&](attnscope_job& j) {
    if (!out) invalid_argument("param_list_string", "out is NULL");
    *out = element<std::string>(j, name, index, "list of string").c_str();
  });
}

uint32_t model_count(attnscope_job* job) { return job ? uint32_t(job->model_paths.size()) : 0; }

const char* model_path(attnscope_job* job, uint32_t index) {
  return job && index < job->model_paths.size() ? job->model_paths[index].c_str() : nullptr;
}

const char* output_folder(attnscope_job* job) { return job ? job->output_folder.c_str() : nullptr; }

const char* data_folder(attnscope_job* job) { return job ? job->data_folder.c_str() : nullptr; }

attnscope_status write_file(attnscope_job* job, const char* name, const void* data, uint64_t size) {
  return guarded(job, [&](attnscope_job& j) {
    if (!data && size > 0) invalid_argument("write_file", "data is NULL");
    const std::filesystem::path path = output_file(j, required_text(name, "write_file name"));
    write_whole_file(path, data ? data : "", size);
    add_output_file(j, path);
  });
}

attnscope_status write_png(attnscope_job* job, const char* name, uint32_t width, uint32_t height, uint32_t channels,
                           const uint8_t* pixels) {
  return guarded(job, [&](attnscope_job& j) {
    if (!pixels) invalid_argument("write_png", "pixels is NULL");
    const std::filesystem::path path = output_file(j, required_text(name, "write_png name"));
    const uint64_t bytes = uint64_t(width) * height * channels;  // checked by encode_png against its limits
    if (width > (1u << 24) || height > (1u << 24) || channels > 4)
      invalid_argument("write_png", "an image of " + std::to_string(width) + "x" + std::to_string(height) + "x" +
                                        std::to_string(channels) + " is out of range");
    const std::vector<uint8_t> png = encode_png(width, height, channels, std::span<const uint8_t>(pixels, size_t(bytes)));
    write_whole_file(path, png.data(), png.size());
    add_output_file(j, path);
  });
}

}  // namespace

void add_basic_services(attnscope_host_services& t) {
  t.last_error = last_error;
  t.set_error = set_error;
  t.report_progress = report_progress;
  t.is_cancelled = is_cancelled;
  t.log_message = log_message;
  t.param_int = param_int;
  t.param_float = param_float;
  t.param_bool = param_bool;
  t.param_string = param_string;
  t.param_list_size = param_list_size;
  t.param_list_int = param_list_int;
  t.param_list_float = param_list_float;
  t.param_list_string = param_list_string;
  t.model_count = model_count;
  t.model_path = model_path;
  t.output_folder = output_folder;
  t.data_folder = data_folder;
  t.write_file = write_file;
  t.write_png = write_png;
}

}  // namespace attnscope::plugins
