// Every way a safetensors file can be broken is refused on open, with the file, the
// tensor where it applies, and the problem in the message.
#include <catch2/catch.hpp>

#include "analysis/io/safetensors.h"
#include "kernels/error.h"
#include "tests/unit/io/test_files.h"

using attnscope::io::SafetensorsFile;
using Catch::Contains;
namespace t = attnscope::testing;

namespace {

// Writes `bytes` to a file in `dir` and returns the error message of opening it.
std::filesystem::path make(const t::TempDir& dir, const std::string& bytes, const std::string& name = "broken.safetensors") {
  const auto path = dir / name;
  t::write_bytes(path, bytes);
  return path;
}

std::string header_with(const std::string& entry) { return "{\"w\": " + entry + "}"; }

}  // namespace

TEST_CASE("a missing file is refused with its path", "[safetensors][errors]") {
  t::TempDir dir;
  const auto path = dir / "absent.safetensors";
  REQUIRE_THROWS_WITH(SafetensorsFile::open(path), Contains(path.string()) && Contains("cannot open"));
}

TEST_CASE("a file shorter than the length prefix is refused", "[safetensors][errors]") {
  t::TempDir dir;
  const auto path = make(dir, "abc");
  REQUIRE_THROWS_WITH(SafetensorsFile::open(path), Contains(path.string()) && Contains("too short") && Contains("3 bytes"));
  const auto empty = make(dir, "", "empty.safetensors");
  REQUIRE_THROWS_WITH(SafetensorsFile::open(empty), Contains(empty.string()) && Contains("too short"));
}

TEST_CASE("a header length beyond the file is refused", "[safetensors][errors]") {
  t::TempDir dir;
  const auto path = make(dir, t::length_prefix(500) + "{}");
  REQUIRE_THROWS_WITH(SafetensorsFile::open(path),
                      Contains(path.string()) && Contains("header length 500 runs past the end of the file"));
}

TEST_CASE("an absurd header length is refused before anything is read", "[safetensors][errors]") {
  t::TempDir dir;
  const auto path = make(dir, t::length_prefix(uint64_t(1) << 40) + "{}");
  REQUIRE_THROWS_WITH(SafetensorsFile::open(path), Contains(path.string()) && Contains("absurdly large"));
  const auto max = make(dir, t::length_prefix(~uint64_t(0)) + "{}", "max.safetensors");
  REQUIRE_THROWS_WITH(SafetensorsFile::open(max), Contains("absurdly large"));
}

TEST_CASE("a header that is not JSON or not an object is refused", "[safetensors][errors]") {
  t::TempDir dir;
  const auto garbage = make(dir, t::raw_safetensors("{\"w\": {", 0), "garbage.safetensors");
  REQUIRE_THROWS_WITH(SafetensorsFile::open(garbage), Contains(garbage.string()) && Contains("header is not valid JSON"));
  const auto binary = make(dir, t::raw_safetensors(std::string("\x89PNG\r\n\x1a\n", 8), 0), "binary.safetensors");
  REQUIRE_THROWS_WITH(SafetensorsFile::open(binary), Contains("not valid JSON"));
  const auto list = make(dir, t::raw_safetensors("[1, 2]", 0), "list.safetensors");
  REQUIRE_THROWS_WITH(SafetensorsFile::open(list), Contains(list.string()) && Contains("a list, not a JSON object"));
}

TEST_CASE("an entry without dtype, shape or data_offsets is refused", "[safetensors][errors]") {
  t::TempDir dir;
  const auto no_dtype = make(dir, t::raw_safetensors(header_with(R"({"shape": [1], "data_offsets": [0, 4]})"), 4), "a.safetensors");
  REQUIRE_THROWS_WITH(SafetensorsFile::open(no_dtype),
                      Contains(no_dtype.string() + ": tensor w") && Contains("has no \"dtype\""));
  const auto no_shape = make(dir, t::raw_safetensors(header_with(R"({"dtype": "F32", "data_offsets": [0, 4]})"), 4), "b.safetensors");
  REQUIRE_THROWS_WITH(SafetensorsFile::open(no_shape), Contains(no_shape.string() + ": tensor w") && Contains("has no \"shape\""));
  const auto no_offsets = make(dir, t::raw_safetensors(header_with(R"({"dtype": "F32", "shape": [1]})"), 4), "c.safetensors");
  REQUIRE_THROWS_WITH(SafetensorsFile::open(no_offsets),
                      Contains(no_offsets.string() + ": tensor w") && Contains("has no \"data_offsets\""));
  const auto not_object = make(dir, t::raw_safetensors(header_with("[1, 2]"), 0), "d.safetensors");
  REQUIRE_THROWS_WITH(SafetensorsFile::open(not_object), Contains(": tensor w") && Contains("not an object"));
}

TEST_CASE("entries of the wrong JSON types are refused", "[safetensors][errors]") {
  t::TempDir dir;
  const auto dtype_number = make(dir, t::raw_safetensors(header_with(R"({"dtype": 7, "shape": [1], "data_offsets": [0, 4]})"), 4), "a.safetensors");
  REQUIRE_THROWS_WITH(SafetensorsFile::open(dtype_number), Contains(": tensor w") && Contains("dtype is an integer, not a string"));
  const auto shape_text = make(dir, t::raw_safetensors(header_with(R"({"dtype": "F32", "shape": "1", "data_offsets": [0, 4]})"), 4), "b.safetensors");
  REQUIRE_THROWS_WITH(SafetensorsFile::open(shape_text), Contains(": tensor w") && Contains("not a list of sizes"));
  const auto shape_float = make(dir, t::raw_safetensors(header_with(R"({"dtype": "F32", "shape": [1.5], "data_offsets": [0, 4]})"), 4), "c.safetensors");
  REQUIRE_THROWS_WITH(SafetensorsFile::open(shape_float), Contains(": tensor w") && Contains("not a size"));
  const auto offsets_one = make(dir, t::raw_safetensors(header_with(R"({"dtype": "F32", "shape": [1], "data_offsets": [4]})"), 4), "d.safetensors");
  REQUIRE_THROWS_WITH(SafetensorsFile::open(offsets_one), Contains(": tensor w") && Contains("not a [begin, end] pair"));
  const auto offsets_negative = make(dir, t::raw_safetensors(header_with(R"({"dtype": "F32", "shape": [1], "data_offsets": [-4, 0]})"), 4), "e.safetensors");
  REQUIRE_THROWS_WITH(SafetensorsFile::open(offsets_negative), Contains(": tensor w") && Contains("byte offsets >= 0"));
}

TEST_CASE("an unknown dtype is refused", "[safetensors][errors]") {
  t::TempDir dir;
  const auto path = make(dir, t::raw_safetensors(header_with(R"({"dtype": "Q4_K", "shape": [2], "data_offsets": [0, 1]})"), 1));
  REQUIRE_THROWS_WITH(SafetensorsFile::open(path),
                      Contains(path.string() + ": tensor w") && Contains("unknown dtype \"Q4_K\""));
}

TEST_CASE("a negative dimension or an element count that overflows is refused", "[safetensors][errors]") {
  t::TempDir dir;
  const auto negative = make(dir, t::raw_safetensors(header_with(R"({"dtype": "F32", "shape": [2, -1], "data_offsets": [0, 8]})"), 8), "a.safetensors");
  REQUIRE_THROWS_WITH(SafetensorsFile::open(negative), Contains(negative.string() + ": tensor w") && Contains("negative dimension"));
  const auto overflow = make(dir, t::raw_safetensors(
      header_with(R"({"dtype": "F32", "shape": [4294967296, 4294967296, 16], "data_offsets": [0, 0]})"), 0), "b.safetensors");
  REQUIRE_THROWS_WITH(SafetensorsFile::open(overflow), Contains(": tensor w") && Contains("more elements than can be addressed"));
  // Elements fit, bytes do not.
  const auto bytes = make(dir, t::raw_safetensors(
      header_with(R"({"dtype": "F64", "shape": [4611686018427387904], "data_offsets": [0, 0]})"), 0), "c.safetensors");
  REQUIRE_THROWS_WITH(SafetensorsFile::open(bytes), Contains(": tensor w") && Contains("more than 2^64"));
}

TEST_CASE("offsets that end before they begin or leave the data region are refused", "[safetensors][errors]") {
  t::TempDir dir;
  const auto reversed = make(dir, t::raw_safetensors(header_with(R"({"dtype": "F32", "shape": [1], "data_offsets": [8, 4]})"), 8), "a.safetensors");
  REQUIRE_THROWS_WITH(SafetensorsFile::open(reversed), Contains(reversed.string() + ": tensor w") && Contains("end before they begin"));
  const auto outside = make(dir, t::raw_safetensors(header_with(R"({"dtype": "F32", "shape": [4], "data_offsets": [0, 16]})"), 12), "b.safetensors");
  REQUIRE_THROWS_WITH(SafetensorsFile::open(outside),
                      Contains(outside.string() + ": tensor w") && Contains("run past the end of the data region (12 bytes)"));
}

TEST_CASE("a byte range that does not match shape and dtype is refused", "[safetensors][errors]") {
  t::TempDir dir;
  const auto path = make(dir, t::raw_safetensors(header_with(R"({"dtype": "BF16", "shape": [3], "data_offsets": [0, 4]})"), 4));
  REQUIRE_THROWS_WITH(SafetensorsFile::open(path),
                      Contains(path.string() + ": tensor w") && Contains("holds 4 bytes but shape [3] of BF16 needs 6 bytes"));
}

TEST_CASE("overlapping tensors are refused", "[safetensors][errors]") {
  t::TempDir dir;
  const auto path = make(dir, t::raw_safetensors(
      R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})", 12));
  REQUIRE_THROWS_WITH(SafetensorsFile::open(path),
                      Contains(path.string() + ": tensor b") && Contains("overlap those of tensor a"));
  // A tensor nested inside a longer one is caught too.
  const auto nested = make(dir, t::raw_safetensors(
      R"({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}, "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}, "c": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}})", 16), "nested.safetensors");
  REQUIRE_THROWS_WITH(SafetensorsFile::open(nested), Contains("overlap those of tensor a"));
}

TEST_CASE("a tensor listed twice in the header is refused", "[safetensors][errors]") {
  t::TempDir dir;
  const auto path = make(dir, t::raw_safetensors(
      R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "w": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})", 8));
  REQUIRE_THROWS_WITH(SafetensorsFile::open(path), Contains(path.string() + ": tensor w") && Contains("listed twice"));
}

TEST_CASE("malformed __metadata__ is refused", "[safetensors][errors]") {
  t::TempDir dir;
  const auto list = make(dir, t::raw_safetensors(R"({"__metadata__": [1]})", 0), "a.safetensors");
  REQUIRE_THROWS_WITH(SafetensorsFile::open(list), Contains(list.string()) && Contains("__metadata__ is a list"));
  const auto number = make(dir, t::raw_safetensors(R"({"__metadata__": {"format": 1}})", 0), "b.safetensors");
  REQUIRE_THROWS_WITH(SafetensorsFile::open(number), Contains("__metadata__ entry \"format\" is an integer, not a string"));
}

TEST_CASE("a truncated download is refused naming the tensor that no longer fits", "[safetensors][errors]") {
  t::TempDir dir;
  const auto path = dir / "model.safetensors";
  const std::vector<float> a(16, 1.0f), b(16, 2.0f);
  attnscope::io::SafetensorsWriter writer;
  writer.add("a", {16}, a);
  writer.add("b", {4, 4}, b);
  writer.write(path);
  std::string bytes = t::read_bytes(path);
  bytes.resize(bytes.size() - 10);
  t::write_bytes(path, bytes);
  REQUIRE_THROWS_WITH(SafetensorsFile::open(path), Contains(path.string() + ": tensor b") && Contains("truncated"));
}

TEST_CASE("non-float tensors are listed but not handed out as floats", "[safetensors]") {
  t::TempDir dir;
  const auto path = dir / "mixed.safetensors";
  const std::vector<int64_t> ids = {0, 1, 2};
  const std::vector<float> w = {1, 2};
  attnscope::io::SafetensorsWriter writer;
  writer.add_raw("position_ids", "I64", {3}, std::as_bytes(std::span(ids)));
  writer.add("w", {2}, w);
  writer.write(path);

  const auto file = SafetensorsFile::open(path);
  REQUIRE(file.tensors().size() == 2);
  const auto* entry = file.find("position_ids");
  REQUIRE(entry != nullptr);
  CHECK(entry->dtype_name == "I64");
  CHECK_FALSE(entry->dtype.has_value());
  CHECK(file.bytes("position_ids").size() == 24);
  REQUIRE_THROWS_WITH(file.view("position_ids"),
                      Contains(path.string() + ": tensor position_ids") && Contains("stored as I64"));
  REQUIRE_THROWS_WITH(file.read_f32("position_ids"), Contains("stored as I64"));
  REQUIRE_THROWS_WITH(file.view("absent"), Contains(path.string() + ": tensor absent") && Contains("not in this file"));
}

TEST_CASE("errors carry where and problem separately", "[safetensors][errors]") {
  t::TempDir dir;
  const auto path = make(dir, t::raw_safetensors(header_with(R"({"dtype": "F32", "shape": [-1], "data_offsets": [0, 0]})"), 0));
  try {
    SafetensorsFile::open(path);
    FAIL("expected an error");
  } catch (const attnscope::Error& e) {
    CHECK(e.where() == path.string() + ": tensor w");
    CHECK_THAT(e.problem(), Contains("negative dimension"));
  }
}
