// What the writer writes, the reader reads back: values, dtypes, shapes, metadata.
#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "analysis/io/safetensors.h"
#include "kernels/error.h"
#include "tests/unit/io/test_files.h"

using attnscope::io::SafetensorsFile;
using attnscope::io::SafetensorsWriter;
using attnscope::kernels::DType;
using Catch::Contains;
namespace k = attnscope::kernels;
namespace t = attnscope::testing;

namespace {

std::vector<float> awkward_values() {
  // Exact values, values that must round, a subnormal, signed zero and extremes.
  return {0.0f, -0.0f, 1.0f, -2.5f, 3.14159265f, 1.0f / 3.0f, 65504.0f, -1e-7f, 1e-40f, 70000.0f,
          std::numeric_limits<float>::infinity(), 123456.789f};
}

float through(float v, DType stored) {
  switch (stored) {
    case DType::F32: return v;
    case DType::F16: return k::f16_to_f32(k::f32_to_f16(v));
    case DType::BF16: return k::bf16_to_f32(k::f32_to_bf16(v));
  }
  return v;
}

bool same_bits(float a, float b) { return std::memcmp(&a, &b, 4) == 0; }

}  // namespace

TEST_CASE("F32, F16 and BF16 tensors round-trip to their converted values", "[safetensors][roundtrip]") {
  t::TempDir dir;
  const auto path = dir / "values.safetensors";
  const std::vector<float> values = awkward_values();
  SafetensorsWriter writer;
  writer.add("f32", {3, 4}, values, DType::F32);
  writer.add("f16", {12}, values, DType::F16);
  writer.add("bf16", {2, 2, 3}, values, DType::BF16);
  writer.write(path);

  const auto file = SafetensorsFile::open(path);
  REQUIRE(file.tensors().size() == 3);
  for (const DType stored : {DType::F32, DType::F16, DType::BF16}) {
    const std::string name = stored == DType::F32 ? "f32" : stored == DType::F16 ? "f16" : "bf16";
    INFO(name);
    const auto* entry = file.find(name);
    REQUIRE(entry != nullptr);
    CHECK(entry->dtype == stored);
    CHECK(entry->dtype_name == std::string(k::dtype_name(stored)));
    const std::vector<float> back = file.read_f32(name);
    REQUIRE(back.size() == values.size());
    for (std::size_t i = 0; i < values.size(); ++i) {
      INFO("element " << i << " = " << values[i]);
      CHECK(same_bits(back[i], through(values[i], stored)));
    }
  }
  CHECK(file.find("f16")->shape == std::vector<int64_t>{12});
  CHECK(file.find("bf16")->shape == std::vector<int64_t>{2, 2, 3});
  // F16 rounding really happened: 70000 is beyond half precision.
  CHECK(std::isinf(file.read_f32("f16")[9]));
}

TEST_CASE("views fold shapes into rows and columns and point into the mapping", "[safetensors][roundtrip]") {
  t::TempDir dir;
  const auto path = dir / "shapes.safetensors";
  const std::vector<float> scalar = {7.0f}, vector = {1, 2, 3}, matrix = {1, 2, 3, 4, 5, 6}, cube(24, 0.5f);
  SafetensorsWriter writer;
  writer.add("scalar", {}, scalar);
  writer.add("vector", {3}, vector);
  writer.add("matrix", {2, 3}, matrix, DType::BF16);
  writer.add("cube", {2, 3, 4}, cube);
  writer.add("empty", {0, 5}, std::span<const float>());
  writer.write(path);

  const auto file = SafetensorsFile::open(path);
  const auto s = file.view("scalar");
  CHECK((s.rows == 1 && s.cols == 1));
  const auto v = file.view("vector");
  CHECK((v.rows == 1 && v.cols == 3 && v.dtype == DType::F32 && !v.transposed));
  const auto m = file.view("matrix");
  CHECK((m.rows == 2 && m.cols == 3 && m.dtype == DType::BF16));
  uint16_t first;
  std::memcpy(&first, m.data, 2);
  CHECK(k::bf16_to_f32(first) == 1.0f);
  const auto c = file.view("cube");
  CHECK((c.rows == 6 && c.cols == 4));
  const auto e = file.view("empty");
  CHECK((e.rows == 0 && e.cols == 5));
  CHECK(file.find("empty")->elements() == 0);
}

TEST_CASE("metadata round-trips and tensors can outlive the file object", "[safetensors][roundtrip]") {
  t::TempDir dir;
  const auto path = dir / "capture.safetensors";
  std::map<std::string, attnscope::io::FloatTensor> tensors;
  tensors["attention.0"] = {{2, 2}, {0.25f, 0.75f, 1.0f, 0.0f}};
  tensors["entropy"] = {{2}, {0.5f, 0.0f}};
  attnscope::io::write_safetensors(path, tensors, {{"model", "llama"}, {"prompt", "héllo \"quoted\"\n"}});

  k::HostTensorView view;
  std::shared_ptr<const void> keep;
  {
    const auto file = SafetensorsFile::open(path);
    CHECK(file.metadata().size() == 2);
    CHECK(file.metadata().at("model") == "llama");
    CHECK(file.metadata().at("prompt") == "héllo \"quoted\"\n");
    CHECK(file.read_f32("attention.0") == tensors["attention.0"].values);
    view = file.view("entropy");
    keep = file.keep_alive();
  }
  float first;
  std::memcpy(&first, view.data, 4);
  CHECK(first == 0.5f);
}

TEST_CASE("written files use the layout Python's safetensors writes", "[safetensors][roundtrip]") {
  t::TempDir dir;
  const auto path = dir / "layout.safetensors";
  const std::vector<float> three = {1, 2, 3};
  const std::vector<int8_t> bytes = {1, 2, 3};
  SafetensorsWriter writer;
  writer.add("z_half", {3}, three, DType::F16);
  writer.add("a_byte", {3}, std::span<const float>(three), DType::F32);
  writer.add_raw("m_int8", "I8", {3}, std::as_bytes(std::span(bytes)));
  writer.write(path);

  const std::string raw = t::read_bytes(path);
  uint64_t header_bytes;
  std::memcpy(&header_bytes, raw.data(), 8);
  CHECK(header_bytes % 8 == 0);  // data region aligned
  const auto header = nlohmann::json::parse(raw.substr(8, header_bytes));
  // Contiguous from 0, widest dtype first, and the file ends with the last tensor.
  CHECK(header["a_byte"]["data_offsets"] == nlohmann::json({0, 12}));
  CHECK(header["z_half"]["data_offsets"] == nlohmann::json({12, 18}));
  CHECK(header["m_int8"]["data_offsets"] == nlohmann::json({18, 21}));
  CHECK(raw.size() == 8 + header_bytes + 21);
  CHECK_FALSE(header.contains("__metadata__"));
}

TEST_CASE("the writer refuses inconsistent tensors and unwritable paths", "[safetensors][writer]") {
  t::TempDir dir;
  const std::vector<float> two = {1, 2};
  SafetensorsWriter writer;
  REQUIRE_THROWS_WITH(writer.add("w", {3}, two), Contains("tensor w") && Contains("has 3 elements but 2 values"));
  REQUIRE_THROWS_WITH(writer.add("w", {-2}, two), Contains("negative dimension"));
  REQUIRE_THROWS_WITH(writer.add("__metadata__", {2}, two), Contains("reserved"));
  REQUIRE_THROWS_WITH(writer.add_raw("r", "Q4", {2}, std::as_bytes(std::span(two))), Contains("unknown dtype \"Q4\""));
  REQUIRE_THROWS_WITH(writer.add_raw("r", "I32", {3}, std::as_bytes(std::span(two))), Contains("does not match the 8 bytes"));
  writer.add("w", {2}, two);
  REQUIRE_THROWS_WITH(writer.add("w", {2}, two), Contains("tensor w") && Contains("added twice"));

  const auto nowhere = dir / "no-such-dir" / "out.safetensors";
  REQUIRE_THROWS_WITH(writer.write(nowhere), Contains(nowhere.string()) && Contains("cannot create"));
  CHECK_FALSE(std::filesystem::exists(nowhere));
}

TEST_CASE("a rewrite replaces the file whole", "[safetensors][writer]") {
  t::TempDir dir;
  const auto path = dir / "again.safetensors";
  const std::vector<float> a = {1, 2, 3, 4}, b = {9};
  SafetensorsWriter first;
  first.add("a", {4}, a);
  first.write(path);
  SafetensorsWriter second;
  second.add("b", {1}, b);
  second.write(path);
  const auto file = SafetensorsFile::open(path);
  REQUIRE(file.tensors().size() == 1);
  CHECK(file.read_f32("b") == b);
  // No temporary files are left behind.
  CHECK(std::distance(std::filesystem::directory_iterator(dir.path()), std::filesystem::directory_iterator()) == 1);
}

TEST_CASE("files written by Python's safetensors are read", "[safetensors][reference]") {
  const std::filesystem::path path = std::filesystem::path(ATTNSCOPE_TEST_DATA_DIR) / "reference/fixtures/gpt2/reference.safetensors";
  REQUIRE(std::filesystem::exists(path));  // committed with the tests
  const auto file = SafetensorsFile::open(path);
  const auto* logits = file.find("logits");
  REQUIRE(logits != nullptr);
  CHECK(logits->dtype == DType::F32);
  CHECK(logits->shape.size() == 2);
  const std::vector<float> values = file.read_f32("logits");
  CHECK(std::all_of(values.begin(), values.end(), [](float x) { return std::isfinite(x); }));
}
