// Fuzz target: what a plugin hands the host (plugins/host): its descriptor as
// read_descriptor copies and checks it, the "name=value" texts of --param and the app's
// form as JobParameters::parse reads them against the declared types, and single values
// through parse_parameter_value. The input is lines, fields separated by tabs ("~" alone:
// a NULL pointer):
//   D abi  name  version  summary          the descriptor (default: a valid one)
//   J name  summary  run  params           a job (run 0: no run function; params N: NULL array)
//   P name  type  element  default  help   a parameter of the last job
//   A name=value                           an assignment for the first job
//   V type  element  text                  one value parsed on its own
// Properties of what parses: the host's copy matches the descriptor, every default parses
// again, every value prints and parses back to itself, and what a run records of the job
// (plugin, version, parameters) can be written as JSON.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <deque>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "fuzz/fuzz_support.h"
#include "kernels/error.h"
#include "plugins/host/job_parameters.h"
#include "plugins/host/plugin_info.h"

namespace {

namespace fz = attnscope::fuzz;
namespace pl = attnscope::plugins;

attnscope_status run_nothing(const attnscope_host_services*, attnscope_job*, void*) { return ATTNSCOPE_OK; }

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    const size_t end = text.find(separator, start);
    out.push_back(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return out;
    start = end + 1;
  }
}

int64_t number(std::string_view text, int64_t fallback) {
  int64_t v = fallback;
  std::from_chars(text.data(), text.data() + text.size(), v);
  return v;
}

// The descriptor the input describes, with the strings and arrays it points to.
struct Descriptor {
  std::deque<std::string> strings;  // a deque never moves them
  std::vector<std::vector<attnscope_param_spec>> params;
  std::vector<bool> null_params;
  std::vector<attnscope_job_spec> jobs;
  attnscope_plugin_descriptor descriptor{ATTNSCOPE_PLUGIN_ABI_VERSION, 0, "fuzz", "1.0.0", "", nullptr, 0};
  std::vector<std::string> assignments;
  std::vector<std::pair<pl::ParameterInfo, std::string>> values;

  const char* text(const std::vector<std::string_view>& fields, size_t i, const char* fallback) {
    if (i >= fields.size()) return fallback;
    if (fields[i] == "~") return nullptr;
    return strings.emplace_back(fields[i]).c_str();
  }

  void read(std::string_view input) {
    for (std::string_view line : split(input, '\n')) {
      if (line.empty()) continue;
      const char kind = line.front();
      const std::vector<std::string_view> f = split(line.substr(1), '\t');
      if (kind == 'D') {
        descriptor.abi_version = uint32_t(number(f[0], ATTNSCOPE_PLUGIN_ABI_VERSION));
        descriptor.name = text(f, 1, "fuzz");
        descriptor.version = text(f, 2, "1.0.0");
        descriptor.summary = text(f, 3, "");
      } else if (kind == 'J') {
        attnscope_job_spec job{text(f, 0, "job"), text(f, 1, ""), nullptr, 0, 0, &run_nothing, nullptr};
        if (f.size() > 2 && f[2] == "0") job.run = nullptr;
        jobs.push_back(job);
        params.emplace_back();
        null_params.push_back(f.size() > 3 && f[3] == "N");
      } else if (kind == 'P' && !jobs.empty()) {
        params.back().push_back({text(f, 0, "p"), int32_t(number(f.size() > 1 ? f[1] : "", 1)),
                                 int32_t(number(f.size() > 2 ? f[2] : "", 0)), text(f, 3, nullptr), text(f, 4, "")});
      } else if (kind == 'A') {
        assignments.emplace_back(line.substr(1));
      } else if (kind == 'V' && f.size() >= 3) {
        pl::ParameterInfo p;
        p.name = "v";
        p.type = pl::ParamType(std::clamp<int64_t>(number(f[0], 1), 1, 5));
        if (p.type == pl::ParamType::List) p.element_type = pl::ParamType(std::clamp<int64_t>(number(f[1], 1), 1, 3));
        const size_t skip = f[0].size() + f[1].size() + 3;  // 'V' and two tabs
        values.emplace_back(p, std::string(line.substr(std::min(skip, line.size()))));
      }
    }
    for (size_t j = 0; j < jobs.size(); ++j) {
      jobs[j].param_count = uint32_t(params[j].size());
      jobs[j].params = null_params[j] ? nullptr : params[j].data();
    }
    descriptor.jobs = jobs.empty() ? nullptr : jobs.data();
    descriptor.job_count = uint32_t(jobs.size());
  }
};

std::string print_int(int64_t v) { return std::to_string(v); }

std::string print_float(double v) {
  char text[40];
  std::snprintf(text, sizeof text, "%.17g", v);
  return text;
}

// A value as text the parser takes back: what a form shows of a stored value.
struct Printer {
  std::string operator()(int64_t v) const { return print_int(v); }
  std::string operator()(double v) const { return print_float(v); }
  std::string operator()(const std::string& v) const { return v; }
  std::string operator()(bool v) const { return v ? "true" : "false"; }
  template <typename T>
  std::string operator()(const std::vector<T>& list) const {
    std::string out;
    for (size_t i = 0; i < list.size(); ++i) out += (i ? "," : "") + (*this)(list[i]);
    return out;
  }
};

std::string print(const pl::ParameterValue& value) { return std::visit(Printer{}, value); }

// A parsed value is of the declared type, and its printed text parses back to itself.
void check_value(const pl::ParameterInfo& p, const pl::ParameterValue& value) {
  bool typed = false;
  switch (p.type) {
    case pl::ParamType::Int: typed = std::holds_alternative<int64_t>(value); break;
    case pl::ParamType::Float: typed = std::holds_alternative<double>(value) && std::isfinite(std::get<double>(value)); break;
    case pl::ParamType::String: typed = std::holds_alternative<std::string>(value); break;
    case pl::ParamType::Bool: typed = std::holds_alternative<bool>(value); break;
    case pl::ParamType::List:
      typed = p.element_type == pl::ParamType::Int     ? std::holds_alternative<std::vector<int64_t>>(value)
              : p.element_type == pl::ParamType::Float ? std::holds_alternative<std::vector<double>>(value)
                                                       : std::holds_alternative<std::vector<std::string>>(value);
      break;
  }
  fz::expect(typed, "a parsed value has the declared type (finite for a float)");
  const pl::ParameterValue again = pl::parse_parameter_value(p, print(value), "printed back");
  fz::expect(again == value, "a value printed as text parses back to the same value");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Descriptor input;
  input.read(fz::text(data, size));
  for (const auto& [parameter, text] : input.values) {
    try {
      check_value(parameter, pl::parse_parameter_value(parameter, text, "value"));
    } catch (const attnscope::Error&) {
    }
  }
  pl::PluginInfo info;
  try {
    info = pl::read_descriptor(&input.descriptor, "fuzz.so");
  } catch (const attnscope::Error&) {
    return 0;
  }
  fz::expect(info.jobs.size() == input.jobs.size(), "every job of the descriptor is kept");
  for (size_t j = 0; j < info.jobs.size(); ++j) {
    const pl::JobInfo& job = info.jobs[j];
    fz::expect(job.parameters.size() == input.params[j].size(), "every parameter of a job is kept");
    fz::expect(pl::valid_plugin_name(job.name), "a kept job has a valid name");
    for (const pl::ParameterInfo& p : job.parameters) {
      fz::expect(pl::valid_plugin_name(p.name), "a kept parameter has a valid name");
      if (p.default_text) check_value(p, pl::parse_parameter_value(p, *p.default_text, "default"));
    }
  }
  const pl::JobInfo& job = info.jobs.front();
  pl::JobParameters parameters;
  try {
    parameters = pl::JobParameters::parse(info.name + "." + job.name, job, input.assignments);
  } catch (const attnscope::Error&) {
    return 0;
  }
  fz::expect(parameters.values().size() == job.parameters.size(), "every declared parameter has a value");
  for (const pl::ParameterInfo& p : job.parameters) {
    const pl::ParameterValue* value = parameters.find(p.name);
    fz::expect(value != nullptr, "every declared parameter can be found");
    check_value(p, *value);
  }
  // What every run of the job records in the store (plugins/host/job_runner.cpp).
  const nlohmann::json recorded = {{"plugin", info.name}, {"plugin_version", info.version}, {"job", job.name},
                                   {"params", parameters.to_json()}};
  try {
    const std::string text = recorded.dump();
    fz::expect(nlohmann::json::parse(text) == recorded, "the recorded parameters read back the same");
  } catch (const nlohmann::json::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    fz::expect(false, "what a run records of the job can be written as JSON");
  }
  fz::expect(pl::parameter_differences(recorded["params"], parameters.to_json()).empty(),
             "a job's parameters do not differ from themselves");
  return 0;
}
