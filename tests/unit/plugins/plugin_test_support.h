#pragma once
// Where the test plugins (tests/plugins) and the project's plugins were built, and a
// private folder holding copies of some of them, so that a test controls what a
// discovery finds.
#include <filesystem>
#include <initializer_list>
#include <string>

#include "plugins/host/plugin_folders.h"
#include "tests/unit/io/test_files.h"

namespace attnscope::testing {

inline std::filesystem::path test_plugin(const std::string& name) {
  return std::filesystem::path(ATTNSCOPE_TEST_PLUGIN_DIR) / (name + ".so");
}

inline std::filesystem::path example_plugin() {
  return std::filesystem::path(ATTNSCOPE_BUILD_PLUGIN_DIR) / "sink-profile.so";
}

// A fresh folder (mode 0700: only its owner writes it) with copies of `files`.
class PluginFolderCopy {
 public:
  explicit PluginFolderCopy(std::initializer_list<std::filesystem::path> files) {
    for (const auto& f : files) add(f);
  }
  void add(const std::filesystem::path& file, const std::string& as = "") {
    const auto target = dir_.path() / (as.empty() ? file.filename().string() : as);
    std::filesystem::copy_file(file, target, std::filesystem::copy_options::overwrite_existing);
    std::filesystem::permissions(target, std::filesystem::perms(0755));
  }
  const std::filesystem::path& path() const { return dir_.path(); }
  plugins::PluginFolder folder(const std::string& origin = "test") const { return {dir_.path(), origin}; }

 private:
  TempDir dir_;
};

}  // namespace attnscope::testing
