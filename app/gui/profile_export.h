#pragma once
// The Export menu's profile formats (docs/export-formats.md): the run shown, reopened
// from the store, or the mask lab's plan, written with analysis/export as
// `attnscope-cli export` writes them with its defaults (DuoAttention gates reduced by max
// with the streaming probe's sink and recent window, MInference's default candidates,
// golden-stick's Razor ratios, Retrieval_Head's scores). Every file is checked against
// the model's config.json first.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "analysis/masks/mask_plan.h"
#include "analysis/store/ids.h"

namespace attnscope::gui {

enum class ProfileExport { Duo, Moa, Minference, RetrievalHead, HeadKvReasoning, Razor, Json, Csv };

struct ProfileExportFormat {
  ProfileExport format;
  std::string title;      // "DuoAttention (directory)"
  std::string filter;     // the file dialog's filter; empty: a directory
  std::string file_name;  // the suggested name
  bool from_plan = false; // also written from a mask plan
};
const std::vector<ProfileExportFormat>& profile_export_formats();

// `run` of the store at `database`; its model's shape from the config.json where the store
// last saw the model, else from `model_dir` (the open model). attnscope::Error naming what
// is missing (a metric the format needs, the model's config.json) or wrong.
void export_stored_run(const std::filesystem::path& database, store::RunId run, ProfileExport format,
                       const std::filesystem::path& out, const std::optional<std::filesystem::path>& model_dir);

// The plan in the formats that describe plans (Duo, MoA, MInference) for the model in
// `model_dir`; attnscope::Error for another format or a plan they cannot express.
void export_plan(const masks::MaskPlan& plan, ProfileExport format, const std::filesystem::path& model_dir,
                 const std::filesystem::path& out);

}  // namespace attnscope::gui
