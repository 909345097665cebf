#include "app/gui/sample_model.h"

#include <QCoreApplication>
#include <cstdlib>

namespace attnscope::gui {
namespace {

// The small trained Llama of sample_data/ (its model card: sample_data/README.md).
constexpr const char* kSampleModel = "sample-llama";

}  // namespace

std::filesystem::path program_directory() { return QCoreApplication::applicationDirPath().toStdString(); }

std::vector<std::filesystem::path> sample_data_candidates(const std::filesystem::path& program_dir) {
  std::vector<std::filesystem::path> out;
  if (const char* env = std::getenv("ATTNSCOPE_SAMPLE_DIR"); env && *env) out.emplace_back(env);
  out.push_back(program_dir.parent_path() / "share" / "attnscope" / "sample_data");
  out.emplace_back(ATTNSCOPE_SOURCE_SAMPLE_DIR);
  return out;
}

std::optional<std::filesystem::path> find_sample_data(const std::filesystem::path& program_dir) {
  std::error_code ec;
  for (const auto& dir : sample_data_candidates(program_dir))
    if (std::filesystem::exists(dir / kSampleModel / "config.json", ec)) return dir;
  return std::nullopt;
}

std::optional<std::filesystem::path> find_sample_model(const std::filesystem::path& program_dir) {
  if (auto dir = find_sample_data(program_dir)) return *dir / kSampleModel;
  return std::nullopt;
}

}  // namespace attnscope::gui
