#pragma once
// Where the bundled sample model is: $ATTNSCOPE_SAMPLE_DIR, the installed share folder
// next to the program (<prefix>/bin/attnscope -> <prefix>/share/attnscope/sample_data),
// or the source tree it was built from (as attnscope-cli looks for it).
#include <filesystem>
#include <optional>
#include <vector>

namespace attnscope::gui {

// The running program's folder (QCoreApplication::applicationDirPath).
std::filesystem::path program_directory();

// The folders searched for sample_data, in order.
std::vector<std::filesystem::path> sample_data_candidates(const std::filesystem::path& program_dir);

// The first candidate's sample-llama/ holding a config.json; std::nullopt when none does.
std::optional<std::filesystem::path> find_sample_model(const std::filesystem::path& program_dir);

// The sample_data folder of the model found (for prompts/), when there is one.
std::optional<std::filesystem::path> find_sample_data(const std::filesystem::path& program_dir);

}  // namespace attnscope::gui
