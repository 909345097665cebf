#pragma once
// Running the bundled plugins (plugins/<name>/, built into <build>/plugins) on the sample
// model from the tests: the job by name, the environment (CPU, 2 threads, a fresh store
// and output folder) and the CSV files they write, read as rows of named fields.
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "plugins/host/job_runner.h"
#include "plugins/host/plugin_library.h"
#include "tests/unit/io/test_files.h"

namespace attnscope::testing {

inline std::filesystem::path bundled_plugin(const std::string& name) {
  return std::filesystem::path(ATTNSCOPE_BUILD_PLUGIN_DIR) / (name + ".so");
}

struct BundledJob {
  std::shared_ptr<const plugins::PluginLibrary> library;
  plugins::PluginCatalog::JobRef ref;
  BundledJob(const std::string& plugin, const std::string& job) : library(plugins::PluginLibrary::load(bundled_plugin(plugin))) {
    ref = {library, library->info().find_job(job)};
    REQUIRE(ref.job != nullptr);
  }
  plugins::JobOutcome run(const std::vector<std::string>& given, const plugins::JobEnvironment& env,
                          const plugins::JobCallbacks& callbacks = {}) const {
    return plugins::run_job(ref, plugins::JobParameters::parse(ref.qualified_name(), *ref.job, given), env, callbacks);
  }
};

inline plugins::JobEnvironment bundled_environment(const std::filesystem::path& dir) {
  plugins::JobEnvironment env;
  env.sample_data = ATTNSCOPE_SAMPLE_DATA_DIR;
  env.database = dir / "store.db";
  env.output_folder = dir / "out";
  env.device.choice = host::DeviceChoice::Cpu;
  env.device.cpu_threads = 2;
  return env;
}

inline std::string file_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Rows of a CSV without quoted fields (what the plugins write for numbers and paths), by
// the header's names.
inline std::vector<std::map<std::string, std::string>> csv_rows(const std::filesystem::path& path) {
  std::istringstream in(file_text(path));
  const auto split = [](const std::string& line) {
    std::vector<std::string> cells;
    std::stringstream fields(line);
    for (std::string cell; std::getline(fields, cell, ',');) cells.push_back(cell);
    if (!line.empty() && line.back() == ',') cells.emplace_back();
    return cells;
  };
  std::string line;
  std::getline(in, line);
  const std::vector<std::string> header = split(line);
  std::vector<std::map<std::string, std::string>> rows;
  while (std::getline(in, line)) {
    const std::vector<std::string> cells = split(line);
    REQUIRE(cells.size() == header.size());
    std::map<std::string, std::string> row;
    for (size_t i = 0; i < header.size(); ++i) row[header[i]] = cells[i];
    rows.push_back(row);
  }
  return rows;
}

}  // namespace attnscope::testing
