// attnscope-cli plugins list: the plugins found (plugins/host/plugin_catalog.h), their
// jobs and parameters. attnscope-cli batch PLUGIN.JOB: one job run headless
// (plugins/host/job_runner.h) with progress on stderr, Ctrl-C to stop cleanly and
// --resume RUN to go on where an interrupted batch stopped. docs/plugins.md.
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "app/cli/arguments.h"
#include "app/cli/batch_progress.h"
#include "app/cli/commands.h"
#include "app/cli/inputs.h"
#include "app/cli/interrupt_handler.h"
#include "app/cli/store_options.h"
#include "kernels/error.h"
#include "plugins/host/plugin_catalog.h"

namespace attnscope::cli {
namespace {

void print_warnings(const plugins::PluginCatalog& catalog) {
  for (const std::string& w : catalog.warnings()) std::fprintf(stderr, "attnscope-cli: warning: %s\n", w.c_str());
}

nlohmann::json parameter_json(const plugins::ParameterInfo& p) {
  nlohmann::json j = {{"name", p.name}, {"type", std::string(plugins::param_type_name(p.type))}, {"help", p.help},
                      {"required", !p.default_text.has_value()}};
  if (p.element_type) j["element_type"] = std::string(plugins::param_type_name(*p.element_type));
  j["default"] = p.default_text ? nlohmann::json(*p.default_text) : nlohmann::json(nullptr);
  return j;
}

nlohmann::json catalog_json(const plugins::PluginCatalog& catalog) {
  nlohmann::json out = {{"folders", nlohmann::json::array()}, {"plugins", nlohmann::json::array()},
                        {"warnings", catalog.warnings()}};
  for (const plugins::PluginFolder& f : catalog.folders())
    out["folders"].push_back({{"path", f.path.string()}, {"origin", f.origin}});
  for (const auto& library : catalog.plugins()) {
    const plugins::PluginInfo& info = library->info();
    nlohmann::json jobs = nlohmann::json::array();
    for (const plugins::JobInfo& job : info.jobs) {
      nlohmann::json parameters = nlohmann::json::array();
      for (const plugins::ParameterInfo& p : job.parameters) parameters.push_back(parameter_json(p));
      jobs.push_back({{"name", job.name}, {"summary", job.summary}, {"parameters", parameters}});
    }
    out["plugins"].push_back({{"name", info.name}, {"version", info.version}, {"abi_version", info.abi_version},
                              {"path", info.path.string()}, {"summary", info.summary}, {"jobs", jobs}});
  }
  return out;
}

void print_catalog(const plugins::PluginCatalog& catalog) {
  std::string searched;
  for (const plugins::PluginFolder& f : catalog.folders()) searched += "\n  " + f.path.string() + " (" + f.origin + ")";
  std::cout << "plugin folders searched:" << (searched.empty() ? std::string(" none") : searched) << "\n";
  if (catalog.plugins().empty()) std::cout << "\nno plugins found\n";
  for (const auto& library : catalog.plugins()) {
    const plugins::PluginInfo& info = library->info();
    std::cout << "\n" << info.name << " " << info.version << " (plugin ABI " << info.abi_version << ") "
              << info.path.string() << "\n";
    if (!info.summary.empty()) std::cout << "  " << info.summary << "\n";
    for (const plugins::JobInfo& job : info.jobs) {
      std::cout << "  " << info.name << "." << job.name << (job.summary.empty() ? "" : ": " + job.summary) << "\n";
      for (const plugins::ParameterInfo& p : job.parameters) {
        const std::string value = p.default_text ? "= " + (p.default_text->empty() ? "\"\"" : *p.default_text) : "(required)";
        std::printf("    %-18s %-15s %-16s %s\n", p.name.c_str(), p.type_text().c_str(), value.c_str(), p.help.c_str());
      }
    }
  }
}

int run_list(const std::vector<std::string>& raw) {
  const Arguments args(raw, {}, {"json"});
  const plugins::PluginCatalog catalog = plugins::PluginCatalog::discover_default();
  if (args.flag("json")) {
    std::cout << catalog_json(catalog).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return 0;
  }
  print_warnings(catalog);
  print_catalog(catalog);
  return 0;
}

// The repeatable options (--param, --model) and the job's name, taken out of the raw
// arguments before the rest are parsed.
struct BatchInputs {
  std::string job;
  std::vector<std::string> params;
  std::vector<std::filesystem::path> models;
};

BatchInputs take_batch_inputs(std::vector<std::string>& raw) {
  BatchInputs in;
  std::vector<std::string> rest;
  size_t i = 0;
  // The value of `option` at raw[i] ("--x v" or "--x=v"), advancing i past it.
  const auto take = [&](const std::string& option) -> std::optional<std::string> {
    std::optional<std::string> value;
    if (raw[i] == option) {
      if (i + 1 >= raw.size()) throw UsageError(option + " needs a value");
      value = raw[++i];
    } else if (raw[i].rfind(option + "=", 0) == 0) {
      value = raw[i].substr(option.size() + 1);
    }
    if (value && value->empty()) throw UsageError(option + " needs a value");
    return value;
  };
  for (; i < raw.size(); ++i) {
    if (auto v = take("--param")) in.params.push_back(*v);
    else if (auto m = take("--model")) in.models.push_back(*m);
    else if (raw[i].rfind("--", 0) != 0 && in.job.empty()) in.job = raw[i];
    else rest.push_back(raw[i]);
  }
  raw = rest;
  if (in.job.empty()) throw UsageError("batch needs a job: attnscope-cli batch PLUGIN.JOB (see attnscope-cli plugins list)");
  return in;
}

nlohmann::json outcome_json(const plugins::JobOutcome& o, const std::string& job, const std::filesystem::path& db,
                            const std::filesystem::path& out) {
  nlohmann::json runs = nlohmann::json::array(), files = nlohmann::json::array();
  for (store::RunId r : o.runs) runs.push_back(int64_t(r));
  for (const auto& f : o.files) files.push_back(f.string());
  return {{"job", job},       {"status", std::string(store::status_name(o.status))},
          {"error", o.error}, {"runs", runs},
          {"files", files},   {"batch", o.batch},
          {"database", db.string()}, {"output_folder", out.string()}};
}

int batch_command(std::vector<std::string> raw) {
  const BatchInputs in = take_batch_inputs(raw);
  const Arguments args(raw, {"db", "out", "device", "threads", "resume"}, {"json"});
  const plugins::PluginCatalog catalog = plugins::PluginCatalog::discover_default();
  print_warnings(catalog);
  const plugins::PluginCatalog::JobRef ref = catalog.find_job(in.job);
  const std::string name = ref.qualified_name();
  plugins::JobParameters parameters;
  try {
    parameters = plugins::JobParameters::parse(name, *ref.job, in.params);
  } catch (const Error& e) {
    throw UsageError(e.what());
  }

  plugins::JobEnvironment env;
  env.models = in.models;
  env.sample_data = sample_data_directory();
  env.database = database_path(args);
  env.output_folder = args.value_or("out", "attnscope-" + name);
  env.device.choice = host::parse_device_choice(args.value_or("device", "cpu"), true);
  env.device.cpu_threads = int(args.integer_or("threads", 0, 0, 1024));
  env.device.program = "attnscope-cli";
  env.device.where = "--device cuda";
  if (args.has("resume")) env.resume = store::RunId(args.integer_or("resume", 0, 1, INT64_MAX));

  const InterruptHandler handler;
  BatchProgress progress;
  plugins::JobCallbacks callbacks;
  callbacks.cancel = &InterruptHandler::flag();
  callbacks.on_progress = [&](const plugins::JobProgress& p) { progress.update(p); };
  callbacks.on_log = [&](plugins::LogLevel level, const std::string& message) { progress.log(level, message); };
  const plugins::JobOutcome outcome = plugins::run_job(ref, parameters, env, callbacks);
  progress.finish();

  std::string runs;
  for (store::RunId r : outcome.runs) runs += (runs.empty() ? "" : ", ") + store::to_string(r);
  if (args.flag("json"))
    std::cout << outcome_json(outcome, name, env.database, env.output_folder).dump(2) << "\n";
  if (outcome.status == store::RunStatus::Failed) {
    std::fprintf(stderr, "attnscope-cli: error: %s failed: %s%s\n", name.c_str(), outcome.error.c_str(),
                 runs.empty() ? "" : (" (run " + runs + " marked failed; --resume " +
                                      store::to_string(outcome.runs.front()) + " goes on from its completed units)").c_str());
    return 1;
  }
  if (outcome.status == store::RunStatus::Interrupted) {
    std::fprintf(stderr, "attnscope-cli: interrupted: %s%s\n", name.c_str(),
                 runs.empty() ? " (no run was begun)"
                              : (": run " + runs + " keeps its completed units (status interrupted); resume with --resume " +
                                 store::to_string(outcome.runs.front())).c_str());
    return 130;  // 128 + SIGINT, as a shell reports a process ended by Ctrl-C
  }
  if (!args.flag("json")) {
    std::cout << name << ": complete" << (runs.empty() ? "" : ", run " + runs + " in " + env.database.string()) << "\n";
    for (const auto& f : outcome.files) std::cout << "wrote " << f.string() << "\n";
  }
  return 0;
}

}  // namespace

int run_plugins(const std::vector<std::string>& args) {
  if (args.empty() || args.front() != "list") throw UsageError("plugins needs a sub-command: list");
  return run_list(std::vector<std::string>(args.begin() + 1, args.end()));
}

int run_batch(const std::vector<std::string>& args) { return batch_command(args); }

}  // namespace attnscope::cli
