#pragma once
// The store a command uses: --db FILE, else the default in the user's data directory;
// and run ids as the commands take them.
#include <filesystem>
#include <string>

#include "analysis/store/ids.h"
#include "app/cli/arguments.h"

namespace attnscope::cli {

std::filesystem::path database_path(const Arguments& args);

// A run id as typed: a positive integer; UsageError otherwise.
store::RunId parse_run_id(const std::string& text);

}  // namespace attnscope::cli
