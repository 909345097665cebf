// Discovery: the folders searched, refused folders and files, and a name found twice.
#include <stdlib.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "plugins/host/plugin_catalog.h"
#include "tests/unit/plugins/plugin_test_support.h"

using attnscope::plugins::PluginCatalog;
using attnscope::testing::PluginFolderCopy;
using attnscope::testing::test_plugin;
using Catch::Contains;

namespace {

bool any_contains(const std::vector<std::string>& lines, const std::string& part) {
  for (const auto& l : lines)
    if (l.find(part) != std::string::npos) return true;
  return false;
}

// Sets an environment variable for one test, restoring it after.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = getenv(name)) old_ = old;
    setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_) setenv(name_, old_->c_str(), 1);
    else unsetenv(name_);
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

}  // namespace

TEST_CASE("a folder's plugins are found and invalid files in it are warnings", "[plugins]") {
  PluginFolderCopy folder{test_plugin("minimal_plugin"), test_plugin("wrong_abi_plugin"), test_plugin("no_entry_plugin")};
  const auto catalog = PluginCatalog::discover({folder.folder()});
  REQUIRE(catalog.plugins().size() == 1);
  CHECK(catalog.plugins()[0]->info().name == "minimal");
  CHECK(catalog.warnings().size() == 2);
  CHECK(any_contains(catalog.warnings(), "wrong_abi_plugin.so: the plugin was built for plugin ABI version"));
  CHECK(any_contains(catalog.warnings(), "no_entry_plugin.so: not an AttnScope plugin"));
  const auto ref = catalog.find_job("minimal.echo");
  CHECK(ref.qualified_name() == "minimal.echo");
  REQUIRE_THROWS_WITH(catalog.find_job("minimal.nope"), Contains("has no job 'nope' (its jobs: echo, fail, wrong-type)"));
  REQUIRE_THROWS_WITH(catalog.find_job("other.echo"),
                      Contains("no plugin named 'other' (found: minimal; searched: " + folder.path().string()));
  REQUIRE_THROWS_WITH(catalog.find_job("minimal"), Contains("name a job as PLUGIN.JOB"));
}

TEST_CASE("a folder writable by other users is refused with a warning", "[plugins]") {
  PluginFolderCopy folder{test_plugin("minimal_plugin")};
  std::filesystem::permissions(folder.path(), std::filesystem::perms(0777));
  const auto catalog = PluginCatalog::discover({folder.folder()});
  CHECK(catalog.plugins().empty());
  REQUIRE(catalog.warnings().size() == 1);
  CHECK_THAT(catalog.warnings()[0], Contains(folder.path().string()) && Contains("is not used") &&
                                        Contains("writable by all users (mode 0777)"));
}

TEST_CASE("a plugin file writable by its group is not loaded", "[plugins]") {
  PluginFolderCopy folder{test_plugin("minimal_plugin")};
  std::filesystem::permissions(folder.path() / "minimal_plugin.so", std::filesystem::perms(0775));
  const auto catalog = PluginCatalog::discover({folder.folder()});
  CHECK(catalog.plugins().empty());
  REQUIRE(catalog.warnings().size() == 1);
  CHECK_THAT(catalog.warnings()[0], Contains("minimal_plugin.so is not loaded") && Contains("writable by its group"));
}

TEST_CASE("of two plugins with one name the first found wins with a warning", "[plugins]") {
  PluginFolderCopy first{test_plugin("minimal_plugin")};
  PluginFolderCopy second{};
  second.add(test_plugin("minimal_plugin"), "renamed.so");
  const auto catalog = PluginCatalog::discover({first.folder(), second.folder()});
  REQUIRE(catalog.plugins().size() == 1);
  CHECK(catalog.plugins()[0]->info().path == first.path() / "minimal_plugin.so");
  REQUIRE(catalog.warnings().size() == 1);
  CHECK_THAT(catalog.warnings()[0], Contains("plugin 'minimal' of " + (second.path() / "renamed.so").string()) &&
                                        Contains("is ignored") && Contains("found first"));
}

TEST_CASE("the search path is the app's folder, the user's folder, then ATTNSCOPE_PLUGIN_PATH", "[plugins]") {
  attnscope::testing::TempDir root;
  std::filesystem::create_directories(root / "prefix/bin");
  std::filesystem::create_directories(root / "prefix/lib/attnscope/plugins");
  std::filesystem::create_directories(root / "data/attnscope/plugins");
  std::filesystem::create_directories(root / "extra");
  const ScopedEnv xdg("XDG_DATA_HOME", (root / "data").string());
  const ScopedEnv path("ATTNSCOPE_PLUGIN_PATH", (root / "extra").string() + ":relative/dir::" +
                                                    (root / "missing").string() + ":" + (root / "extra").string());
  std::vector<std::string> warnings;
  const auto folders = attnscope::plugins::plugin_search_path(root / "prefix/bin/attnscope-cli", warnings);
  REQUIRE(folders.size() == 3);
  CHECK(folders[0].path == root / "prefix/lib/attnscope/plugins");
  CHECK(folders[0].origin == "app");
  CHECK(folders[1].path == root / "data/attnscope/plugins");
  CHECK(folders[1].origin == "user");
  CHECK(folders[2].path == root / "extra");  // listed twice, searched once
  CHECK(folders[2].origin == "ATTNSCOPE_PLUGIN_PATH");
  REQUIRE(warnings.size() == 2);
  CHECK_THAT(warnings[0], Contains("'relative/dir' is not an absolute path"));
  CHECK_THAT(warnings[1], Contains("missing is not a folder"));
}

TEST_CASE("without XDG_DATA_HOME the user's folder is under HOME/.local/share", "[plugins]") {
  const ScopedEnv xdg("XDG_DATA_HOME", "");
  const ScopedEnv home("HOME", "/home/someone");
  CHECK(attnscope::plugins::user_plugin_folder() == std::filesystem::path("/home/someone/.local/share/attnscope/plugins"));
}
