#pragma once
// Our own profile file (docs/export-formats.md, "attnscope profile"): every metric of
// every head with the model's identity, the run's parameters and a summary of its units,
// as versioned JSON; and the per-head table alone as CSV for spreadsheets (RFC 4180).
// Both read back into a profile::HeadProfile that every other exporter takes.
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "analysis/export/model_shape.h"
#include "analysis/export/stored_profile.h"
#include "analysis/profile/head_profile.h"

namespace attnscope::exports {

inline constexpr int kProfileFormatVersion = 1;

struct ProfileDocument {
  nlohmann::ordered_json model = nlohmann::ordered_json::object();  // identity and shape
  nlohmann::ordered_json run = nlohmann::ordered_json::object();    // id, kind, task, status, parameters, ...
  nlohmann::ordered_json units = nlohmann::ordered_json::object();  // completed, tasks, prompt_tokens
  profile::HeadProfile heads;                                       // per query head
};

ProfileDocument profile_document(const StoredProfile& stored, const ModelShape& shape);

// {"attnscope_profile": 1, "model", "run", "units", "metrics": [names], "heads": [{"layer",
// "head", "kv_head", metric: value, ...}], "kv_heads": [{"layer", "kv_head", reduced
// metrics}]}, indent 1. A metric a head has no value for is absent from its object.
std::string profile_json_text(const ProfileDocument& document, const ModelShape& shape);
// attnscope::Error naming `file` for another format or a newer version, counts in
// "model" unlike `shape`'s, a head listed twice or missing, a head outside the model, a
// kv_head unlike the model's grouping, or a value that is neither a number nor a text.
ProfileDocument parse_profile_json(std::string_view text, const ModelShape& shape, const std::string& file);

// Header "layer,head,kv_head,<metric>,..." (metrics sorted), one row per query head in
// layer-major order, numbers as the shortest text that reads back the same, an empty
// cell for no value, texts quoted when they hold a comma, quote or line break; "\n"
// line ends.
std::string profile_csv_text(const profile::HeadProfile& heads, const ModelShape& shape);
// attnscope::Error naming `file` and the line for a header not starting with layer,head,
// a row with another cell count, a head outside the model, listed twice or missing, a
// kv_head unlike the model's, an unterminated quote, or a cell that is not a number in
// a column other than "pattern".
profile::HeadProfile parse_profile_csv(std::string_view text, const ModelShape& shape, const std::string& file);

}  // namespace attnscope::exports
