#pragma once
// A plugin's descriptor as the host keeps it: copied out of the library (the plugin's
// strings are not trusted to stay put) and checked, with the job's entry point.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "attnscope/plugin.h"

namespace attnscope::plugins {

enum class ParamType : int32_t {
  Int = ATTNSCOPE_PARAM_INT,
  Float = ATTNSCOPE_PARAM_FLOAT,
  String = ATTNSCOPE_PARAM_STRING,
  Bool = ATTNSCOPE_PARAM_BOOL,
  List = ATTNSCOPE_PARAM_LIST,
};

// "int", "float", "string", "bool", "list".
std::string_view param_type_name(ParamType type);

struct ParameterInfo {
  std::string name;
  ParamType type = ParamType::Int;
  std::optional<ParamType> element_type;     // List only
  std::optional<std::string> default_text;   // none: required
  std::string help;

  // "int", "list of float", ...
  std::string type_text() const;
};

struct JobInfo {
  std::string name;
  std::string summary;
  std::vector<ParameterInfo> parameters;
  attnscope_job_run_fn run = nullptr;
  void* job_data = nullptr;

  const ParameterInfo* find_parameter(std::string_view name) const;
};

struct PluginInfo {
  std::filesystem::path path;  // the shared library
  std::string name;
  std::string version;
  std::string summary;
  uint32_t abi_version = 0;
  std::vector<JobInfo> jobs;

  const JobInfo* find_job(std::string_view name) const;
};

// Copies and checks what the entry returned: attnscope::Error naming `path` for no
// descriptor, another ABI version (both named), a missing or badly formed name, no jobs,
// duplicate job or parameter names, a job without `run`, an unknown parameter type or
// list element type, or a default that does not parse as its type.
PluginInfo read_descriptor(const attnscope_plugin_descriptor* descriptor, const std::filesystem::path& path);

// Plugin, job and parameter names: [a-z0-9_-], 1 to 64 characters.
bool valid_plugin_name(std::string_view name);

}  // namespace attnscope::plugins
