#pragma once
// The sub-commands of attnscope-cli. Each returns the process exit code and throws
// attnscope::Error (exit 1) or UsageError (exit 2).
#include <string>
#include <vector>

namespace attnscope::cli {

int run_inspect(const std::vector<std::string>& args);
int run_tokenize(const std::vector<std::string>& args);
int run_run(const std::vector<std::string>& args);
int run_runs(const std::vector<std::string>& args);
int run_masks(const std::vector<std::string>& args);
int run_profile(const std::vector<std::string>& args);
int run_plugins(const std::vector<std::string>& args);
int run_batch(const std::vector<std::string>& args);
int run_export(const std::vector<std::string>& args);
int run_import(const std::vector<std::string>& args);

}  // namespace attnscope::cli
