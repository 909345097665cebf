// Room made in a capture's accumulators before a run (Capture::reserve): a run of the
// bundled tiny checkpoint on the CPU backend, prompt chunks then decode steps, fills
// every record where it was made, without moving it; refusals.
#include <catch2/catch.hpp>

#include <filesystem>

#include "analysis/capture/capture.h"
#include "analysis/model/checkpoint.h"
#include "analysis/runtime/transformer.h"
#include "kernels/cpu/cpu_backend.h"
#include "kernels/error.h"
#include "tests/unit/capture/capture_request_support.h"

using namespace attnscope;
using Catch::Contains;

namespace {

// 2 layers, 4 query heads over 1 KV head, head_dim 16, vocabulary 512 (sample_data/README.md).
const std::filesystem::path kTiny = std::filesystem::path(ATTNSCOPE_SAMPLE_DATA_DIR) / "tiny-random-llama";

// Where each record of a head lives.
std::vector<const void*> record_addresses(const kernels::HeadAccumulator& h) {
  return {h.positions.data(), h.top1.data(),          h.row_entropy.data(),         h.column_sums.data(),
          h.diagonal_sums.data(), h.pooled.sums.data(), h.pooled.rows_in_block.data(), h.exact.data()};
}

}  // namespace

TEST_CASE("a capture with room for its rows fills its records without moving them", "[capture][reserve]") {
  const auto checkpoint = model::Checkpoint::open(kTiny);
  auto backend = kernels::make_cpu_backend(1);
  runtime::Transformer model(checkpoint, *backend, 128);
  capture::CaptureRequest request;
  request.options.pool_block = 8;
  request.options.exact_probabilities = true;
  request.options.exact_limit = 40;  // exact rows for part of the run only
  capture::Capture capture(request, checkpoint.spec());
  const int64_t prompt = 60, steps = 12;
  capture.reserve(prompt + steps);
  std::vector<std::vector<const void*>> before;
  for (const auto& h : capture.heads()) before.push_back(record_addresses(h));

  std::vector<int32_t> ids(static_cast<size_t>(prompt));
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = int32_t(3 + (i * 37) % 500);
  for (int64_t begin = 0; begin < prompt; begin += 16)
    model.forward(std::span<const int32_t>(ids).subspan(size_t(begin), size_t(std::min<int64_t>(16, prompt - begin))),
                  &capture, runtime::Logits::None);
  for (int64_t s = 0; s < steps; ++s) {
    const int32_t next = int32_t(3 + s);
    model.forward(std::span<const int32_t>(&next, 1), &capture, runtime::Logits::LastRow);
  }
  capture.finish();
  for (size_t i = 0; i < capture.heads().size(); ++i) {
    const auto& h = capture.heads()[i];
    INFO("layer " << h.layer << " head " << h.head);
    CHECK(h.rows == prompt + steps);
    CHECK(h.pooled.sums.size() == 9);  // 72 rows in blocks of 8
    CHECK(h.exact_rows == 40);
    CHECK(record_addresses(h) == before[i]);  // every record filled in place
  }
}

TEST_CASE("room for a negative number of rows is refused", "[capture][reserve]") {
  capture::Capture capture(testing::request({}, {}), testing::spec(2, 2));
  CHECK_THROWS_WITH(capture.reserve(-1), Contains("-1 rows"));
}
