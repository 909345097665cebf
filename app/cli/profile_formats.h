#pragma once
// The profile formats of `attnscope-cli export` and `import` (docs/export-formats.md),
// and the argument handling they share (take_words also serves `runs`).
#include <string>
#include <vector>

#include "analysis/export/profile_export.h"
#include "app/cli/arguments.h"

namespace attnscope::cli {

using ProfileFormat = exports::ExportFormat;

// --format NAME: duo, moa, minference, retrieval-head, razor, json, csv; UsageError for
// a missing or unknown name.
ProfileFormat profile_format(const Arguments& args);
std::string format_name(ProfileFormat format);

// Every value of `--name V` / `--name=V` taken out of `raw` (for repeatable options).
std::vector<std::string> take_repeated(std::vector<std::string>& raw, const std::string& name);
// The words of `raw` that are neither options nor their values (`value_options` take
// one), taken out of it.
std::vector<std::string> take_words(std::vector<std::string>& raw, const std::vector<std::string>& value_options);

// A number option within [min, max]; UsageError naming it otherwise.
double number_or(const Arguments& args, const std::string& name, double fallback, double min, double max);

}  // namespace attnscope::cli
