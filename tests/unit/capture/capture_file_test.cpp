// Capture files: what save_capture writes, load_capture reads back exactly; anything
// else is refused with an error naming the file.
#include <catch2/catch.hpp>

#include <filesystem>
#include <random>

#include "analysis/capture/capture_file.h"
#include "analysis/io/safetensors.h"
#include "kernels/error.h"

namespace {

using namespace attnscope;

model::ModelSpec two_layer_spec() {
  model::ModelSpec spec;
  spec.num_layers = 2;
  spec.num_heads = 4;
  spec.num_kv_heads = 2;
  spec.head_dim = 8;
  return spec;
}

// Feeds `rows` random softmax rows (some under a sliding window) to every head.
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
  CHECK(loaded.prompt_ids == prompt);
  CHECK(loaded.continuation_ids == continuation);
  CHECK(loaded.options.pool_block == 4);
  CHECK(loaded.options.sink_tokens == 2);
  CHECK(loaded.options.local_window == 3);
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

TEST_CASE("files that are not captures are refused with the file's name", "[capture][file]") {
  const auto path = temp_path("not-a-capture.safetensors");
  io::write_safetensors(path, {{"x", io::FloatTensor{{2}, {1.0f, 2.0f}}}});
  CHECK_THROWS_WITH(capture::load_capture(path),
                    Catch::Contains(path.string()) && Catch::Contains("not an AttnScope capture"));

  io::write_safetensors(path, {{"x", io::FloatTensor{{1}, {1.0f}}}},
                        {{"format", "attnscope-capture"}, {"format_version", "99"}});
  CHECK_THROWS_WITH(capture::load_capture(path), Catch::Contains("version 99"));

  // A capture whose head list names a head that has no tensors.
  capture::CaptureRequest request;
  request.layers = {0};
  request.heads = {1};
  capture::Capture capture(request, two_layer_spec());
  fill(capture, 6, 0);
  capture::save_capture(path, capture, {}, std::vector<int32_t>{1}, {});
  const auto file = io::SafetensorsFile::open(path);
  io::SafetensorsWriter forged;
  for (const auto& [k, v] : file.metadata()) forged.set_metadata(k, k == "heads" ? "[[0,1],[0,2]]" : v);
  std::vector<std::vector<std::byte>> keep;
  for (const auto& e : file.tensors()) {
    const auto bytes = file.bytes(e.name);
    keep.emplace_back(bytes.begin(), bytes.end());
    forged.add_raw(e.name, e.dtype_name, e.shape, keep.back());
  }
  const auto forged_path = temp_path("forged.safetensors");
  forged.write(forged_path);
  CHECK_THROWS_WITH(capture::load_capture(forged_path),
                    Catch::Contains("layer.0.head.2.sink_mass_sum") && Catch::Contains("missing"));
  std::filesystem::remove(path);
  std::filesystem::remove(forged_path);
}

TEST_CASE("a capture cannot be written where no file can be", "[capture][file]") {
  capture::CaptureRequest request;
  capture::Capture capture(request, two_layer_spec());
  CHECK_THROWS_AS(capture::save_capture("/nonexistent-dir/x.safetensors", capture, {}, {}, {}), Error);
}
