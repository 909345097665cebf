// Capture files: what save_capture writes, load_capture reads back exactly; anything
// else (foreign files, other versions, missing, mis-typed or contradictory tensors) is
// refused with an error naming the file; a failed write leaves nothing behind.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>
#include <random>

#include "analysis/capture/capture_file.h"
#include "analysis/io/safetensors.h"
#include "kernels/error.h"

namespace {

using namespace attnscope;
using Catch::Contains;

model::ModelSpec two_layer_spec() {
  model::ModelSpec spec;
  spec.num_layers = 2;
  spec.num_heads = 4;
  spec.num_kv_heads = 2;
  spec.head_dim = 8;
  return spec;
}

// Feeds `rows` random softmax rows (under a sliding window when window > 0) to every head.
void fill(capture::Capture& capture, int64_t rows, int64_t window) {
  std::mt19937 rng(11);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  for (int layer = 0; layer < 2; ++layer) {
    kernels::AttentionCapture* per_layer = capture.for_layer(layer);
    if (per_layer == nullptr) continue;
    for (kernels::HeadAccumulator* acc : per_layer->heads) {
      if (acc == nullptr) continue;
      for (int64_t q = 0; q < rows; ++q) {
        const int64_t first = window > 0 ? std::max<int64_t>(0, q - window + 1) : 0;
        std::vector<float> p(size_t(q - first + 1));
        float total = 0;
        for (auto& v : p) total += (v = std::exp(normal(rng)));
        for (auto& v : p) v /= total;
        kernels::accumulate_attention_row(*acc, per_layer->options, q, p.data(), first);
      }
    }
  }
}

std::filesystem::path temp_path(const std::string& name) {
  return std::filesystem::temp_directory_path() / ("attnscope-capture-test-" + name);
}

// A small valid capture file at `path`: layer 0, head 1, six rows.
void save_small_capture(const std::filesystem::path& path) {
  capture::CaptureRequest request;
  request.layers = {0};
  request.heads = {1};
  capture::Capture capture(request, two_layer_spec());
  fill(capture, 6, 0);
  capture::save_capture(path, capture, {}, std::vector<int32_t>{1}, {});
}

// Copies the capture at `from` to `to`, letting `edit` change the metadata and replace
// tensors (name -> dtype, shape, bytes; an empty dtype drops the tensor).
struct Replacement {
  std::string dtype;
  std::vector<int64_t> shape;
  std::vector<std::byte> bytes;
};
void forge(const std::filesystem::path& from, const std::filesystem::path& to,
           const std::map<std::string, std::string>& metadata, const std::map<std::string, Replacement>& tensors) {
  const auto file = io::SafetensorsFile::open(from);
  io::SafetensorsWriter forged;
  for (const auto& [key, value] : file.metadata())
    forged.set_metadata(key, metadata.count(key) ? metadata.at(key) : value);
  std::vector<std::vector<std::byte>> keep;
  keep.reserve(file.tensors().size());
  for (const auto& e : file.tensors()) {
    const auto it = tensors.find(e.name);
    if (it == tensors.end()) {
      const auto bytes = file.bytes(e.name);
      forged.add_raw(e.name, e.dtype_name, e.shape, keep.emplace_back(bytes.begin(), bytes.end()));
    } else if (!it->second.dtype.empty()) {
      forged.add_raw(e.name, it->second.dtype, it->second.shape, it->second.bytes);
    }
  }
  forged.write(to);
}

template <typename T>
std::vector<std::byte> bytes_of(std::vector<T> values) {
  std::vector<std::byte> out(values.size() * sizeof(T));
  if (!out.empty()) std::memcpy(out.data(), values.data(), out.size());
  return out;
}

bool same(double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); }

}  // namespace

TEST_CASE("a saved capture loads back exactly", "[capture][file]") {
  const int64_t window = GENERATE(int64_t(0), int64_t(5));
  capture::CaptureRequest request;
  request.layers = {1};
  request.heads = {0, 3};
  request.options.pool_block = 4;
  request.options.sink_tokens = 2;
  request.options.local_window = 3;
  request.options.exact_probabilities = true;
  request.options.exact_limit = 7;  // fewer than the rows: exact maps stop there
  capture::Capture capture(request, two_layer_spec());
  fill(capture, 19, window);
  const auto path = temp_path("roundtrip.safetensors");
  const std::vector<int32_t> prompt = {5, 6, 7}, continuation = {8, 9};
  capture::save_capture(path, capture, {{"model", "somewhere"}}, prompt, continuation);

  const capture::CaptureFile loaded = capture::load_capture(path);
  CHECK(loaded.metadata.at("model") == "somewhere");
  CHECK(loaded.metadata.at("format") == "attnscope-capture");
  CHECK(loaded.metadata.at("format_version") == "1");
  CHECK_FALSE(loaded.metadata.at("tool_version").empty());
  CHECK(loaded.prompt_ids == prompt);
  CHECK(loaded.continuation_ids == continuation);
  CHECK(loaded.options.pool_block == 4);
  CHECK(loaded.options.sink_tokens == 2);
  CHECK(loaded.options.local_window == 3);
  CHECK(loaded.options.exact_probabilities);
  CHECK(loaded.options.exact_limit == 7);
  REQUIRE(loaded.heads.size() == capture.heads().size());
  for (size_t i = 0; i < loaded.heads.size(); ++i) {
    const auto& want = capture.heads()[i];
    const auto& got = loaded.heads[i];
    INFO("head " << want.layer << "." << want.head);
    CHECK(got.layer == want.layer);
    CHECK(got.head == want.head);
    CHECK(got.rows == want.rows);
    CHECK(got.sink_mass_sum == want.sink_mass_sum);
    CHECK(got.sink_rows == want.sink_rows);
    CHECK(got.local_mass_sum == want.local_mass_sum);
    CHECK(got.local_rows == want.local_rows);
    CHECK(got.entropy_sum == want.entropy_sum);
    CHECK(got.column_sums == want.column_sums);
    CHECK(got.diagonal_sums == want.diagonal_sums);
    CHECK(got.row_entropy == want.row_entropy);
    CHECK(got.top1 == want.top1);
    CHECK(got.positions == want.positions);
    CHECK(got.pooled.block == want.pooled.block);
    CHECK(got.pooled.sums == want.pooled.sums);
    CHECK(got.pooled.rows_in_block == want.pooled.rows_in_block);
    CHECK(got.exact_rows == 7);
    CHECK(got.exact == want.exact);
  }
  std::filesystem::remove(path);
}

TEST_CASE("a loaded capture summarises exactly as the live one", "[capture][file]") {
  capture::CaptureRequest request;
  request.options.sink_tokens = 3;
  request.options.local_window = 30;  // longer than the 12 rows: local mass is NaN
  capture::Capture capture(request, two_layer_spec());
  fill(capture, 12, 0);
  const auto path = temp_path("summaries.safetensors");
  capture::save_capture(path, capture, {}, std::vector<int32_t>{1, 2}, {});
  const capture::CaptureFile loaded = capture::load_capture(path);
  CHECK_FALSE(loaded.options.exact_probabilities);  // not asked for: saved as exact_limit 0
  CHECK(loaded.options.exact_limit == 0);
  const auto want = capture.summaries();
  const auto got = capture::summarize_heads(loaded.heads, loaded.options);
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    CHECK((got[i].layer == want[i].layer && got[i].head == want[i].head && got[i].rows == want[i].rows));
    CHECK(same(got[i].sink_mass, want[i].sink_mass));
    CHECK(std::isnan(got[i].local_mass));
    CHECK(same(got[i].entropy, want[i].entropy));
    CHECK(same(got[i].top1_sink_fraction, want[i].top1_sink_fraction));
    CHECK(same(got[i].top1_mean_distance, want[i].top1_mean_distance));
    CHECK(got[i].heaviest_key == want[i].heaviest_key);
    CHECK(same(got[i].heaviest_key_share, want[i].heaviest_key_share));
  }
  std::filesystem::remove(path);
}

TEST_CASE("files that are not captures, or of another version, are refused with the file's name", "[capture][file]") {
  const auto path = temp_path("not-a-capture.safetensors");
  io::write_safetensors(path, {{"x", io::FloatTensor{{2}, {1.0f, 2.0f}}}});
  CHECK_THROWS_WITH(capture::load_capture(path), Contains(path.string()) && Contains("not an AttnScope capture"));

  io::write_safetensors(path, {{"x", io::FloatTensor{{1}, {1.0f}}}},
                        {{"format", "attnscope-capture"}, {"format_version", "99"}});
  CHECK_THROWS_WITH(capture::load_capture(path), Contains("version 99"));

  io::write_safetensors(path, {{"x", io::FloatTensor{{1}, {1.0f}}}},
                        {{"format", "attnscope-capture"}, {"format_version", "1x"}});
  CHECK_THROWS_WITH(capture::load_capture(path), Contains("format_version") && Contains("'1x'"));
  std::filesystem::remove(path);
}

TEST_CASE("a capture with a missing, mis-typed or contradictory tensor is refused naming it", "[capture][file]") {
  const auto path = temp_path("valid.safetensors");
  const auto forged = temp_path("forged.safetensors");
  save_small_capture(path);
  REQUIRE_NOTHROW(capture::load_capture(path));

  SECTION("the head list names a head without tensors") {
    forge(path, forged, {{"heads", "[[0,1],[0,2]]"}}, {});
    CHECK_THROWS_WITH(capture::load_capture(forged),
                      Contains(forged.string()) && Contains("layer.0.head.2.sink_mass_sum") && Contains("missing"));
  }
  SECTION("the head list is not a list of pairs") {
    forge(path, forged, {{"heads", "[1, 2]"}}, {});
    CHECK_THROWS_WITH(capture::load_capture(forged), Contains("'heads'"));
  }
  SECTION("a tensor is missing") {
    forge(path, forged, {}, {{"layer.0.head.1.top1", {}}});
    CHECK_THROWS_WITH(capture::load_capture(forged), Contains("layer.0.head.1.top1 is missing"));
  }
  SECTION("a sum is stored as F32") {
    forge(path, forged, {}, {{"layer.0.head.1.column_sums", {"F32", {6}, bytes_of(std::vector<float>(6, 0.5f))}}});
    CHECK_THROWS_WITH(capture::load_capture(forged),
                      Contains("layer.0.head.1.column_sums") && Contains("is F32") && Contains("F64"));
  }
  SECTION("a per-row tensor has another length than the rows") {
    forge(path, forged, {}, {{"layer.0.head.1.positions", {"I64", {5}, bytes_of(std::vector<int64_t>(5, 0))}}});
    CHECK_THROWS_WITH(capture::load_capture(forged),
                      Contains("layer.0.head.1.positions") && Contains("shape [5], expected [6]"));
  }
  SECTION("a count exceeds the rows") {
    forge(path, forged, {}, {{"layer.0.head.1.counts", {"I64", {4}, bytes_of(std::vector<int64_t>{6, 7, 0, 0})}}});
    CHECK_THROWS_WITH(capture::load_capture(forged), Contains("layer.0.head.1.counts") && Contains("rows = 6"));
  }
  SECTION("the pooled rows do not add up to the rows") {
    forge(path, forged, {}, {{"layer.0.head.1.pooled_rows", {"I64", {1}, bytes_of(std::vector<int64_t>{5})}}});
    CHECK_THROWS_WITH(capture::load_capture(forged),
                      Contains("layer.0.head.1.pooled_rows") && Contains("counts 5 rows, the head has 6"));
  }
  SECTION("the pooled map is not square") {
    forge(path, forged, {}, {{"layer.0.head.1.pooled", {"F64", {1, 2}, bytes_of(std::vector<double>(2, 0.0))}}});
    CHECK_THROWS_WITH(capture::load_capture(forged), Contains("layer.0.head.1.pooled") && Contains("expected [1, 1]"));
  }
  std::filesystem::remove(path);
  std::filesystem::remove(forged);
}

TEST_CASE("metadata keys of the format itself cannot be overridden by the caller", "[capture][file]") {
  capture::Capture capture(capture::CaptureRequest{}, two_layer_spec());
  const auto path = temp_path("reserved.safetensors");
  CHECK_THROWS_WITH(capture::save_capture(path, capture, {{"format_version", "2"}}, {}, {}),
                    Contains("'format_version'"));
  CHECK_FALSE(std::filesystem::exists(path));
}

TEST_CASE("a failed write leaves the target as it was and no temporary file", "[capture][file]") {
  // A directory as the target: the whole file is written under its temporary name, then
  // the rename onto the directory fails.
  const auto dir = temp_path("target-is-a-directory");
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir / "inside");
  capture::Capture capture(capture::CaptureRequest{}, two_layer_spec());
  fill(capture, 4, 0);
  CHECK_THROWS_WITH(capture::save_capture(dir, capture, {}, {}, {}), Contains(dir.string()));
  CHECK(std::filesystem::is_directory(dir / "inside"));
  for (const auto& entry : std::filesystem::directory_iterator(dir.parent_path()))
    CHECK(entry.path().filename().string().rfind(dir.filename().string() + ".tmp", 0) == std::string::npos);
  std::filesystem::remove_all(dir);

  CHECK_THROWS_AS(capture::save_capture("/nonexistent-dir/x.safetensors", capture, {}, {}, {}), Error);
}

TEST_CASE("a capture whose metadata lists heads or token ids out of range is refused, not converted",
          "[capture][file][untrusted]") {
  // nlohmann's get<int> of 1e300 or of -1 is no checked conversion: the reader checks first.
  const auto path = temp_path("valid-ids.safetensors");
  const auto forged = temp_path("forged-ids.safetensors");
  save_small_capture(path);
  for (const char* heads : {"[[0,1e300]]", "[[-1,1]]", "[[0,1],[0,1]]", "[[0,1,2]]", "[[4096,0]]"}) {
    INFO(heads);
    forge(path, forged, {{"heads", heads}}, {});
    CHECK_THROWS_WITH(capture::load_capture(forged), Contains(forged.string()) && Contains("'heads'"));
  }
  for (const char* ids : {"[1.5e300]", "[-3]", "[4294967296]", "{\"a\": 1}"}) {
    INFO(ids);
    forge(path, forged, {{"prompt_ids", ids}}, {});
    CHECK_THROWS_WITH(capture::load_capture(forged), Contains("'prompt_ids' is not a JSON list of token ids"));
  }
  std::filesystem::remove(path);
  std::filesystem::remove(forged);
}

TEST_CASE("a capture whose pooled row counts would overflow their sum is refused naming the tensor",
          "[capture][file][untrusted]") {
  // Found by fuzz/capture_file_fuzz.cpp: the sum of forged counts overflowed int64 (UBSan).
  const auto path = temp_path("valid-pooled.safetensors");
  const auto forged = temp_path("forged-pooled.safetensors");
  save_small_capture(path);
  const int64_t big = int64_t(1) << 62;
  forge(path, forged, {}, {{"layer.0.head.1.pooled_rows", {"I64", {2}, bytes_of(std::vector<int64_t>{big, big})}}});
  CHECK_THROWS_WITH(capture::load_capture(forged),
                    Contains("layer.0.head.1.pooled_rows") && Contains("rows in a block, outside [0, 6]"));
  std::filesystem::remove(path);
  std::filesystem::remove(forged);
}

TEST_CASE("a capture whose rows name a position or top-1 key out of range is refused naming the tensor",
          "[capture][file][untrusted]") {
  // Found by fuzz/capture_file_fuzz.cpp: position - top1 of a forged row overflowed int64 (UBSan).
  const auto path = temp_path("valid-rows.safetensors");
  const auto forged = temp_path("forged-rows.safetensors");
  save_small_capture(path);
  const int64_t huge = std::numeric_limits<int64_t>::max();
  const auto rows = [](std::vector<int64_t> values) { return Replacement{"I64", {6}, bytes_of(std::move(values))}; };
  SECTION("a top-1 key below 0") {
    forge(path, forged, {}, {{"layer.0.head.1.top1", rows({0, 0, -5, 0, 0, 0})}});
    CHECK_THROWS_WITH(capture::load_capture(forged),
                      Contains("layer.0.head.1.top1") && Contains("row 2 (position 2) names key -5, outside [0, 2]"));
  }
  SECTION("a top-1 key after the row's position") {
    forge(path, forged, {}, {{"layer.0.head.1.top1", rows({0, 0, 0, 0, 0, 6})}});
    CHECK_THROWS_WITH(capture::load_capture(forged), Contains("layer.0.head.1.top1") && Contains("names key 6"));
  }
  SECTION("a position no model has") {
    forge(path, forged, {}, {{"layer.0.head.1.positions", rows({0, 1, 2, 3, 4, huge})}});
    CHECK_THROWS_WITH(capture::load_capture(forged), Contains("layer.0.head.1.positions") &&
                                                         Contains("row 5 has position " + std::to_string(huge)));
  }
  SECTION("a negative position") {
    forge(path, forged, {}, {{"layer.0.head.1.positions", rows({-1, 1, 2, 3, 4, 5})}});
    CHECK_THROWS_WITH(capture::load_capture(forged), Contains("row 0 has position -1"));
  }
  std::filesystem::remove(path);
  std::filesystem::remove(forged);
}
