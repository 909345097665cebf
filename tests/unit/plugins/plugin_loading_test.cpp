// Loading plugins: dlopen, the entry point, the ABI check and the descriptor read back.
#include <catch2/catch.hpp>

#include "kernels/error.h"
#include "plugins/host/plugin_library.h"
#include "tests/unit/plugins/plugin_test_support.h"

using attnscope::plugins::ParamType;
using attnscope::plugins::PluginLibrary;
using attnscope::testing::test_plugin;
using Catch::Contains;

TEST_CASE("the minimal test plugin loads with its jobs and typed parameters", "[plugins]") {
  const auto library = PluginLibrary::load(test_plugin("minimal_plugin"));
  const auto& info = library->info();
  CHECK(info.name == "minimal");
  CHECK(info.version == "1.0.0");
  CHECK(info.abi_version == ATTNSCOPE_PLUGIN_ABI_VERSION);
  REQUIRE(info.jobs.size() == 3);
  CHECK(info.jobs[0].name == "echo");
  CHECK(info.jobs[1].name == "fail");
  const auto* echo = info.find_job("echo");
  REQUIRE(echo != nullptr);
  REQUIRE(echo->parameters.size() == 7);
  const auto* lengths = echo->find_parameter("lengths");
  REQUIRE(lengths != nullptr);
  CHECK(lengths->type == ParamType::List);
  CHECK(lengths->element_type == ParamType::Int);
  CHECK(lengths->type_text() == "list of int");
  CHECK(lengths->default_text == "256,1k");
  CHECK_FALSE(echo->find_parameter("name")->default_text.has_value());  // required
}

TEST_CASE("a plugin built for another ABI version is refused naming both versions", "[plugins]") {
  const auto path = test_plugin("wrong_abi_plugin");
  REQUIRE_THROWS_WITH(PluginLibrary::load(path),
                      Contains(path.string()) &&
                          Contains("built for plugin ABI version " + std::to_string(ATTNSCOPE_PLUGIN_ABI_VERSION + 41)) &&
                          Contains("this host has ABI version " + std::to_string(ATTNSCOPE_PLUGIN_ABI_VERSION)));
}

TEST_CASE("a library without the entry symbol is refused naming the file, the symbol and dlerror", "[plugins]") {
  const auto path = test_plugin("no_entry_plugin");
  REQUIRE_THROWS_WITH(PluginLibrary::load(path), Contains(path.string()) && Contains("exports no attnscope_plugin_entry") &&
                                                     Contains("undefined symbol"));
}

TEST_CASE("a file that is not a shared library is refused with dlopen's message", "[plugins]") {
  attnscope::testing::TempDir dir;
  attnscope::testing::write_bytes(dir / "text.so", "not an ELF file\n");
  REQUIRE_THROWS_WITH(PluginLibrary::load(dir / "text.so"),
                      Contains((dir / "text.so").string()) && Contains("cannot load the plugin"));
}
