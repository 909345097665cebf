#include "plugins/host/plugin_info.h"

#include <set>

#include "analysis/tokenizer/unicode_utf8.h"
#include "kernels/error.h"
#include "plugins/host/job_parameters.h"

namespace attnscope::plugins {
namespace {

constexpr size_t kMaxName = 64;
constexpr uint32_t kMaxJobs = 1024;
constexpr uint32_t kMaxParameters = 1024;

// A descriptor's text (version, summary, help): what a run records and the app shows, so
// UTF-8 only. `what` names it for the error.
std::string text_or_empty(const char* text, const std::string& where, const std::string& what) {
  if (!text) return {};
  if (!tokenizer::utf8::is_valid(text)) throw Error(where, what + " is not UTF-8 text");
  return text;
}

bool valid_type(int32_t type) { return type >= ATTNSCOPE_PARAM_INT && type <= ATTNSCOPE_PARAM_LIST; }

ParameterInfo read_parameter(const attnscope_param_spec& spec, const std::string& job, const std::string& where) {
  ParameterInfo p;
  if (!spec.name || !valid_plugin_name(spec.name))
    throw Error(where, "job '" + job + "' has a parameter without a valid name (" +
                           (spec.name ? "'" + std::string(spec.name) + "'" : std::string("none")) +
                           "; names are 1 to 64 of a-z, 0-9, '_' and '-')");
  p.name = spec.name;
  const std::string what = "parameter '" + p.name + "' of job '" + job + "'";
  if (!valid_type(spec.type))
    throw Error(where, what + " has type " + std::to_string(spec.type) +
                           ", which is none of int (1), float (2), string (3), bool (4), list (5)");
  p.type = ParamType(spec.type);
  if (p.type == ParamType::List) {
    if (spec.element_type != ATTNSCOPE_PARAM_INT && spec.element_type != ATTNSCOPE_PARAM_FLOAT &&
        spec.element_type != ATTNSCOPE_PARAM_STRING)
      throw Error(where, what + " is a list of element type " + std::to_string(spec.element_type) +
                             ": lists hold int (1), float (2) or string (3)");
    p.element_type = ParamType(spec.element_type);
  } else if (spec.element_type != 0) {
    throw Error(where, what + " is not a list but has element type " + std::to_string(spec.element_type) +
                           " (must be 0)");
  }
  p.help = text_or_empty(spec.help, where, "the help of " + what);
  if (spec.default_value) {
    p.default_text = spec.default_value;
    parse_parameter_value(p, *p.default_text, where + ": default of " + what);  // throws for a bad default
  }
  return p;
}

JobInfo read_job(const attnscope_job_spec& spec, const std::string& where) {
  JobInfo job;
  if (!spec.name || !valid_plugin_name(spec.name))
    throw Error(where, "a job without a valid name (" +
                           (spec.name ? "'" + std::string(spec.name) + "'" : std::string("none")) +
                           "; names are 1 to 64 of a-z, 0-9, '_' and '-')");
  job.name = spec.name;
  if (!spec.run) throw Error(where, "job '" + job.name + "' has no run function");
  if (spec.param_count > kMaxParameters || (spec.param_count > 0 && !spec.params))
    throw Error(where, "job '" + job.name + "' declares " + std::to_string(spec.param_count) +
                           " parameters but " + (spec.params ? "more than " + std::to_string(kMaxParameters) + " are not allowed" : std::string("gives no array")));
  job.summary = text_or_empty(spec.summary, where, "the summary of job '" + job.name + "'");
  job.run = spec.run;
  job.job_data = spec.job_data;
  std::set<std::string> names;
  for (uint32_t i = 0; i < spec.param_count; ++i) {
    ParameterInfo p = read_parameter(spec.params[i], job.name, where);
    if (!names.insert(p.name).second)
      throw Error(where, "job '" + job.name + "' declares parameter '" + p.name + "' twice");
    job.parameters.push_back(std::move(p));
  }
  return job;
}

}  // namespace

std::string_view param_type_name(ParamType type) {
  switch (type) {
    case ParamType::Int: return "int";
    case ParamType::Float: return "float";
    case ParamType::String: return "string";
    case ParamType::Bool: return "bool";
    case ParamType::List: return "list";
  }
  return "?";
}

std::string ParameterInfo::type_text() const {
  std::string text(param_type_name(type));
  if (element_type) text += " of " + std::string(param_type_name(*element_type));
  return text;
}

const ParameterInfo* JobInfo::find_parameter(std::string_view wanted) const {
  for (const ParameterInfo& p : parameters)
    if (p.name == wanted) return &p;
  return nullptr;
}

const JobInfo* PluginInfo::find_job(std::string_view wanted) const {
  for (const JobInfo& j : jobs)
    if (j.name == wanted) return &j;
  return nullptr;
}

bool valid_plugin_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxName) return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
  return true;
}

PluginInfo read_descriptor(const attnscope_plugin_descriptor* d, const std::filesystem::path& path) {
  const std::string where = path.string();
  if (!d) throw Error(where, std::string(ATTNSCOPE_PLUGIN_ENTRY_NAME) + " returned no descriptor");
  if (d->abi_version != ATTNSCOPE_PLUGIN_ABI_VERSION)
    throw Error(where, "the plugin was built for plugin ABI version " + std::to_string(d->abi_version) +
                           "; this host has ABI version " + std::to_string(ATTNSCOPE_PLUGIN_ABI_VERSION) +
                           " (rebuild the plugin against this AttnScope's attnscope/plugin.h)");
  PluginInfo info;
  info.path = path;
  info.abi_version = d->abi_version;
  if (!d->name || !valid_plugin_name(d->name))
    throw Error(where, "the plugin has no valid name (" + (d->name ? "'" + std::string(d->name) + "'" : std::string("none")) +
                           "; names are 1 to 64 of a-z, 0-9, '_' and '-')");
  info.name = d->name;
  if (!d->version || !*d->version) throw Error(where, "plugin '" + info.name + "' gives no version");
  info.version = text_or_empty(d->version, where, "the version of plugin '" + info.name + "'");
  info.summary = text_or_empty(d->summary, where, "the summary of plugin '" + info.name + "'");
  if (d->job_count == 0 || !d->jobs) throw Error(where, "plugin '" + info.name + "' declares no jobs");
  if (d->job_count > kMaxJobs)
    throw Error(where, "plugin '" + info.name + "' declares " + std::to_string(d->job_count) + " jobs, more than " +
                           std::to_string(kMaxJobs));
  std::set<std::string> names;
  for (uint32_t i = 0; i < d->job_count; ++i) {
    JobInfo job = read_job(d->jobs[i], where);
    if (!names.insert(job.name).second)
      throw Error(where, "plugin '" + info.name + "' declares job '" + job.name + "' twice");
    info.jobs.push_back(std::move(job));
  }
  return info;
}

}  // namespace attnscope::plugins
