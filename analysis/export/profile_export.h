#pragma once
// One export, from what is stored to a file: stored profile runs (read_stored_profile) or
// a mask plan written in one of the export formats (docs/export-formats.md). It is what
// `attnscope-cli export` and the desktop app's Export menu both call, so that a file
// exported from either is the same file.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>

#include "analysis/export/minference_pattern.h"
#include "analysis/export/model_shape.h"
#include "analysis/export/razor_heads.h"
#include "analysis/export/stored_profile.h"
#include "analysis/masks/mask_plan.h"
#include "analysis/profile/head_profile.h"
#include "analysis/store/database.h"

namespace attnscope::exports {

enum class ExportFormat { Duo, Moa, Minference, RetrievalHead, Razor, Json, Csv };

// The choices a format leaves open, at the defaults of the CLI.
struct ExportOptions {
  profile::KvReduction duo_kv_reduction = profile::KvReduction::Max;
  // DuoAttention's window; default: the streaming probe's (what the gates measured), else 128 and 256.
  std::optional<int64_t> duo_sink;
  std::optional<int64_t> duo_recent;
  MinferenceProfileOptions minference;
  bool reasoning = false;  // Retrieval_Head: HeadKV's reasoning scores instead of the retrieval scores
  RazorSelection razor;
};

// Whether `format` describes mask plans (DuoAttention, MoA, MInference).
bool describes_plans(ExportFormat format);

// Writes `runs` of `db` (the first; every one only for MoA's span fit over lengths) as
// `format` to `out` (a directory for Duo). attnscope::Error for no run, or what the format
// needs and the runs lack (a metric, units of several lengths).
void export_profile_runs(const store::Database& db, std::span<const StoredProfile> runs, const ModelShape& shape,
                         ExportFormat format, const ExportOptions& options, const std::filesystem::path& out);

// Writes `plan` as `format` for the model of `shape`. attnscope::Error(`where`, ...) for a
// plan of another number of layers or heads, or a format that does not describe plans.
void export_plan(const masks::MaskPlan& plan, const ModelShape& shape, ExportFormat format,
                 const std::filesystem::path& out, const std::string& where);

}  // namespace attnscope::exports
