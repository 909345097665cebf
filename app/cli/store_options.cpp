#include "app/cli/store_options.h"

#include <charconv>

#include "analysis/store/database.h"

namespace attnscope::cli {

std::filesystem::path database_path(const Arguments& args) {
  if (auto db = args.value("db")) {
    if (db->empty()) throw UsageError("--db needs a file name");
    return *db;
  }
  return store::default_database_path();
}

store::RunId parse_run_id(const std::string& text) {
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v <= 0)
    throw UsageError("a run id is a positive integer, not '" + text + "'");
  return store::RunId(v);
}

}  // namespace attnscope::cli
