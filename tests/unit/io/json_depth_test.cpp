// JSON from files of untrusted origin nests at most kMaxJsonDepth levels: nlohmann's
// dump() and copies recurse once per level, so a config.json of a million '[' crashed the
// process (stack overflow) as soon as an error message quoted the value.
#include <catch2/catch.hpp>

#include <string>

#include "analysis/io/json_file.h"
#include "analysis/io/safetensors.h"
#include "kernels/error.h"
#include "tests/unit/io/test_files.h"

namespace io = attnscope::io;
namespace t = attnscope::testing;
using Catch::Contains;

namespace {

std::string nested(int depth) { return std::string(size_t(depth), '[') + std::string(size_t(depth), ']'); }

}  // namespace

TEST_CASE("JSON nested up to the limit parses and one level more is refused naming the source", "[io][json]") {
  CHECK(io::parse_json_text(nested(io::kMaxJsonDepth), "x.json").is_array());
  CHECK_THROWS_WITH(io::parse_json_text(nested(io::kMaxJsonDepth + 1), "x.json"),
                    Contains("x.json") && Contains("nested more than 128 levels deep"));
}

TEST_CASE("brackets inside JSON strings do not count as nesting", "[io][json]") {
  const std::string text = "{\"a\": \"" + std::string(1000, '[') + "\\\"[{\", \"b\": [1]}";
  CHECK(io::parse_json_text(text, "x.json")["b"][0] == 1);
}

TEST_CASE("a config.json of a million nested lists is an error naming the file, not a stack overflow", "[io][json]") {
  t::TempDir dir;
  t::write_bytes(dir / "config.json", "{\"hidden_size\": " + nested(1000000) + "}");
  CHECK_THROWS_WITH(io::read_json_file(dir / "config.json"),
                    Contains((dir / "config.json").string()) && Contains("nested more than 128 levels deep"));
}

TEST_CASE("a safetensors header of deeply nested lists is refused naming the file", "[io][json]") {
  const std::string header = "{\"x\": {\"dtype\": \"F32\", \"shape\": " + nested(100000) + ", \"data_offsets\": [0, 0]}}";
  const std::string file = t::raw_safetensors(header, 0);
  const std::vector<std::byte> bytes(reinterpret_cast<const std::byte*>(file.data()),
                                     reinterpret_cast<const std::byte*>(file.data()) + file.size());
  CHECK_THROWS_WITH(io::SafetensorsFile::from_bytes(bytes, "deep.safetensors"),
                    Contains("deep.safetensors: its header") && Contains("nested more than 128 levels deep"));
}
